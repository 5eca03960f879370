package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// Receipt is what a tenant reads in receipts/<name>.receipt.json: the fate of
// one input file and of every document in it.
type Receipt struct {
	File       string            `json:"file"`
	FileID     string            `json:"file_id"`
	Tenant     string            `json:"tenant"`
	SHA256     string            `json:"sha256"`
	Size       int64             `json:"size"`
	Format     string            `json:"format,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
	State      store.FileState   `json:"state"`
	Reason     string            `json:"reason,omitempty"`
	Final      bool              `json:"final"`
	UpdatedAt  time.Time         `json:"updated_at"`
	Summary    map[string]int    `json:"summary"`
	Documents  []ReceiptDocument `json:"documents"`
}

// ReceiptDocument is one document's line in a receipt.
type ReceiptDocument struct {
	ID       string            `json:"id"`
	Number   string            `json:"number,omitempty"`
	Kind     formats.Kind      `json:"kind,omitempty"`
	Source   string            `json:"source,omitempty"`
	Buyer    string            `json:"buyer,omitempty"`
	Amount   string            `json:"amount,omitempty"`
	Currency string            `json:"currency,omitempty"`
	DueDate  string            `json:"due_date,omitempty"`
	State    store.DocState    `json:"state"`
	Channel  string            `json:"channel,omitempty"`
	Address  string            `json:"address,omitempty"`
	Output   string            `json:"output,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Problems []formats.Problem `json:"problems,omitempty"`
	Route    []store.RouteStep `json:"route,omitempty"`
	// Collection is the payment collection beside distribution (AutoGiro).
	Collection *store.Collection `json:"collection,omitempty"`
	Received   time.Time         `json:"received"`
	Updated    time.Time         `json:"updated"`
}

// receiptWriter rewrites the receipts of files whose state changed. Changes
// are gathered, and a file's receipt is rewritten at most every interval,
// or less often when writing it is costly: a receipt of 100,000 invoices
// takes a while to build, so it waits 20 times as long as its last build
// took, which keeps receipts under a twentieth of a core however big the
// file. A stop writes every pending receipt.
type receiptWriter struct {
	d        *Daemon
	interval time.Duration
	mu       sync.Mutex
	dirty    map[string]bool
	next     map[string]time.Time // earliest next write per file
	settled  map[string]bool      // files written out of pace once they looked settled
	wake     chan struct{}
}

func newReceiptWriter(d *Daemon) *receiptWriter {
	return &receiptWriter{d: d, interval: 50 * time.Millisecond, dirty: map[string]bool{}, next: map[string]time.Time{},
		settled: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// firstReceiptDelay is how long a new file's first receipt waits unless
// the file is settled sooner. Most files settle within it (a rejected
// upload within milliseconds, a single invoice within ~60 ms), and then
// the first receipt is also the last: one file written instead of a
// "received" one replaced a moment later. On a busy inbox every receipt
// file written and replaced costs a file creation and an inode freed.
const firstReceiptDelay = 100 * time.Millisecond

// touch marks a file's receipt as out of date.
func (w *receiptWriter) touch(fileID string) {
	w.mu.Lock()
	w.dirty[fileID] = true
	if _, written := w.next[fileID]; !written {
		w.next[fileID] = time.Now().Add(firstReceiptDelay)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *receiptWriter) run(ctx context.Context) {
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
func (w *receiptWriter) flush(force bool) (waiting bool) {
	now := time.Now()
	w.mu.Lock()
	var ids, held []string
	for id := range w.dirty {
		if force || !now.Before(w.next[id]) {
			ids = append(ids, id)
			delete(w.dirty, id)
		} else if !w.settled[id] {
			held = append(held, id)
		}
	}
	w.mu.Unlock()
	// A receipt held back by its pace is written at once when its file
	// looks settled (parsed, no delivery pending): the final receipt of a
	// large file must not wait out twenty times its build time. Once per
	// file, so a file that only looks settled cannot defeat the pace.
	if settled := w.settledFiles(held); len(settled) > 0 {
		w.mu.Lock()
		for _, id := range settled {
			w.settled[id] = true
			delete(w.dirty, id)
		}
		w.mu.Unlock()
		ids = append(ids, settled...)
	}
	w.mu.Lock()
	waiting = len(w.dirty) > 0
	w.mu.Unlock()
	var written []*receiptFile
	for _, id := range ids {
		start := time.Now()
		rf, err := w.write(id)
		cost := time.Since(start)
		w.mu.Lock()
		w.next[id] = time.Now().Add(max(w.interval, 20*cost))
		w.mu.Unlock()
		if err != nil {
			w.d.log.Error("writing a receipt failed", "file", id, "err", err)
			continue
		}
		written = append(written, rf)
	}
	w.publish(written)
	return waiting
}

// settledFiles returns those of ids whose file is at an end (rejected, a
// duplicate, applied) or parsed with no delivery pending: cheap to ask, it
// decodes one record per file.
func (w *receiptWriter) settledFiles(ids []string) []string {
	var out []string
	if len(ids) == 0 {
		return nil
	}
	w.d.store.View(func(tx store.Tx) error {
		for _, id := range ids {
			f, err := tx.File(id)
			if err != nil {
				continue
			}
			if receiptFinal(f, true, f.Docs) && (f.State != store.FileParsed || !tx.FilePending(id)) {
				out = append(out, id)
			}
		}
		return nil
	})
	return out
}

// receiptOf is a receipt's head: everything but the documents and the
// totals over them.
func receiptOf(f *store.File) Receipt {
	return Receipt{File: f.Name, FileID: f.ID, Tenant: f.Tenant, SHA256: f.SHA256, Size: f.Size, Format: f.Format,
		ReceivedAt: f.ReceivedAt, State: f.State, Reason: f.Reason, Summary: map[string]int{}, Documents: []ReceiptDocument{}}
}

// receiptDocOf is one document's line in a receipt.
func receiptDocOf(doc *store.Doc) ReceiptDocument {
	rd := ReceiptDocument{ID: doc.ID, Number: doc.Number, Kind: doc.Kind, Source: doc.Source, Buyer: doc.Buyer,
		Currency: doc.Currency, DueDate: doc.DueDate.String(), State: doc.State, Channel: doc.Channel,
		Address: doc.Address, Output: doc.Output, Reason: doc.Reason, Problems: doc.Problems, Route: doc.Route,
		Collection: doc.Collection, Received: doc.Created, Updated: doc.Updated}
	if doc.Currency != "" { // parsed: the amount is known
		rd.Amount = doc.Amount.String()
	}
	return rd
}

// receiptFinal says whether a file is done: rejected, a duplicate or
// applied, or parsed with every document (and its collection) at an end.
func receiptFinal(f *store.File, allEnd bool, docs int) bool {
	switch f.State {
	case store.FileRejected, store.FileDuplicate, store.FileApplied:
		return true
	case store.FileParsed:
		return allEnd && docs == f.Docs
	}
	return false
}

// scanReceiptDocs visits a file's documents as receipt lines, in short
// transactions, and returns the summary and whether all are at an end.
func scanReceiptDocs(s store.Store, fileID string, fn func(ReceiptDocument) error) (summary map[string]int, allEnd bool, n int, err error) {
	visit, sum, end, count := receiptVisitor(fn)
	err = s.ScanFileDocs(fileID, visit)
	return sum, *end, *count, err
}

func receiptVisitor(fn func(ReceiptDocument) error) (visit func(*store.Doc) error, summary map[string]int, allEnd *bool, n *int) {
	summary, allEnd, n = map[string]int{}, new(bool), new(int)
	*allEnd = true
	visit = func(doc *store.Doc) error {
		summary[string(doc.State)]++
		*n++
		if !doc.State.End() || !doc.Collection.End() {
			*allEnd = false
		}
		return fn(receiptDocOf(doc))
	}
	return visit, summary, allEnd, n
}

// buildReceipt reads a file's receipt from the store, whole, for the API.
// The documents are read in short transactions, as the receipt writer
// reads them: one transaction over a million documents held every commit up.
func (d *Daemon) buildReceipt(fileID string) (*Receipt, error) {
	var f *store.File
	if err := d.store.View(func(tx store.Tx) (err error) { f, err = tx.File(fileID); return err }); err != nil {
		return nil, err
	}
	r := receiptOf(f)
	summary, allEnd, n, err := scanReceiptDocs(d.store, fileID, func(rd ReceiptDocument) error {
		r.Documents = append(r.Documents, rd)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Summary, r.Final = summary, receiptFinal(f, allEnd, n)
	r.UpdatedAt = time.Now().UTC()
	return &r, nil
}

// receiptFile is a receipt written under a temporary name, to be synced
// and renamed into place with the others of its turn.
type receiptFile struct {
	fileID, tmp, path string
	final             bool
	updated           time.Time
}

// write writes a file's receipt, streaming it document by document into a
// temporary file: a receipt of 100,000 invoices is never whole in memory.
// The documents come first and the totals and the final flag after them,
// since those are known only at the end. publish puts it in place.
func (w *receiptWriter) write(fileID string) (*receiptFile, error) {
	rf := &receiptFile{fileID: fileID}
	var f *store.File
	if err := w.d.store.View(func(tx store.Tx) (err error) { f, err = tx.File(fileID); return err }); err != nil {
		return nil, err
	}
	// The documents are read in short transactions (ScanFileDocs): one
	// transaction over a million documents held every commit up.
	err := func() error {
		dir := w.d.receiptsDir(f.Tenant)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		rf.path = filepath.Join(dir, f.Name+".receipt.json")
		var err error
		rf.tmp, err = writeTemp(rf.path, func(out io.Writer) error {
			bw := bufio.NewWriterSize(out, 64<<10)
			head := receiptOf(f)
			head.Documents, head.Summary = nil, nil
			hb, err := json.MarshalIndent(struct {
				Receipt
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
			first := true
			summary, allEnd, n, err := scanReceiptDocs(w.d.store, fileID, func(rd ReceiptDocument) error {
				b, err := json.MarshalIndent(rd, "    ", "  ")
				if err != nil {
					return err
				}
				if !first {
					bw.WriteByte(',')
				}
				first = false
				bw.WriteString("\n    ")
				_, err = bw.Write(b)
				return err
			})
			if err != nil {
				return err
			}
			rf.final, rf.updated = receiptFinal(f, allEnd, n), time.Now().UTC()
			sb, _ := json.Marshal(summary)
			ub, _ := json.Marshal(rf.updated)
			if !first {
				bw.WriteString("\n  ")
			}
			fmt.Fprintf(bw, "],\n  \"summary\": %s,\n  \"final\": %t,\n  \"updated_at\": %s\n}\n", sb, rf.final, ub)
			return bw.Flush()
		})
		return err
	}()
	if err != nil {
		return nil, err
	}
	return rf, nil
}

// publish makes the receipts of one turn durable together (one syncfs for
// their data, renames, one sync per receipts folder), then marks the files
// whose receipt says final. A file per invoice would otherwise cost an
// fsync each.
func (w *receiptWriter) publish(rfs []*receiptFile) {
	if len(rfs) == 0 {
		return
	}
	fail := func(err error) {
		w.d.log.Error("writing receipts failed; they are written again", "receipts", len(rfs), "err", err)
		w.mu.Lock()
		for _, rf := range rfs {
			os.Remove(rf.tmp)
			w.dirty[rf.fileID] = true
		}
		w.mu.Unlock()
	}
	dirs := map[string]bool{}
	for _, rf := range rfs {
		dirs[filepath.Dir(rf.path)] = true
	}
	if err := syncFileSystems(dirs); err != nil {
		fail(err)
		return
	}
	for _, rf := range rfs {
		if err := os.Chmod(rf.tmp, 0o640); err != nil {
			fail(err)
			return
		}
		if err := os.Rename(rf.tmp, rf.path); err != nil {
			fail(err)
			return
		}
	}
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			fail(err)
			return
		}
	}
	var final []*receiptFile
	for _, rf := range rfs {
		if rf.final {
			final = append(final, rf)
		}
	}
	if len(final) == 0 {
		return
	}
	err := w.d.store.Update(func(tx store.Tx) error {
		for _, rf := range final {
			f, err := tx.File(rf.fileID)
			if err != nil {
				return err
			}
			if !f.Final {
				f.Final, f.FinalAt = true, rf.updated
				if err := tx.PutFile(f); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		w.d.log.Error("marking files final failed", "files", len(final), "err", err)
	}
}

// writeTemp writes what fill writes into a temporary file beside path and
// returns its name; the caller syncs and renames it. Temporary names start
// with ".receipt-", which the daemon sweeps at start should a crash leave
// one.
func writeTemp(path string, fill func(io.Writer) error) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".receipt-*")
	if err != nil {
		return "", err
	}
	err = fill(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return tmp.Name(), nil
}

// writeFileAtomic replaces path with data so that readers see the old or the
// new file, never a part.
func writeFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic replaces path with what fill writes: a temporary file in the
// same folder, fsync, rename. Temporary names start with ".receipt-", which
// the daemon sweeps at start should a crash leave one.
func writeAtomic(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".receipt-*")
	if err != nil {
		return err
	}
	err = fill(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o640)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
