package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/multikanal/multikanal/config"
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

// SweepReport is what one retention sweep did.
type SweepReport struct {
	Started time.Time `json:"started"`
	Took    string    `json:"took"`
	// Files is how many file records were looked at.
	Files int `json:"files"`
	// Summarised and Anonymised count documents.
	Summarised int           `json:"documents_summarised"`
	Anonymised int           `json:"documents_anonymised"`
	Store      store.Removed `json:"store"`
	// InputFiles, OutboxFiles and Receipts count files removed from
	// spool/, outbox/ and the receipts folders, with their bytes.
	InputFiles  int   `json:"input_files"`
	InputBytes  int64 `json:"input_bytes"`
	OutboxFiles int   `json:"outbox_files"`
	OutboxBytes int64 `json:"outbox_bytes"`
	Receipts    int   `json:"receipts"`
	// NotFinal counts documents of final files left alone because they
	// have work again (an operator's retry): the next sweep looks again.
	NotFinal int    `json:"not_final,omitempty"`
	Error    string `json:"error,omitempty"`
	// Compaction is the compaction the sweep started, if any.
	Compaction *CompactReport `json:"compaction,omitempty"`
}

// upkeep runs retention and compaction, one at a time, and counts what
// they removed.
type upkeep struct {
	d           *Daemon
	mu          sync.Mutex // one sweep, compaction or erasure at a time
	lastSweep   atomic.Pointer[SweepReport]
	lastCompact atomic.Pointer[CompactReport]

	removed      *prometheus.CounterVec
	removedBytes *prometheus.CounterVec
	sweeps       prometheus.Counter
	sweepSeconds prometheus.Gauge
	compactions  *prometheus.CounterVec
	compactLast  *prometheus.GaugeVec
	erasures     *prometheus.CounterVec
}

func newUpkeep(d *Daemon) *upkeep {
	u := &upkeep{d: d,
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
		Help: "The store quota (store.max_size); 0 when off."}, func() float64 { return float64(d.live.Load().Store.MaxSize) })
	over := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "multikanal_store_over_quota",
		Help: "1 while state.db is above store.max_size and new input files are refused."}, func() float64 {
		if d.overQuota() != "" {
			return 1
		}
		return 0
	})
	free := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "multikanal_store_free_bytes",
		Help: "Space in state.db holding no data: what a compaction would give back."}, func() float64 { return float64(d.store.FreeBytes()) })
	d.metrics.reg.MustRegister(u.removed, u.removedBytes, u.sweeps, u.sweepSeconds, u.compactions, u.compactLast, u.erasures, quota, over, free)
	return u
}

// run sweeps at start and every store.sweep_interval until ctx ends.
func (u *upkeep) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		rep := u.sweep(ctx, time.Now().UTC())
		if rep.Error != "" && ctx.Err() == nil {
			u.d.log.Error("retention sweep failed; it runs again at the next interval", "err", rep.Error)
		}
		timer.Reset(u.d.live.Load().Store.SweepInterval.D())
	}
}

// sweep applies retention as of now and compacts after it when that pays.
func (u *upkeep) sweep(ctx context.Context, now time.Time) *SweepReport {
	u.mu.Lock()
	rep := &SweepReport{Started: time.Now().UTC()}
	err := u.d.sweepFiles(ctx, now, rep)
	if err == nil {
		err = u.d.sweepBatches(ctx, now, rep)
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
		u.d.log.Info("retention sweep", "files", rep.Files, "summarised", rep.Summarised, "anonymised", rep.Anonymised,
			"store_bytes", rep.Store.Bytes, "input_files", rep.InputFiles, "outbox_files", rep.OutboxFiles, "receipts", rep.Receipts, "took", rep.Took)
	}
	u.mu.Unlock()
	if cfg := u.d.live.Load().Store; err == nil && ctx.Err() == nil && cfg.AutoCompact {
		size, free := u.d.store.Size(), u.d.store.FreeBytes()
		if free >= autoCompactFree && free >= size/2 {
			c, _ := u.compact("auto")
			rep.Compaction = c
		}
	}
	u.lastSweep.Store(rep)
	return rep
}

func (u *upkeep) count(rep *SweepReport) {
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
func (d *Daemon) sweepFiles(ctx context.Context, now time.Time, rep *SweepReport) error {
	after := ""
	for {
		var files []*store.File
		err := d.store.View(func(tx store.Tx) error {
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
		cfg := d.live.Load()
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			rep.Files++
			if err := d.sweepFile(ctx, f, cfg.RetentionFor(f.Tenant), now, rep); err != nil {
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
func (d *Daemon) sweepFile(ctx context.Context, f *store.File, r config.Retention, now time.Time, rep *SweepReport) error {
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
			left, err := d.summariseDocs(ctx, f.ID, anonymise, now, rep)
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
		n, err := removeFile(d.spoolPath(f.ID))
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
		if path := d.receiptPath(f); path != "" {
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
	return d.store.Update(func(tx store.Tx) error {
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
func (d *Daemon) summariseDocs(ctx context.Context, fileID string, anonymise bool, now time.Time, rep *SweepReport) (left int, err error) {
	var ids []string
	err = d.store.ScanFileDocs(fileID, func(doc *store.Doc) error {
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
		var outputs []string
		d.store.View(func(tx store.Tx) error {
			for _, id := range chunk {
				if doc, err := tx.Doc(id); err == nil && doc.Summarised.IsZero() {
					outputs = append(outputs, d.docOutputs(tx, doc)...)
				}
			}
			return nil
		})
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
		err := d.store.Update(func(tx store.Tx) error {
			removed, summarised, anonymised, notFinal = store.Removed{}, 0, 0, 0
			for _, id := range chunk {
				doc, err := tx.Doc(id)
				if err != nil {
					return err
				}
				if doc.Summarised.IsZero() {
					if len(doc.Keys) == 0 {
						if body, err := tx.Body(id); err == nil {
							doc.Keys = d.keyHashes(docKeys(body, now))
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
					if err := d.forgetCollection(tx, doc); err != nil {
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
		rep.Store.Add(removed)
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
func (d *Daemon) forgetCollection(tx store.Tx, doc *store.Doc) error {
	if doc.Collection == nil || doc.Collection.Payer == "" {
		return nil
	}
	_, err := tx.RemoveCollectionRefs(doc.Tenant, payerKey(doc.Collection.Payer), doc.ID)
	return err
}

// docOutputs are the files the spool transport wrote for a document alone
// (a batch file holds others too: sweepBatches removes it).
func (d *Daemon) docOutputs(tx store.Tx, doc *store.Doc) []string {
	var out []string
	seen := map[string]bool{}
	channels := []string{doc.Channel, autogiroChannel}
	for _, step := range doc.Route {
		channels = append(channels, step.Channel)
	}
	for _, ch := range channels {
		if ch == "" || seen[ch] {
			continue
		}
		seen[ch] = true
		for _, id := range doc.DeliveryIDs(ch) { // the first send and every resend
			dl, err := tx.Delivery(id)
			if err != nil || dl.Batched || dl.State != store.DeliveryDelivered {
				continue
			}
			if d.inOutbox(dl.Ref) {
				out = append(out, dl.Ref)
			}
		}
	}
	return out
}

// inOutbox reports whether path is a file the spool transport wrote: only
// those are the gateway's to remove.
func (d *Daemon) inOutbox(path string) bool {
	rel, err := filepath.Rel(filepath.Join(d.dataDir, "outbox"), path)
	return err == nil && filepath.IsAbs(path) && rel != "." && !strings.HasPrefix(rel, "..")
}

// sweepBatches removes the batch files of the spool transport once the
// batch is done and its tenant's payload time has passed.
func (d *Daemon) sweepBatches(ctx context.Context, now time.Time, rep *SweepReport) error {
	cfg := d.live.Load()
	var due []*store.Batch
	err := d.store.View(func(tx store.Tx) error {
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
			if b.State != store.DeliveryDelivered || !d.inOutbox(b.Ref) {
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
		err := d.store.Update(func(tx store.Tx) error {
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

// keyHashes are the pseudonyms of a recipient's keys, as summaries keep them.
func (d *Daemon) keyHashes(keys []store.RecipientKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = d.store.HashKey(k)
	}
	return out
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
