// Package store is the gateway's durable state, described without its
// database: the records (input files, documents with their append-only
// histories, deliveries and batches, the recipient registry, payment
// collection), the transactions that read and write them, one interface
// per aggregate, and the rules every backend keeps. It holds no I/O; the
// bbolt backend is store/bolt, and a PostgreSQL one is to implement the
// same interfaces.
//
// Each part of the daemon names the aggregates it uses in its own
// interfaces and function signatures (route reads the registry and the
// documents, deliver the queue, upkeep the removals), so a change to one
// aggregate shows which parts it reaches.
//
// Every state change is applied in one transaction. Many changes may share
// a transaction (group commit): a bbolt commit costs an fsync, ~1 ms, so
// one commit per invoice would cap the gateway near 1,200 invoices a
// second.
//
// Records are stored as JSON, with the field names they have always had:
// a backend may read a record written by an older version, and
// Collection's UnmarshalJSON reads the payment states of records from
// before them. They are not what the HTTP API or a receipt shows: those
// have their own types (package api), made from these by the parts that
// show them.
package store

import (
	"github.com/multikanal/multikanal/gateway/errkind"
)

// ErrNotFound is returned when a record does not exist; its kind is
// errkind.NotFound.
var ErrNotFound = errkind.New(errkind.NotFound, "not found")

// Store is the durable state of the gateway.
type Store interface {
	// View runs fn in a read-only transaction: it sees one consistent
	// state, and holds it while it runs (keep it short: a long read holds
	// back what the backend must reclaim; use the Scan methods to read
	// many documents).
	View(fn func(Tx) error) error

	// Update runs fn in a read-write transaction; fn's changes are
	// committed together or not at all, and are durable when Update
	// returns nil.
	//
	// The commit invariant: an Update function may run twice, so it must
	// not have effects outside the transaction. Concurrent Updates share
	// one commit (group commit), and when the shared commit fails each
	// function is run again alone, so that one bad change cannot undo the
	// others. So fn sends on no channel, counts no metric, queues no work,
	// touches no file, and leaves nothing in the caller's variables that a
	// first run could have left wrong: it sets them afresh at its start
	// (the pattern `queued = queued[:0]` at the top of fn). What follows
	// from the change (a metric, a log line, work handed to a worker, a
	// receipt marked for rewriting) is done after Update returns nil.
	Update(fn func(Tx) error) error

	DocScanner
	UpkeepStore

	// Backup writes a consistent copy of the whole store to path,
	// durably.
	Backup(path string) error
	// Size is the store's size on disk in bytes.
	Size() int64
	// Close stops the store. Updates still waiting fail; callers stop
	// issuing them before Close.
	Close() error
}

// DocScanner reads many documents in short transactions of a few thousand
// each: a scan of a million documents must not hold one transaction open
// for its whole length (bbolt can grow its memory map only when none is
// open, so every commit would wait for the scan). The documents are not
// one snapshot: each is as it was when its part was read. An error from
// fn ends a scan and is returned.
type DocScanner interface {
	// ScanFileDocs calls fn for every document of a file, in file order.
	ScanFileDocs(fileID string, fn func(*Doc) error) error
	// ScanDocsNewestFirst calls fn for every document of every file, the
	// newest first (the last document of the last file first).
	ScanDocsNewestFirst(fn func(*Doc) error) error
	// ScanFileDocsAfter is ScanFileDocs starting after the document after,
	// and ScanDocsBefore is ScanDocsNewestFirst starting after (older than)
	// the document before: the cursors a listing pages on. An empty
	// cursor starts at the beginning.
	ScanFileDocsAfter(fileID, after string, fn func(*Doc) error) error
	ScanDocsBefore(before string, fn func(*Doc) error) error
}

// Tx is what a transaction can read and write: every aggregate. A part
// that uses only some of them takes those (a store.RegistryTx, say) where
// it can, so its needs are written in its signatures.
type Tx interface {
	FileTx
	DocTx
	QueueTx
	RegistryTx
	CollectionTx
	UpkeepTx
	DunningTx
	EventLogTx
	OverviewTx
}
