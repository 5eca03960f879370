package receipts

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/bolt"
	"github.com/multikanal/multikanal/internal/durable"
)

// newTestWriter is a writer over a temporary store, with the demo
// tenant's receipts folder, not running.
func newTestWriter(t testing.TB) (*Writer, *bolt.Bolt, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	receipts := filepath.Join(dir, "tenants", "demo", "receipts")
	w := NewWriter(Options{Store: st, Dir: func(string) string { return receipts }, Registerer: prometheus.NewRegistry(),
		Log: slog.New(slog.DiscardHandler)})
	return w, st, receipts
}

// failures is multikanal_receipt_write_failures_total as the writer's
// registry exposes it.
func failures(t *testing.T, w *Writer) float64 {
	t.Helper()
	mfs, err := w.Registerer.(prometheus.Gatherer).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "multikanal_receipt_write_failures_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}

// putFiles records rejected files, whose receipts are final at once.
func putFiles(t *testing.T, st store.Store, names ...string) {
	t.Helper()
	err := st.Update(func(tx store.Tx) error {
		for i, name := range names {
			f := &store.File{ID: fmt.Sprintf("F%07d", i+1), Tenant: "demo", Name: name, State: store.FileRejected, Reason: "not an invoice"}
			if err := tx.PutFile(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readReceipt reads a receipt in the folder.
func readReceipt(dir, name string) (*api.Receipt, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	var r api.Receipt
	return &r, json.Unmarshal(b, &r)
}

// A receipt that cannot be put in place is counted, logged and tried
// again later; the receipts beside it are placed and recorded.
func TestOneReceiptFailureHoldsNoOtherBack(t *testing.T) {
	w, st, dir := newTestWriter(t)
	putFiles(t, st, "blocked.csv", "fine.csv")
	var rfs []*receiptFile
	for _, id := range []string{"F0000001", "F0000002"} {
		rf, err := w.write(id)
		if err != nil {
			t.Fatal(err)
		}
		rfs = append(rfs, rf)
	}
	// Something the rename cannot replace stands where the first goes.
	if err := os.MkdirAll(filepath.Join(rfs[0].path, "x"), 0o750); err != nil {
		t.Fatal(err)
	}
	w.publish(rfs)
	if r, err := readReceipt(dir, "fine.csv.receipt.json"); err != nil || r.FileID != "F0000002" || !r.Final {
		t.Fatalf("the receipt beside the failing one: %+v, %v", r, err)
	}
	final := func(id string) (f *store.File) {
		st.View(func(tx store.Tx) (err error) { f, err = tx.File(id); return err })
		return f
	}
	if f := final("F0000002"); !f.Final || f.Receipt != "fine.csv.receipt.json" {
		t.Errorf("F0000002 recorded final %v, receipt %q", f.Final, f.Receipt)
	}
	if f := final("F0000001"); f.Final {
		t.Error("F0000001 recorded final without its receipt")
	}
	w.mu.Lock()
	dirty, wait := w.dirty["F0000001"], time.Until(w.next["F0000001"])
	w.mu.Unlock()
	if n := failures(t, w); !dirty || wait <= 0 || n != 1 {
		t.Errorf("failed receipt: dirty %v, next try in %v, %v failures counted; want dirty, later, 1", dirty, wait, n)
	}
	if entries, _ := os.ReadDir(dir); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return durable.IsTemp(e.Name()) }) {
		t.Errorf("temporary receipts left: %v", entries)
	}
	// Once the obstacle is gone, the next turn writes it, under the plain
	// name it holds.
	os.RemoveAll(rfs[0].path)
	w.flush(true)
	if f := final("F0000001"); !f.Final || f.Receipt != "blocked.csv.receipt.json" {
		t.Errorf("after the retry F0000001 is final %v with receipt %q", f.Final, f.Receipt)
	}
}

// A receipt held back by its pace (a large file's receipt waits twenty
// times its build time) is written at once when the file has settled, and
// only once out of pace.
func TestSettledReceiptSkipsThePace(t *testing.T) {
	w, st, dir := newTestWriter(t)
	putFiles(t, st, "batch.csv")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	path := filepath.Join(dir, "batch.csv.receipt.json")
	// The receipt may have been held once while the batch ran; start as if
	// it had not.
	hold := func(reset bool) {
		os.Remove(path)
		w.mu.Lock()
		if reset {
			delete(w.settled, "F0000001")
		}
		w.dirty["F0000001"] = true
		w.next["F0000001"] = time.Now().Add(time.Hour)
		w.mu.Unlock()
		w.Touch("F0000001")
	}
	exists := func() bool { _, err := os.Stat(path); return err == nil }
	hold(true)
	waitUntil(t, exists)
	// The writer sets the next turn after the write.
	waitUntil(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return time.Until(w.next["F0000001"]) < time.Minute
	})
	hold(false)
	time.Sleep(300 * time.Millisecond)
	if exists() {
		t.Error("a settled file's receipt was written out of pace twice")
	}
}

func waitUntil(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A file that another node finished (its final receipt recorded on the
// file) gets its final receipt here at once, though this node's last
// receipt of it was not final and its pace is long; a file not final yet
// keeps its pace.
func TestFinishedElsewhereSkipsThePace(t *testing.T) {
	w, st, dir := newTestWriter(t)
	putFiles(t, st, "elsewhere.csv", "running.csv")
	markFinal := func(id string) {
		err := st.Update(func(tx store.Tx) error {
			f, err := tx.File(id)
			if err != nil {
				return err
			}
			f.Final, f.Receipt = true, f.Name+".receipt.json"
			return tx.PutFile(f)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	markFinal("F0000001")
	// As if this node had written both receipts, not final, once out of
	// pace already, and the next turn were an hour away.
	w.mu.Lock()
	for _, id := range []string{"F0000001", "F0000002"} {
		w.settled[id], w.finals[id] = true, false
		w.next[id] = time.Now().Add(time.Hour)
	}
	w.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	w.Touch("F0000001")
	w.Touch("F0000002")
	waitUntil(t, func() bool {
		_, err := os.Stat(filepath.Join(dir, "elsewhere.csv.receipt.json"))
		return err == nil
	})
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(dir, "running.csv.receipt.json")); err == nil {
		t.Error("a file not final was written out of its pace")
	}
}
