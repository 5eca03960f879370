-- The gateway's store: one table per record kind of package store, keyed
-- as the bbolt backend's buckets are (text keys in byte order, COLLATE
-- "C", so ids sort as they do there). Records are the JSON of package
-- store, in json columns (not jsonb: json keeps any string bbolt keeps,
-- \u0000 included); the columns beside a record are what an index needs.

CREATE TABLE meta (
	key   text PRIMARY KEY,
	value bytea NOT NULL
);

CREATE SEQUENCE file_ids;
CREATE SEQUENCE registration_ids;
CREATE SEQUENCE mandate_ids;

-- Input files. owner is the node that claimed the file: its inbox and
-- its spool hold the bytes until they are stored here (payloads).
CREATE TABLE files (
	id     text COLLATE "C" PRIMARY KEY,
	tenant text NOT NULL,
	state  text NOT NULL,
	final  boolean NOT NULL,
	owner  text,
	rec    json NOT NULL
);
CREATE INDEX files_open ON files (id) WHERE NOT final;
CREATE INDEX files_owner ON files (owner) WHERE NOT final;

CREATE TABLE file_hashes (
	tenant  text NOT NULL,
	sha256  text NOT NULL,
	file_id text NOT NULL,
	PRIMARY KEY (tenant, sha256)
);

-- The bytes of input files, in chunks, so that every node reads them.
CREATE TABLE payloads (
	file_id text COLLATE "C" NOT NULL,
	seq     integer NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (file_id, seq)
);

CREATE TABLE docs (
	id        text COLLATE "C" PRIMARY KEY,
	attention boolean NOT NULL,
	rec       json NOT NULL
);
CREATE INDEX docs_attention ON docs (id) WHERE attention;

CREATE TABLE bodies (
	doc_id text COLLATE "C" PRIMARY KEY,
	body   json NOT NULL
);

CREATE TABLE events (
	doc_id text COLLATE "C" NOT NULL,
	seq    integer NOT NULL,
	rec    json NOT NULL,
	PRIMARY KEY (doc_id, seq)
);

-- Deliveries. pending: not at an end (or awaiting a confirmation), what a
-- restart reloads; unbatched: waiting for a batch channel's cut-off;
-- awaits: delivered, waiting for a confirmation or an opening; owner: the
-- node that wrote it last, which has it in its queue (or, for one that
-- awaits, the node that sent it, which holds its deadline).
CREATE TABLE deliveries (
	id        text COLLATE "C" PRIMARY KEY,
	pending   boolean NOT NULL,
	unbatched boolean NOT NULL,
	awaits    boolean NOT NULL,
	owner     text,
	rec       json NOT NULL
);
CREATE INDEX deliveries_pending ON deliveries (id) WHERE pending;
CREATE INDEX deliveries_unbatched ON deliveries (id) WHERE unbatched;
CREATE INDEX deliveries_owner ON deliveries (owner) WHERE pending;

CREATE TABLE batches (
	id    text COLLATE "C" PRIMARY KEY,
	open  boolean NOT NULL,
	owner text,
	rec   json NOT NULL
);
CREATE INDEX batches_owner ON batches (owner) WHERE open;

-- Counts per state: documents (a = state, b = channel), files (a =
-- state) and payments (a = state). Each node adds to rows of its own, so
-- nodes never wait for one another on a count; a count is the sum.
CREATE TABLE counts (
	node text NOT NULL,
	kind text NOT NULL,
	a    text NOT NULL,
	b    text NOT NULL,
	n    bigint NOT NULL,
	PRIMARY KEY (node, kind, a, b)
);

CREATE TABLE registrations (
	tenant text NOT NULL,
	id     text COLLATE "C" NOT NULL,
	rec    json NOT NULL,
	PRIMARY KEY (tenant, id)
);

CREATE TABLE registration_keys (
	tenant text NOT NULL,
	key    text NOT NULL,
	id     text COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant, key, id)
);

CREATE TABLE collection_refs (
	tenant text NOT NULL,
	payer  text COLLATE "C" NOT NULL,
	ref    text COLLATE "C" NOT NULL,
	doc_id text NOT NULL,
	PRIMARY KEY (tenant, payer, ref)
);

CREATE TABLE number_refs (
	tenant text NOT NULL,
	number text NOT NULL,
	doc_id text NOT NULL,
	PRIMARY KEY (tenant, number)
);

CREATE TABLE payment_refs (
	tenant text NOT NULL,
	ref    text NOT NULL,
	doc_id text NOT NULL,
	PRIMARY KEY (tenant, ref)
);

CREATE TABLE doc_keys (
	tenant text NOT NULL,
	seller text NOT NULL,
	kind   text NOT NULL,
	number text NOT NULL,
	doc_id text NOT NULL,
	PRIMARY KEY (tenant, seller, kind, number)
);

CREATE TABLE mandate_orders (
	tenant text COLLATE "C" NOT NULL,
	id     text COLLATE "C" NOT NULL,
	rec    json NOT NULL,
	PRIMARY KEY (tenant, id)
);

-- The nodes of a cluster. A node's incarnation (fence) is fixed when it
-- starts; a node that takes another's work over sets taken_over, and
-- every later transaction of the old incarnation fails. Its lease is a
-- row of its own, so that renewing it never touches what transactions
-- lock.
CREATE SEQUENCE node_fences;
CREATE TABLE nodes (
	id         text PRIMARY KEY,
	fence      bigint NOT NULL,
	taken_over boolean NOT NULL DEFAULT false,
	started    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE node_leases (
	id    text PRIMARY KEY,
	fence bigint NOT NULL,
	until timestamptz NOT NULL
);

-- Tenants whose batches a node asks the leader to cut (the end of an
-- input file on a channel that cuts at each file's end).
CREATE TABLE cut_requests (
	tenant text PRIMARY KEY
);

-- Every transaction of a node starts with this: it fails (SQLSTATE
-- MK001) once another node took the node's work over, and holds the
-- node's row until the commit, so a takeover waits for the transactions
-- that passed it.
CREATE FUNCTION multikanal_fence(node text, incarnation bigint) RETURNS void AS $$
BEGIN
	PERFORM 1 FROM nodes WHERE id = node AND fence = incarnation AND NOT taken_over FOR SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'node % (incarnation %) was taken over by another node', node, incarnation USING ERRCODE = 'MK001';
	END IF;
END
$$ LANGUAGE plpgsql;
