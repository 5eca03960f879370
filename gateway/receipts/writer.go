// Package receipts keeps every input file's receipt up to date in its
// tenant's receipts folder, and is the tenant's view of what the gateway
// holds: the receipts, the document lists and details the API shows, each
// without the server's paths (view.go). Receipts are written by one
// goroutine (Writer.Run), told by the other parts which files changed
// (Writer.Touch); they are built from the store alone, so a receipt never
// says more than the store records.
//
// It does not decide anything about a file or a document: it shows it.
package receipts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/internal/durable"
)

// Store is what receipts read (files and their documents, in short
// transactions for a large file) and write (each file's receipt name and
// final flag).
type Store interface {
	store.DocScanner
	View(fn func(store.Tx) error) error
	Update(fn func(store.Tx) error) error
}

// Options are the writer's dependencies.
type Options struct {
	Store Store
	// Dir is a tenant's receipts folder.
	Dir func(tenant string) string
	// Registerer takes the writer's failure counter.
	Registerer prometheus.Registerer
	Log        *slog.Logger
}

// Writer rewrites the receipts of files whose state changed. Changes
// are gathered, and a file's receipt is rewritten at most every interval,
// or less often when writing it is costly: a receipt of 100,000 invoices
// takes a while to build, so it waits paceFactor times as long as its last
// build took, which keeps receipts under a twentieth of a core however big
// the file. A stop writes every pending receipt.
//
// A receipt that cannot be written (a full disk, a name the file system
// refuses) is logged, counted in multikanal_receipt_write_failures_total
// and tried again later, backing off up to retryMax; it never holds back
// the receipts written beside it.
type Writer struct {
	Options
	interval time.Duration
	mu       sync.Mutex
	dirty    map[string]bool
	next     map[string]time.Time // earliest next write per file
	settled  map[string]bool      // files written out of pace once they looked settled
	finals   map[string]bool      // files whose last receipt written here was final
	failures map[string]int       // failed writes in a row per file, for the back-off
	wake     chan struct{}
	first    time.Duration // how long a new file's first receipt waits; firstReceiptDelay

	// claims are the plain receipt names ("tenant/name") that files not
	// yet final hold, with the holder: a not-final receipt the tenant
	// deleted keeps its name, and comes back under it at the file's next
	// change. Only the writer's goroutine uses them.
	claims       map[string]string
	claimsLoaded bool
	failed       prometheus.Counter
	// group holds the receipts of the turn being written, until publish
	// puts them in place together.
	group durable.Group
}

// paceFactor is how many times its last build's time a receipt waits
// before the next: a build keeps up to two cores busy for its time (the
// lines are read on one goroutine and written on another, lineWriter), so
// 40 keeps rewrites under 2/41 of a core, a twentieth.
const paceFactor = 40

// retryMax bounds the back-off of a receipt that cannot be written.
const retryMax = 5 * time.Minute

// NewWriter prepares the writer; Run runs it.
func NewWriter(o Options) *Writer {
	w := &Writer{Options: o, interval: 50 * time.Millisecond, dirty: map[string]bool{}, next: map[string]time.Time{},
		settled: map[string]bool{}, finals: map[string]bool{}, failures: map[string]int{}, claims: map[string]string{}, wake: make(chan struct{}, 1), first: firstReceiptDelay,
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "multikanal_receipt_write_failures_total",
			Help: "Receipts that could not be written or put in place; each is tried again later."})}
	o.Registerer.MustRegister(w.failed)
	return w
}

// firstReceiptDelay is how long a new file's first receipt waits unless
// the file is settled sooner. Most files settle within it (a rejected
// upload within milliseconds, a single invoice within ~60 ms), and then
// the first receipt is also the last: one file written instead of a
// "received" one replaced a moment later. On a busy inbox every receipt
// file written and replaced costs a file creation and an inode freed.
const firstReceiptDelay = 100 * time.Millisecond

// SetFirstDelay changes how long a new file's first receipt waits unless
// the file is settled sooner (firstReceiptDelay). Tests that count receipt
// writes lengthen it, so a machine slowed by other work does not turn
// one write into two.
func (w *Writer) SetFirstDelay(d time.Duration) {
	w.mu.Lock()
	w.first = d
	w.mu.Unlock()
}

// Touch marks a file's receipt as out of date.
func (w *Writer) Touch(fileID string) {
	w.mu.Lock()
	w.dirty[fileID] = true
	if _, written := w.next[fileID]; !written {
		w.next[fileID] = time.Now().Add(w.first)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Writer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			w.flush(true) // a last write, so receipts on disk match the store
			return
		case <-w.wake:
		}
		if waiting := w.flush(false); waiting {
			// Receipts held back by their pace: look again soon.
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
		select {
		case <-ctx.Done():
			w.flush(true)
			return
		case <-time.After(w.interval):
		}
	}
}

// flush writes the dirty receipts whose time has come (all with force) and
// reports whether some wait for a later turn.
func (w *Writer) flush(force bool) (waiting bool) {
	now := time.Now()
	w.mu.Lock()
	var ids []string
	var held []heldReceipt
	for id := range w.dirty {
		if force || !now.Before(w.next[id]) {
			ids = append(ids, id)
			delete(w.dirty, id)
		} else if !w.settled[id] || !w.finals[id] {
			held = append(held, heldReceipt{id: id, once: !w.settled[id]})
		}
	}
	w.mu.Unlock()
	// A receipt held back by its pace is written at once when its file
	// looks settled (parsed, no delivery pending): the final receipt of a
	// large file must not wait out twenty times its build time. Once per
	// file, so a file that only looks settled cannot defeat the pace. And
	// whenever the file is final (a node wrote its final receipt) while
	// the last receipt written here was not: where nodes share the store,
	// another node may finish a file whose receipt this node last wrote
	// under a long pace (its build slowed by a busy machine), and a receipt
	// that stays "not final" on one node while the others say final must
	// not wait for that.
	if settled := w.settledFiles(held); len(settled) > 0 {
		w.mu.Lock()
		for _, id := range settled {
			w.settled[id] = true
			delete(w.dirty, id)
		}
		w.mu.Unlock()
		ids = append(ids, settled...)
	}
	// In the order files arrived, so that of two files with one name the
	// first keeps the plain receipt name.
	slices.Sort(ids)
	w.loadClaims()
	var written []*receiptFile
	for _, id := range ids {
		start := time.Now()
		rf, err := w.write(id)
		if rf == nil && err == nil {
			continue // removed by retention: not written again
		}
		cost := time.Since(start)
		if err != nil {
			w.retry(id, err)
			continue
		}
		w.mu.Lock()
		w.next[id] = time.Now().Add(max(w.interval, paceFactor*cost))
		w.finals[id] = rf.final
		w.mu.Unlock()
		written = append(written, rf)
	}
	w.publish(written)
	// Asked after the writes: a receipt that failed is dirty again and
	// needs a later turn.
	w.mu.Lock()
	waiting = len(w.dirty) > 0
	w.mu.Unlock()
	return waiting
}

// retry logs and counts a receipt that could not be written and marks it
// to be written again after a back-off.
func (w *Writer) retry(fileID string, err error) {
	w.failed.Inc()
	w.mu.Lock()
	n := w.failures[fileID]
	w.failures[fileID] = n + 1
	wait := min(time.Second<<min(n, 16), retryMax)
	w.dirty[fileID] = true
	w.next[fileID] = time.Now().Add(wait)
	w.mu.Unlock()
	w.Log.Error("writing a receipt failed; it is written again later", "file", fileID, "retry_in", wait.String(), "err", err)
}

// loadClaims reads, once, the receipt names the open files hold, so that
// after a restart a new file cannot take the name of a not-final receipt
// the tenant deleted.
func (w *Writer) loadClaims() {
	if w.claimsLoaded {
		return
	}
	err := w.Store.View(func(tx store.Tx) error {
		return tx.ForEachOpenFile(func(f *store.File) error {
			if f.Receipt != "" {
				w.claims[f.Tenant+"/"+f.Receipt] = f.ID
			}
			return nil
		})
	})
	if err != nil {
		w.Log.Error("reading the receipt names of open files failed; tried again at the next turn", "err", err)
		return
	}
	w.claimsLoaded = true
}

// place decides the name of a file's receipt: the one it has, else the
// plain name when no other file holds it (an open file's claim, or a
// receipt on disk that names another file), else the id-qualified name.
// A plain name is checked at every write, since a final file's name is
// free again once its receipt is deleted: a file retried after that finds
// its name taken by a newer file and moves to its qualified name.
func (w *Writer) place(f *store.File) string {
	plain, qualified := receiptNames(f.Name, f.ID)
	if plain == "" || f.Receipt != "" && f.Receipt != plain {
		return qualified
	}
	dir := w.Dir(f.Tenant)
	if f.Receipt == "" {
		// Placed before a crash lost the record of it: it stays there.
		if _, err := os.Lstat(filepath.Join(dir, qualified)); err == nil {
			return qualified
		}
	}
	key := f.Tenant + "/" + plain
	switch holder, ok := w.claims[key]; {
	case ok && holder == f.ID:
		return plain
	case ok:
		return qualified
	}
	owner, err := receiptOwner(filepath.Join(dir, plain))
	if err == nil && owner != f.ID || err != nil && !errors.Is(err, fs.ErrNotExist) {
		return qualified
	}
	if !f.Final {
		w.claims[key] = f.ID
	}
	return plain
}

// settledFiles returns those of the held receipts whose file is final (a
// node wrote its final receipt), or, once per file, looks settled: at an
// end (rejected, a duplicate, applied) or parsed with no delivery pending.
// Cheap to ask: it decodes one record per file.
func (w *Writer) settledFiles(held []heldReceipt) []string {
	var out []string
	if len(held) == 0 {
		return nil
	}
	err := w.Store.View(func(tx store.Tx) error {
		for _, h := range held {
			f, err := tx.File(h.id)
			if err != nil {
				continue
			}
			settled := h.once && receiptFinal(f, true, f.Docs) && (f.State != store.FileParsed || !tx.FilePending(h.id))
			if settled || f.Final {
				out = append(out, h.id)
			}
		}
		return nil
	})
	if err != nil {
		// None is written early; each waits for its turn.
		return nil
	}
	return out
}

// heldReceipt is a receipt held back by its pace; once is whether it may
// still be written out of pace for looking settled.
type heldReceipt struct {
	id   string
	once bool
}

// receiptFile is a receipt written under a temporary name (in the
// writer's group), to be synced and renamed into place with the others of
// its turn.
type receiptFile struct {
	fileID, tenant, path string
	name                 string // the receipt's name, recorded on the file
	final                bool
	updated              time.Time
}

// write writes a file's receipt, streaming it document by document into a
// temporary file: a receipt of 100,000 invoices is never whole in memory.
// The documents come first and the totals and the final flag after them,
// since those are known only at the end. publish puts it in place.
func (w *Writer) write(fileID string) (*receiptFile, error) {
	rf := &receiptFile{fileID: fileID}
	var f *store.File
	if err := w.Store.View(func(tx store.Tx) (err error) { f, err = tx.File(fileID); return err }); err != nil {
		return nil, err
	}
	if !f.ReceiptRemoved.IsZero() {
		return nil, nil
	}
	rf.tenant, rf.name = f.Tenant, w.place(f)
	// The documents are read in short transactions (ScanFileDocs): one
	// transaction over a million documents held every commit up.
	err := func() error {
		dir := w.Dir(f.Tenant)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		rf.path = filepath.Join(dir, rf.name)
		return w.group.Add(rf.path, 0o640, func(out io.Writer) error {
			bw := bufio.NewWriterSize(out, 64<<10)
			head := receiptOf(f)
			head.Receipt = rf.name
			head.Documents, head.Summary = nil, nil
			hb, err := json.MarshalIndent(struct {
				api.Receipt
				Documents *struct{} `json:"documents,omitempty"`
				Summary   *struct{} `json:"summary,omitempty"`
				Final     *struct{} `json:"final,omitempty"`
				UpdatedAt *struct{} `json:"updated_at,omitempty"`
			}{Receipt: head}, "", "  ")
			if err != nil {
				return err
			}
			bw.Write(bytes.TrimSuffix(hb, []byte("\n}")))
			bw.WriteString(",\n  \"documents\": [")
			lines := newLineWriter(bw)
			summary, allEnd, n, err := scanReceiptDocs(w.Store, fileID, lines.add)
			if err := lines.close(); err != nil {
				return err
			}
			if err != nil {
				return err
			}
			first := n == 0
			rf.final, rf.updated = receiptFinal(f, allEnd, n), time.Now().UTC()
			sb, _ := json.Marshal(summary)
			ub, _ := json.Marshal(rf.updated)
			if !first {
				bw.WriteString("\n  ")
			}
			fmt.Fprintf(bw, "],\n  \"summary\": %s,\n  \"final\": %t,\n  \"updated_at\": %s\n}\n", sb, rf.final, ub)
			return bw.Flush()
		})
	}()
	if err != nil {
		return nil, err
	}
	return rf, nil
}

// lineWriter encodes and writes a receipt's lines on a goroutine of its
// own while the documents are read and converted on the caller's: the two
// halves of a rewrite cost about the same (reading ~45%, encoding and
// writing ~55% of a 100,000-document receipt), so a final receipt, which
// waits for nothing else, is built on two cores in about half the time.
// Lines go over in batches, in order; the first error stops both halves.
type lineWriter struct {
	bw     *bufio.Writer
	batch  []api.ReceiptDocument
	out    chan []api.ReceiptDocument
	free   chan []api.ReceiptDocument
	done   chan struct{}
	err    error // the writer's first error, read after done
	failed atomic.Bool
}

// lineBatch is how many lines go over at once.
const lineBatch = 256

func newLineWriter(bw *bufio.Writer) *lineWriter {
	l := &lineWriter{bw: bw, out: make(chan []api.ReceiptDocument, 2), free: make(chan []api.ReceiptDocument, 3),
		done: make(chan struct{})}
	l.batch = make([]api.ReceiptDocument, 0, lineBatch)
	go l.run()
	return l
}

func (l *lineWriter) run() {
	defer close(l.done)
	first := true
	for batch := range l.out {
		for i := range batch {
			if l.err != nil {
				break
			}
			b, err := docJSON(&batch[i])
			if err == nil {
				if !first {
					l.bw.WriteByte(',')
				}
				first = false
				l.bw.WriteString("\n    ")
				_, err = l.bw.Write(b)
			}
			if err != nil {
				l.err = err
				l.failed.Store(true)
			}
		}
		clear(batch)
		select {
		case l.free <- batch[:0]:
		default:
		}
	}
}

// add takes the next line; it fails once the writer has.
func (l *lineWriter) add(rd api.ReceiptDocument) error {
	if l.failed.Load() {
		return errLineWriter
	}
	l.batch = append(l.batch, rd)
	if len(l.batch) == lineBatch {
		l.out <- l.batch
		select {
		case l.batch = <-l.free:
		default:
			l.batch = make([]api.ReceiptDocument, 0, lineBatch)
		}
	}
	return nil
}

// close writes the last lines and waits for the writer: its error, if any.
func (l *lineWriter) close() error {
	if len(l.batch) > 0 && !l.failed.Load() {
		l.out <- l.batch
	}
	close(l.out)
	<-l.done
	return l.err
}

// errLineWriter stops a scan whose lines can no longer be written; the
// writer's own error is what the receipt fails with.
var errLineWriter = errors.New("receipt lines: writing failed")

// docJSON is a receipt's line as encoding/json's MarshalIndent writes it
// at its depth in the receipt, written by goccy/go-json, which gives the
// same bytes (TestDocJSONMatchesEncodingJSON) in under half the time: a
// large file's receipt is rewritten again and again while it is delivered.
func docJSON(rd *api.ReceiptDocument) ([]byte, error) {
	return gojson.MarshalIndent(rd, "    ", "  ")
}

// publish makes the receipts of one turn durable together (package
// durable's Group: one syncfs for their data, renames, one sync per
// receipts folder), then records on each file its receipt's name and
// whether it is final. A file per invoice would otherwise cost an fsync
// each. rfs are the receipts written into the group this turn, in the
// order they were written. A receipt that cannot be put in place is tried
// again later (retry); the others of its turn go on.
func (w *Writer) publish(rfs []*receiptFile) {
	if len(rfs) == 0 {
		return
	}
	errs := w.group.Commit()
	synced := make([]*receiptFile, 0, len(rfs))
	for i, rf := range rfs {
		if errs[i] != nil {
			w.retry(rf.fileID, errs[i])
			continue
		}
		synced = append(synced, rf)
	}
	w.mu.Lock()
	for _, rf := range synced {
		delete(w.failures, rf.fileID)
	}
	w.mu.Unlock()
	w.record(synced)
}

// record notes on each file its receipt's name and, once final, that it
// is. A final file gives up its claim on a plain name: once the tenant has
// deleted the receipt, the name is free for the next file.
func (w *Writer) record(rfs []*receiptFile) {
	err := w.Store.Update(func(tx store.Tx) error {
		for _, rf := range rfs {
			f, err := tx.File(rf.fileID)
			if err != nil {
				return err
			}
			if f.Receipt == rf.name && (!rf.final || f.Final) {
				continue
			}
			f.Receipt = rf.name
			if rf.final && !f.Final {
				f.Final, f.FinalAt = true, rf.updated
			}
			if err := tx.PutFile(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.Log.Error("recording receipts on their files failed", "files", len(rfs), "err", err)
		return
	}
	for _, rf := range rfs {
		if !rf.final {
			continue
		}
		if key := rf.tenant + "/" + rf.name; w.claims[key] == rf.fileID {
			delete(w.claims, key)
		}
	}
}
