-- The counters of the tenants' distribution overviews (store.OverviewTx,
-- store.OverviewChange), kept by PutDoc so that an overview reads a
-- tenant's counters instead of every document. As counts, each node adds
-- to rows of its own and a counter is the sum; the migration's Go step
-- (migrate_steps.go) counts the documents a database of version 2 holds
-- under the node ''.

-- Delivered documents with a channel, per month of their arrival
-- ("2006-01"), channel, and whether they are reminders.
CREATE TABLE overview_sent (
	tenant   text NOT NULL,
	month    text NOT NULL,
	channel  text NOT NULL,
	reminder boolean NOT NULL,
	node     text NOT NULL,
	n        bigint NOT NULL,
	PRIMARY KEY (tenant, month, channel, reminder, node)
);

-- Delivered invoices per life state (store.Doc.Life).
CREATE TABLE overview_life (
	tenant text NOT NULL,
	life   text NOT NULL,
	node   text NOT NULL,
	n      bigint NOT NULL,
	PRIMARY KEY (tenant, life, node)
);
