// Package intake takes files in: it watches the tenants' inboxes (and
// takes the SFTP server's hand-off of what it landed, with its hash),
// claims each complete file into the spool under its id, recorded before
// it moves, and reads the claimed files, the tenants in turn and each
// tenant's files in arrival order: a file of invoices is parsed, each
// document routed (package route) and recorded with its first delivery,
// which it hands to the delivery part; a file of another kind (a
// registration file, a bank's file or report) goes to the Applier that
// knows it. Every file that arrives ends in a recorded state, with its
// reason, and a receipt.
//
// It does not send (package deliver) or write receipts (package
// receipts): it tells them what it recorded.
package intake

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/gateway/store"
)

// Store is what intake reads and writes: files, documents and their first
// deliveries, in transactions of its own; and the keyed hash that a
// document's recipient keys are kept as.
type Store interface {
	View(fn func(store.Tx) error) error
	Update(fn func(store.Tx) error) error
	HashKey(k store.RecipientKey) string
}

// Delivery is what intake hands the delivery part: each recorded delivery,
// and the end of a file, at which batch channels that cut per file cut.
type Delivery interface {
	Enqueue(dl *store.Delivery)
	CutoffEndOfFile(tenant string)
}

// Receipts is told which input files' receipts a change made out of date.
type Receipts interface{ Touch(fileID string) }

// Metrics counts what intake does, after each commit.
type Metrics interface {
	FileReceived(tenant string)
	// FileRejected counts a file rejected whole; class is one of the
	// metrics.Reject classes.
	FileRejected(tenant, class string)
	DocumentState(channel string, state store.DocState)
}

// An Applier applies a kind of file that is not invoices, dropped into a
// tenant's inbox: Sniff tells it by its first bytes; Apply applies it whole
// and records the file applied in the same transaction, or applies nothing
// and says why, which intake records as the file's rejection.
type Applier interface {
	Sniff(head []byte) bool
	Apply(rec *store.File, r io.ReaderAt) error
}

// Options are intake's dependencies.
type Options struct {
	Store Store
	// SpoolDir holds the claimed files, by id.
	SpoolDir string
	// Payloads, where nodes share a store, keeps the claimed files where
	// every node reads them: a file is stored there before it counts as
	// received, and leaves SpoolDir then. nil with one node.
	Payloads store.Payloads
	// Inboxes are the tenants' inbox folders at start, folder -> tenant;
	// a reload hands the watcher new ones (Rewatch).
	Inboxes map[string]string
	// Settle and Scan are inbox.settle_time and inbox.scan_interval.
	Settle, Scan time.Duration
	// Tenant is a configured tenant's configuration; ok is false for one
	// that is not configured (any more).
	Tenant func(id string) (config.Tenant, bool)
	// Readers are the input formats, asked in order to recognise a file
	// (they depend on the configuration in force: Readers of it);
	// Appliers the other kinds of file, asked before them.
	Readers  func() []formats.Reader
	Appliers []Applier
	// Channels are the gateway's channels, for routing.
	Channels route.Channels
	// Prefetch, when set, asks the outside about a chunk of documents
	// before their routing transaction, which must not wait on the
	// network (Kivra's usermatch).
	Prefetch func(ctx context.Context, tenant string, items []formats.Item)
	// OverQuota says why new files are refused, or "".
	OverQuota func() string
	Delivery  Delivery
	Receipts  Receipts
	Metrics   Metrics
	Log       *slog.Logger
}

// Intake is the inbox watcher, the claim and the readers of claimed files.
type Intake struct {
	Options
	queue   *ingestQueue
	uploads uploadHashes
	watcher *watcher
	// recording counts store changes made without waiting for them
	// (rejectFile); Wait waits for them.
	recording sync.WaitGroup
}

// New is intake with its dependencies.
func New(o Options) *Intake {
	in := &Intake{Options: o, queue: newIngestQueue()}
	in.watcher = newWatcher(in)
	return in
}

// Watch runs the inbox watcher until ctx ends, calling ready once the
// inboxes are watched and scanned. It returns an error only if the watcher
// cannot be set up at all.
func (in *Intake) Watch(ctx context.Context, ready func()) error { return in.watcher.run(ctx, ready) }

// Rewatch hands the watcher a new set of inboxes after a reload.
func (in *Intake) Rewatch(dirs map[string]string) { in.watcher.watch(dirs) }

// Uploaded takes the SFTP server's word on a file it landed in an inbox
// (sftpd.Options.Uploaded): its hash, and its session's pace.
func (in *Intake) Uploaded(up sftpd.Upload) { in.uploads.add(up) }

// Wait waits for the rejections recorded in the background.
func (in *Intake) Wait() { in.recording.Wait() }

// Read parses claimed files with ingestReaders readers, the tenants in
// turn and each tenant's files one at a time in arrival order
// (ingestQueue), until ctx ends.
func (in *Intake) Read(ctx context.Context) {
	var readers sync.WaitGroup
	for range ingestReaders() {
		readers.Go(func() {
			for {
				tenant, id, ok := in.queue.pop(ctx)
				if !ok {
					return
				}
				in.ingest(ctx, id)
				in.queue.done(tenant)
			}
		})
	}
	readers.Wait()
}

// Resume resumes what a stop or crash interrupted: claims half done, files
// not yet parsed, receipts not yet final.
func (in *Intake) Resume() error {
	var files []*store.File
	err := in.Store.View(func(tx store.Tx) error {
		return tx.ForEachOpenFile(func(f *store.File) error {
			files = append(files, f)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("reading the store: %w", err)
	}
	in.ResumeFiles(files)
	return nil
}

// ResumeFiles resumes the claims and reading of open files, and marks
// their receipts: at start, or the files of another node taken over.
func (in *Intake) ResumeFiles(files []*store.File) {
	for _, f := range files {
		switch f.State {
		case store.FileClaimed:
			if err := in.moveToSpool(f); err != nil {
				in.Log.Error("resuming a claim failed", "file", f.ID, "err", err)
			}
		case store.FileReceived:
			in.Log.Info("resuming file", "tenant", f.Tenant, "file", f.ID, "name", f.Name)
			in.queue.push(f.Tenant, f.ID)
		default:
			in.Receipts.Touch(f.ID)
		}
	}
}
