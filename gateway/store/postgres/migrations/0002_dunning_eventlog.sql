-- Reminders and the ERP's event log (store.DunningTx, store.EventLogTx).

-- The dunning index: each invoice a reminder may be due for, under the
-- date its last step fell due (store.Doc.DunningDate). PutDoc keeps it; a
-- document is in it at most once. The documents a database of version 1
-- holds are indexed by the migration's Go step (migrate.go).
CREATE TABLE dunning (
	doc_id text COLLATE "C" PRIMARY KEY,
	tenant text NOT NULL,
	due    date NOT NULL
);
CREATE INDEX dunning_due ON dunning (tenant, due, doc_id);

-- The last day each tenant's reminders were made.
CREATE TABLE dunning_runs (
	tenant text PRIMARY KEY,
	day    date NOT NULL
);

-- The ERP's event log. seq comes from one sequence, so it grows with
-- every event of every tenant, as in bbolt; a transaction takes it only
-- at its end, under its tenant's advisory lock held to the commit, so
-- within a tenant the events commit in the order of their seq and a
-- reader that saw seq n has seen every smaller seq of the tenant (a
-- webhook's cursor never skips an event committed late).
CREATE SEQUENCE erp_event_seq;
CREATE TABLE erp_events (
	tenant text NOT NULL,
	seq    bigint NOT NULL,
	at     timestamptz NOT NULL,
	rec    json NOT NULL,
	PRIMARY KEY (tenant, seq)
);

-- The last event each tenant's webhook is done with.
CREATE TABLE erp_hooks (
	tenant text PRIMARY KEY,
	seq    bigint NOT NULL
);
