// Package upkeep keeps the store and the data directory from growing for
// ever, and gives a person's data back on request: retention (what a file
// keeps once final, and for how long: docs/retention.md), erasure (GDPR
// art. 17, within what Bokföringslagen requires the biller to keep), the
// store's quota and its online compaction. It runs one of them at a time.
//
// It removes only what is done: a file with work ahead is never touched,
// and the indexes the other parts depend on are never payload.
package upkeep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
)

// Retention (docs/retention.md has the decisions and the law). Once a
// file's receipt is final, each of the file's parts has its time:
//
//   - payloads (bodies, histories, delivery records, spool-transport
//     outputs): retention.payloads after final; each document keeps a
//     summary (store.Doc.Summarise);
//   - the input file in spool/: with archive = "input" the biller's
//     archive copy until the archive period ends; otherwise it goes with
//     the payloads; a rejected or duplicate file after rejected_files;
//   - the receipt in the tenant's receipts folder: after receipts;
//   - the summaries: anonymised when the archive period ends (at once with
//     archive = "none").
//
// The upkeep goroutine sweeps at start and every store.sweep_interval, in
// transactions of a few hundred documents, and compacts the store after a
// sweep that left much of it free.

// sweepChunk is how many documents one transaction of a sweep changes, and
// sweepFiles how many file records one read of the sweep decodes.
const (
	sweepChunk = 256
	sweepFiles = 1000
)

// autoCompactFree is the least free space (and at least half the file)
// that makes a sweep compact the store when store.auto_compact is on.
const autoCompactFree = 64 << 20

// Store is what upkeep reads and removes: files, documents, deliveries and
// batches, the registry and the mandate orders (erasure), in short
// transactions; and the store's own upkeep (its pseudonym key, its size,
// compaction).
type Store interface {
	View(fn func(store.Tx) error) error
	Update(fn func(store.Tx) error) error
	store.DocScanner
	store.UpkeepStore
	Size() int64
}

// Receipts is what upkeep asks of the receipt writer: where a file's
// receipt is (to remove it), and which files' receipts changed.
type Receipts interface {
	Path(f *store.File) string
	Touch(fileID string)
}

// Options are upkeep's dependencies.
type Options struct {
	Store Store
	// DataDir holds spool/ (the claimed input files), outbox/ (the spool
	// transport's output, which upkeep may remove) and audit.log.
	DataDir string
	// Payloads holds the claimed input files where nodes share a store
	// (nil with one node: they are in spool/).
	Payloads store.Payloads
	// Config is the configuration in force (retention, the quota, the
	// sweep interval), read at every use.
	Config func() *config.Config
	// Tenant is a configured tenant's configuration; ok is false for one
	// that is not configured.
	Tenant     func(id string) (config.Tenant, bool)
	Receipts   Receipts
	Registerer prometheus.Registerer
	Log        *slog.Logger
}

// Upkeep runs retention, erasure and compaction, one at a time, and counts
// what they removed.
type Upkeep struct {
	Options
	mu          sync.Mutex // one sweep, compaction or erasure at a time
	lastSweep   atomic.Pointer[api.SweepReport]
	lastCompact atomic.Pointer[api.CompactReport]

	removed      *prometheus.CounterVec
	removedBytes *prometheus.CounterVec
	sweeps       prometheus.Counter
	sweepSeconds prometheus.Gauge
	compactions  *prometheus.CounterVec
	compactLast  *prometheus.GaugeVec
	erasures     *prometheus.CounterVec
}

// New prepares upkeep and registers its metrics; Run runs it.
func New(o Options) *Upkeep {
	u := &Upkeep{Options: o,
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multikanal_retention_removed_total",
			Help: "What retention and erasure removed: documents summarised or anonymised; bodies, events, deliveries from the store; input, outbox and receipt files."}, []string{"what"}),
		removedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multikanal_retention_removed_bytes_total",
			Help: "Bytes retention and erasure removed: store values, input, outbox and receipt files."}, []string{"what"}),
		sweeps: prometheus.NewCounter(prometheus.CounterOpts{Name: "multikanal_retention_sweeps_total",
			Help: "Retention sweeps run."}),
		sweepSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Name: "multikanal_retention_last_sweep_seconds",
			Help: "How long the last retention sweep took."}),
		compactions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multikanal_store_compactions_total",
			Help: "Store compactions, by outcome (ok, failed) and cause (auto, api)."}, []string{"outcome", "cause"}),
		compactLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "multikanal_store_last_compaction",
			Help: "The last compaction: bytes_before, bytes_after, seconds, writes_paused_seconds."}, []string{"what"}),
		erasures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multikanal_erasures_total",
			Help: "Erasures of a person's data (multikanal erase), by tenant; dry runs are not counted."}, []string{"tenant"}),
	}
	quota := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "multikanal_store_max_size_bytes",
		Help: "The store quota (store.max_size); 0 when off."}, func() float64 { return float64(o.Config().Store.MaxSize) })
	over := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "multikanal_store_over_quota",
		Help: "1 while state.db is above store.max_size and new input files are refused."}, func() float64 {
		if u.OverQuota() != "" {
			return 1
		}
		return 0
	})
	free := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "multikanal_store_free_bytes",
		Help: "Space in state.db holding no data: what a compaction would give back."}, func() float64 { return float64(o.Store.FreeBytes()) })
	o.Registerer.MustRegister(u.removed, u.removedBytes, u.sweeps, u.sweepSeconds, u.compactions, u.compactLast, u.erasures, quota, over, free)
	return u
}

// Run sweeps at start and every store.sweep_interval until ctx ends.
func (u *Upkeep) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		rep := u.Sweep(ctx, time.Now().UTC())
		if rep.Error != "" && ctx.Err() == nil {
			u.Log.Error("retention sweep failed; it runs again at the next interval", "err", rep.Error)
		}
		timer.Reset(u.Config().Store.SweepInterval.D())
	}
}

// Sweep applies retention as of now and compacts after it when that pays.
func (u *Upkeep) Sweep(ctx context.Context, now time.Time) *api.SweepReport {
	u.mu.Lock()
	rep := &api.SweepReport{Started: time.Now().UTC()}
	err := u.sweepFiles(ctx, now, rep)
	if err == nil {
		err = u.sweepBatches(ctx, now, rep)
	}
	if err != nil {
		rep.Error = err.Error()
	}
	took := time.Since(rep.Started)
	rep.Took = took.Round(time.Millisecond).String()
	u.sweeps.Inc()
	u.sweepSeconds.Set(took.Seconds())
	u.count(rep)
	if rep.Summarised+rep.Anonymised+rep.InputFiles+rep.OutboxFiles+rep.Receipts > 0 {
		u.Log.Info("retention sweep", "files", rep.Files, "summarised", rep.Summarised, "anonymised", rep.Anonymised,
			"store_bytes", rep.Store.Bytes, "input_files", rep.InputFiles, "outbox_files", rep.OutboxFiles, "receipts", rep.Receipts, "took", rep.Took)
	}
	u.mu.Unlock()
	if cfg := u.Config().Store; err == nil && ctx.Err() == nil && cfg.AutoCompact {
		size, free := u.Store.Size(), u.Store.FreeBytes()
		if free >= autoCompactFree && free >= size/2 {
			c, _ := u.Compact("auto")
			rep.Compaction = c
		}
	}
	u.lastSweep.Store(rep)
	return rep
}

func (u *Upkeep) count(rep *api.SweepReport) {
	for what, n := range map[string]int{"documents_summarised": rep.Summarised, "documents_anonymised": rep.Anonymised,
		"bodies": rep.Store.Bodies, "events": rep.Store.Events, "deliveries": rep.Store.Deliveries,
		"input_files": rep.InputFiles, "outbox_files": rep.OutboxFiles, "receipts": rep.Receipts} {
		if n > 0 {
			u.removed.WithLabelValues(what).Add(float64(n))
		}
	}
	for what, n := range map[string]int64{"store": rep.Store.Bytes, "input_files": rep.InputBytes, "outbox_files": rep.OutboxBytes} {
		if n > 0 {
			u.removedBytes.WithLabelValues(what).Add(float64(n))
		}
	}
}

// sweepFiles reads the file records a part at a time and applies to each
// final file the steps whose time has come.
func (u *Upkeep) sweepFiles(ctx context.Context, now time.Time, rep *api.SweepReport) error {
	after := ""
	for {
		var files []*store.File
		err := u.Store.View(func(tx store.Tx) error {
			return tx.ForEachFileAfter(after, func(f *store.File) error {
				files = append(files, f)
				if len(files) == sweepFiles {
					return errEnough
				}
				return nil
			})
		})
		if err != nil && !errors.Is(err, errEnough) {
			return err
		}
		cfg := u.Config()
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			rep.Files++
			if err := u.sweepFile(ctx, f, cfg.RetentionFor(f.Tenant), now, rep); err != nil {
				return fmt.Errorf("file %s: %w", f.ID, err)
			}
		}
		if len(files) < sweepFiles {
			return nil
		}
		after = files[len(files)-1].ID
	}
}

// sweepFile applies the steps due for one file and records them on it.
func (u *Upkeep) sweepFile(ctx context.Context, f *store.File, r config.Retention, now time.Time, rep *api.SweepReport) error {
	if !f.Final {
		return nil // never touch a file with work ahead
	}
	finalAt := f.FinalAt
	if finalAt.IsZero() {
		finalAt = f.ReceivedAt
	}
	due := func(after config.Duration) bool { return !now.Before(finalAt.Add(after.D())) }
	archiveOver := r.Archive == config.ArchiveNone || !now.Before(r.ArchiveUntil(f.ReceivedAt))
	done := *f // the steps done, recorded at the end when changed
	changed := false

	if f.State == store.FileParsed {
		if done.PayloadsRemoved.IsZero() && due(r.Payloads) || !done.PayloadsRemoved.IsZero() && done.ArchiveEnded.IsZero() && archiveOver {
			anonymise := archiveOver
			left, err := u.summariseDocs(ctx, f.ID, anonymise, now, rep)
			if err != nil {
				return err
			}
			if left == 0 {
				done.PayloadsRemoved, changed = orNow(done.PayloadsRemoved, now), true
				if anonymise {
					done.ArchiveEnded = now
				}
			}
		}
	}

	var inputDue bool
	switch f.State {
	case store.FileRejected, store.FileDuplicate:
		inputDue = due(r.RejectedFiles)
	case store.FileApplied:
		inputDue = due(r.Payloads)
	case store.FileParsed:
		if r.Archive == config.ArchiveInput {
			inputDue = archiveOver && !done.ArchiveEnded.IsZero()
		} else {
			inputDue = !done.PayloadsRemoved.IsZero()
		}
	}
	if inputDue && done.InputRemoved.IsZero() {
		n, err := u.removeInput(f.ID)
		if err != nil {
			return err
		}
		if n >= 0 {
			rep.InputFiles++
			rep.InputBytes += n
		}
		done.InputRemoved, changed = now, true
	}

	if done.ReceiptRemoved.IsZero() && due(r.Receipts) {
		// Only this file's receipt: a later file of the same name has its own.
		if path := u.Receipts.Path(f); path != "" {
			if _, err := removeFile(path); err != nil {
				return err
			}
			rep.Receipts++
		}
		done.ReceiptRemoved, changed = now, true
	}

	if !changed {
		return nil
	}
	return u.Store.Update(func(tx store.Tx) error {
		cur, err := tx.File(f.ID)
		if err != nil {
			return err
		}
		cur.InputRemoved, cur.PayloadsRemoved = done.InputRemoved, done.PayloadsRemoved
		cur.ReceiptRemoved, cur.ArchiveEnded = done.ReceiptRemoved, done.ArchiveEnded
		return tx.PutFile(cur)
	})
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// summariseDocs removes the payload of every document of a file and keeps
// its summary (and anonymises the summary too, with anonymise), a chunk of
// documents per transaction. Output files of the spool transport go first,
// then the records: a crash between the two finds the records still there
// and removes them at the next sweep. It returns how many documents it had
// to leave because they have work again.
func (u *Upkeep) summariseDocs(ctx context.Context, fileID string, anonymise bool, now time.Time, rep *api.SweepReport) (left int, err error) {
	var ids []string
	err = u.Store.ScanFileDocs(fileID, func(doc *store.Doc) error {
		if doc.Summarised.IsZero() || anonymise && doc.Anonymised.IsZero() {
			ids = append(ids, doc.ID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for len(ids) > 0 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		chunk := ids[:min(sweepChunk, len(ids))]
		ids = ids[len(chunk):]
		// The outputs are found before the records that name them go: a
		// read that fails stops the sweep, or the files would stay in the
		// outbox with nothing left to name them.
		var outputs []string
		err := u.Store.View(func(tx store.Tx) error {
			for _, id := range chunk {
				doc, err := tx.Doc(id)
				if err != nil {
					return err
				}
				if doc.Summarised.IsZero() {
					out, err := u.docOutputs(tx, doc)
					if err != nil {
						return err
					}
					outputs = append(outputs, out...)
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("finding the outbox files of file %s: %w", fileID, err)
		}
		for _, path := range outputs {
			n, err := removeFile(path)
			if err != nil {
				return 0, err
			}
			if n >= 0 {
				rep.OutboxFiles++
				rep.OutboxBytes += n
			}
		}
		var removed store.Removed
		var summarised, anonymised, notFinal int
		err = u.Store.Update(func(tx store.Tx) error {
			removed, summarised, anonymised, notFinal = store.Removed{}, 0, 0, 0
			for _, id := range chunk {
				doc, err := tx.Doc(id)
				if err != nil {
					return err
				}
				if doc.Summarised.IsZero() {
					if len(doc.Keys) == 0 {
						if body, err := tx.Body(id); err == nil {
							doc.Keys = registry.Pseudonyms(u.Store.HashKey, body, now)
						}
					}
					rm, err := tx.RemovePayload(doc)
					if errors.Is(err, store.ErrNotFinal) {
						notFinal++
						continue
					}
					if err != nil {
						return err
					}
					removed.Add(rm)
					doc.Summarise(now)
					summarised++
				}
				if anonymise && doc.Anonymised.IsZero() {
					if err := u.forgetCollection(tx, doc); err != nil {
						return err
					}
					doc.Anonymise(now)
					anonymised++
				}
				if err := tx.PutDoc(doc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		addRemoved(&rep.Store, removed)
		rep.Summarised += summarised
		rep.Anonymised += anonymised
		rep.NotFinal += notFinal
		left += notFinal
	}
	return left, nil
}

// forgetCollection removes the payment references that name doc: they
// hold the payer's number, and no payment is matched to a document whose
// summary is anonymised.
func (u *Upkeep) forgetCollection(tx store.Tx, doc *store.Doc) error {
	if doc.Collection == nil || doc.Collection.Payer == "" {
		return nil
	}
	_, err := tx.RemoveCollectionRefs(doc.Tenant, route.PayerKey(doc.Collection.Payer), doc.ID)
	return err
}

// docOutputs are the files the spool transport wrote for a document alone
// (a batch file holds others too: sweepBatches removes it). A delivery
// that cannot be read is an error: its file would be missed.
func (u *Upkeep) docOutputs(tx store.Tx, doc *store.Doc) ([]string, error) {
	var out []string
	for _, ch := range channelsOf(doc) {
		for _, id := range doc.DeliveryIDs(ch) { // the first send and every resend
			dl, err := tx.Delivery(id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("delivery %s: %w", id, err)
			}
			if dl.Batched || dl.State != store.DeliveryDelivered {
				continue
			}
			if u.inOutbox(dl.Ref) {
				out = append(out, dl.Ref)
			}
		}
	}
	return out, nil
}

// channelsOf are the channels a document may have deliveries on, each
// once: the one it rests on, those of its route, and the collection
// channel of its payment (a direct debit's method is that channel's name).
func channelsOf(doc *store.Doc) []string {
	channels := []string{doc.Channel}
	if c := doc.Collection; c != nil && formats.PayMethod(c.Method).DirectDebit() {
		channels = append(channels, c.Method)
	}
	for _, step := range doc.Route {
		channels = append(channels, step.Channel)
	}
	var out []string
	for _, ch := range channels {
		if ch != "" && !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	return out
}

// inOutbox reports whether path is a file the spool transport wrote: only
// those are the gateway's to remove.
func (u *Upkeep) inOutbox(path string) bool {
	rel, err := filepath.Rel(filepath.Join(u.DataDir, "outbox"), path)
	return err == nil && filepath.IsAbs(path) && rel != "." && !strings.HasPrefix(rel, "..")
}

// sweepBatches removes the batch files of the spool transport once the
// batch is done and its tenant's payload time has passed.
func (u *Upkeep) sweepBatches(ctx context.Context, now time.Time, rep *api.SweepReport) error {
	cfg := u.Config()
	var due []*store.Batch
	err := u.Store.View(func(tx store.Tx) error {
		return tx.ForEachBatch(func(b *store.Batch) error {
			done := b.State == store.DeliveryDelivered || b.State == store.DeliveryFailed
			if done && b.OutputRemoved.IsZero() && !now.Before(b.Updated.Add(cfg.RetentionFor(b.Tenant).Payloads.D())) {
				due = append(due, b)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for len(due) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := due[:min(sweepChunk, len(due))]
		due = due[len(chunk):]
		for _, b := range chunk {
			if b.State != store.DeliveryDelivered || !u.inOutbox(b.Ref) {
				continue
			}
			n, err := removeFile(b.Ref)
			if err != nil {
				return err
			}
			if n >= 0 {
				rep.OutboxFiles++
				rep.OutboxBytes += n
			}
		}
		err := u.Store.Update(func(tx store.Tx) error {
			for _, b := range chunk {
				cur, err := tx.Batch(b.ID)
				if err != nil {
					return err
				}
				cur.OutputRemoved = now
				if err := tx.PutBatch(cur); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// removeFile removes path and returns its size, or -1 when it was gone
// already (a crash after the removal and before its record, or a tenant
// who deleted a receipt).
func removeFile(path string) (int64, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("retention: %w", err)
	}
	return fi.Size(), nil
}

// addRemoved adds what a step removed to a report's count.
func addRemoved(r *api.Removed, o store.Removed) {
	r.Bodies += o.Bodies
	r.Events += o.Events
	r.Deliveries += o.Deliveries
	r.Bytes += o.Bytes
}

// spoolPath is where a claimed input file is kept.
func (u *Upkeep) spoolPath(fileID string) string { return filepath.Join(u.DataDir, "spool", fileID) }

// errEnough stops a read that has what it was asked for.
var errEnough = errors.New("enough")
