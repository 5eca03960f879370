// Package storetest is the contract of package store as a test suite:
// every backend (store/bolt, store/postgres) runs it, so both keep the
// same rules: group commit that isolates a failing change, counts and
// indexes that follow every write, scans in short transactions, the
// removals of retention, and what survives a restart.
package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// Backend opens stores for the suite.
type Backend struct {
	// Open opens a new, empty store, closed when the test ends.
	Open func(t *testing.T) store.Store
	// Reopen closes s and opens the same store again, as a restart does.
	Reopen func(t *testing.T, s store.Store) store.Store
	// ScanChunk is how many documents one transaction of a scan reads.
	ScanChunk int
	// Peer opens another node on the store s is, where nodes share one
	// (PostgreSQL); nil where a store has one writer.
	Peer func(t *testing.T, s store.Store) store.Store
}

// Run runs the suite against a backend.
func Run(t *testing.T, b Backend) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"GroupCommitIsolatesAFailingChange", groupCommit},
		{"DocsCountsEventsAndPending", docsCountsEvents},
		{"ScanFileDocs", scanFileDocs},
		{"ScanDocsNewestFirst", scanNewestFirst},
		{"FileIndexes", fileIndexes},
		{"DocKeys", docKeys},
		{"AttentionIndex", attention},
		{"PaymentCounts", paymentCounts},
		{"PaymentRefs", paymentRefs},
		{"RemovePayloadKeepsSummaryAndIndexes", removePayload},
		{"RemovePayloadWaitsForAResend", removePayloadResend},
		{"Registry", registryCase},
		{"MandateOrders", mandateOrders},
		{"QueueAndBatches", queueAndBatches},
		{"HashKeyIsStable", hashKey},
		{"ConcurrentWritersShareCommits", concurrentWriters},
		{"DunningIndex", dunningIndex},
		{"DunningRuns", dunningRuns},
		{"RegistrationEvents", registrationEvents},
		{"WebhookLog", webhookLog},
		{"EventLogCursor", eventLogCursor},
		{"OverviewCounts", overviewCounts},
		{"ChangesWithinOneTransaction", changesWithinOneTransaction},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, b) })
	}
}

func update(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(fn); err != nil {
		t.Fatal(err)
	}
}

// A failing change in a grouped commit undoes only itself.
func groupCommit(t *testing.T, b Backend) {
	s := b.Open(t)
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.Update(func(tx store.Tx) error {
				if err := tx.PutFile(&store.File{ID: fmt.Sprintf("F%07d", i), Tenant: "t", State: store.FileReceived}); err != nil {
					return err
				}
				if i%10 == 0 {
					return errors.New("refused")
				}
				return nil
			})
		})
	}
	wg.Wait()
	stored := 0
	view(t, s, func(tx store.Tx) error {
		return tx.ForEachFile(func(*store.File) error { stored++; return nil })
	})
	for i, err := range errs {
		if (i%10 == 0) != (err != nil) {
			t.Errorf("update %d: err %v", i, err)
		}
	}
	if stored != 180 {
		t.Errorf("%d files stored, want 180: a failing change must undo only itself", stored)
	}
	var counts map[store.FileState]int64
	view(t, s, func(tx store.Tx) (err error) { counts, err = tx.FileCounts(); return err })
	if counts[store.FileReceived] != 180 {
		t.Errorf("file counts %v, want 180 received: a failed change must not count", counts)
	}
}

func docsCountsEvents(t *testing.T, b Backend) {
	s := b.Open(t)
	now := time.Now().UTC()
	update(t, s, func(tx store.Tx) error {
		for i := range 3 {
			d := &store.Doc{ID: fmt.Sprintf("F0000001-%07d", i), FileID: "F0000001", State: store.DocQueued, Channel: "alpha"}
			if err := tx.AppendEvent(d, store.Event{At: now, State: store.DocReceived}); err != nil {
				return err
			}
			if err := tx.AppendEvent(d, store.Event{At: now, State: store.DocQueued, Channel: "alpha"}); err != nil {
				return err
			}
			if err := tx.PutDoc(d); err != nil {
				return err
			}
			if err := tx.PutBody(d.ID, &formats.Document{Number: fmt.Sprint(i), Totals: formats.Totals{Payable: 12345}}); err != nil {
				return err
			}
			// Read back in the same transaction.
			if got, err := tx.Doc(d.ID); err != nil || got.Events != 2 {
				return fmt.Errorf("reading back %s in its transaction: %+v, %v", d.ID, got, err)
			}
			if err := tx.PutDelivery(&store.Delivery{ID: store.DeliveryID(d.ID, "alpha"), DocID: d.ID, State: store.DeliveryQueued}); err != nil {
				return err
			}
		}
		// Another file whose id shares a prefix must not leak into F0000001's scan.
		return tx.PutDoc(&store.Doc{ID: "F00000010-0000000", FileID: "F00000010", State: store.DocRejected})
	})
	update(t, s, func(tx store.Tx) error {
		d, err := tx.Doc("F0000001-0000001")
		if err != nil {
			return err
		}
		d.State = store.DocDelivered
		if err := tx.AppendEvent(d, store.Event{At: now, State: store.DocDelivered, Channel: "alpha"}); err != nil {
			return err
		}
		if err := tx.PutDoc(d); err != nil {
			return err
		}
		return tx.PutDelivery(&store.Delivery{ID: store.DeliveryID(d.ID, "alpha"), DocID: d.ID, State: store.DeliveryDelivered})
	})
	s = b.Reopen(t, s)
	view(t, s, func(tx store.Tx) error {
		counts, _ := tx.Counts()
		if counts[store.DocQueued]["alpha"] != 2 || counts[store.DocDelivered]["alpha"] != 1 || counts[store.DocRejected][""] != 1 || len(counts) != 3 {
			t.Errorf("counts after reopen: %v", counts)
		}
		n := 0
		tx.FileDocs("F0000001", func(*store.Doc) error { n++; return nil })
		if n != 3 {
			t.Errorf("FileDocs(F0000001) found %d documents, want 3", n)
		}
		ev, _ := tx.Events("F0000001-0000001")
		if len(ev) != 3 || ev[2].State != store.DocDelivered {
			t.Errorf("history of F0000001-0000001: %+v", ev)
		}
		pending := 0
		tx.ForEachDelivery(func(*store.Delivery) error { pending++; return nil })
		if pending != 2 {
			t.Errorf("%d pending deliveries, want 2", pending)
		}
		if !tx.FilePending("F0000001") || tx.FilePending("F00000010") {
			t.Error("FilePending: F0000001 has deliveries pending, F00000010 none")
		}
		body, err := tx.Body("F0000001-0000002")
		if err != nil || body.Totals.Payable != 12345 {
			t.Errorf("body: %v %+v", err, body)
		}
		if _, err := tx.Doc("F0000009-0000000"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a document never stored: %v, want ErrNotFound", err)
		}
		if _, err := tx.Body("F0000009-0000000"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a body never stored: %v, want ErrNotFound", err)
		}
		return nil
	})
}

func putDocs(t *testing.T, s store.Store, file string, n int) []string {
	t.Helper()
	var ids []string
	update(t, s, func(tx store.Tx) error {
		ids = ids[:0]
		for i := range n {
			id := fmt.Sprintf("%s-%07d", file, i)
			ids = append(ids, id)
			if err := tx.PutDoc(&store.Doc{ID: id, FileID: file, Index: i, State: store.DocReceived}); err != nil {
				return err
			}
		}
		return nil
	})
	return ids
}

// ScanFileDocs visits every document of the file once, in order, across
// its short transactions, and none of the next file's.
func scanFileDocs(t *testing.T, b Backend) {
	s := b.Open(t)
	n := 2*b.ScanChunk + 7
	putDocs(t, s, "F0000001", n)
	putDocs(t, s, "F0000002", n)
	next := 0
	err := s.ScanFileDocs("F0000001", func(d *store.Doc) error {
		if d.FileID != "F0000001" || d.Index != next {
			t.Fatalf("document %d: got %s index %d", next, d.FileID, d.Index)
		}
		next++
		return nil
	})
	if err != nil || next != n {
		t.Errorf("scanned %d documents (%v), want %d", next, err, n)
	}
	next = 11
	err = s.ScanFileDocsAfter("F0000002", "F0000002-0000010", func(d *store.Doc) error {
		if d.Index != next {
			t.Fatalf("after 10: got index %d, want %d", d.Index, next)
		}
		next++
		return nil
	})
	if err != nil || next != n {
		t.Errorf("scanned up to %d (%v), want %d", next, err, n)
	}
}

// ScanDocsNewestFirst visits every document of every file once, the
// newest first, across its short transactions, and stops at fn's error.
func scanNewestFirst(t *testing.T, b Backend) {
	s := b.Open(t)
	n := b.ScanChunk + 7
	ids := append(putDocs(t, s, "F0000001", n), putDocs(t, s, "F0000002", n)...)
	next := len(ids) - 1
	err := s.ScanDocsNewestFirst(func(d *store.Doc) error {
		if next < 0 || d.ID != ids[next] {
			t.Fatalf("document %d from the end: got %s", len(ids)-1-next, d.ID)
		}
		next--
		return nil
	})
	if err != nil || next != -1 {
		t.Errorf("scanned %d documents (%v), want %d", len(ids)-1-next, err, len(ids))
	}
	stop := errors.New("stop")
	seen := 0
	err = s.ScanDocsNewestFirst(func(d *store.Doc) error {
		if seen++; seen == b.ScanChunk+1 {
			return stop
		}
		return nil
	})
	if err != stop || seen != b.ScanChunk+1 {
		t.Errorf("stopped after %d documents with %v, want %d with %v", seen, err, b.ScanChunk+1, stop)
	}
	var before []string
	err = s.ScanDocsBefore("F0000002-0000001", func(d *store.Doc) error {
		if before = append(before, d.ID); len(before) == 2 {
			return stop
		}
		return nil
	})
	if err != stop || !slices.Equal(before, []string{"F0000002-0000000", fmt.Sprintf("F0000001-%07d", n-1)}) {
		t.Errorf("before F0000002-0000001: %v (%v)", before, err)
	}
}

// The open files and the counts per state follow every PutFile; files
// are found by hash, and read oldest or newest first.
func fileIndexes(t *testing.T, b Backend) {
	s := b.Open(t)
	put := func(files ...*store.File) {
		t.Helper()
		update(t, s, func(tx store.Tx) error {
			for _, f := range files {
				if err := tx.PutFile(f); err != nil {
					return err
				}
			}
			return nil
		})
	}
	put(&store.File{ID: "F0000001", State: store.FileClaimed, Tenant: "t", SHA256: "a"}, &store.File{ID: "F0000002", State: store.FileClaimed, Tenant: "t", SHA256: "b"},
		&store.File{ID: "F0000003", State: store.FileClaimed, Tenant: "t", SHA256: "c"})
	put(&store.File{ID: "F0000001", State: store.FileParsed, Final: true, Tenant: "t", SHA256: "a"}, &store.File{ID: "F0000002", State: store.FileParsed, Tenant: "t", SHA256: "b"},
		&store.File{ID: "F0000003", State: store.FileRejected, Final: true, Tenant: "t", SHA256: "c"})
	put(&store.File{ID: "F0000002", State: store.FileParsed, Docs: 5, Tenant: "t", SHA256: "b"}) // same state: counted once
	put(&store.File{ID: "F0000004", State: store.FileDuplicate, Final: true, Tenant: "t", SHA256: "b", DuplicateOf: "F0000002"})
	var got []string
	var c map[store.FileState]int64
	view(t, s, func(tx store.Tx) (err error) {
		if c, err = tx.FileCounts(); err != nil {
			return err
		}
		return tx.ForEachOpenFile(func(f *store.File) error { got = append(got, f.ID); return nil })
	})
	if want := map[store.FileState]int64{store.FileParsed: 2, store.FileRejected: 1, store.FileDuplicate: 1}; !maps.Equal(c, want) || !slices.Equal(got, []string{"F0000002"}) {
		t.Errorf("counts %v, open %v; want %v, [F0000002]", c, got, want)
	}
	enough := errors.New("enough")
	var newest, after []string
	view(t, s, func(tx store.Tx) error {
		if f, err := tx.FileByHash("t", "b"); err != nil || f.ID != "F0000002" {
			t.Errorf("FileByHash b: %v %v, want F0000002 (a duplicate is not indexed)", f, err)
		}
		if _, err := tx.FileByHash("u", "b"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's hash: %v", err)
		}
		err := tx.ForEachFileNewestFirst(func(f *store.File) error {
			if newest = append(newest, f.ID); len(newest) == 2 {
				return enough
			}
			return nil
		})
		if err != enough {
			t.Errorf("newest first ended with %v", err)
		}
		return tx.ForEachFileAfter("F0000002", func(f *store.File) error { after = append(after, f.ID); return nil })
	})
	if !slices.Equal(newest, []string{"F0000004", "F0000003"}) || !slices.Equal(after, []string{"F0000003", "F0000004"}) {
		t.Errorf("newest first %v, after F0000002 %v", newest, after)
	}
	// A refused file's hash is dropped, and never indexed again.
	update(t, s, func(tx store.Tx) error {
		f, err := tx.File("F0000003")
		if err != nil {
			return err
		}
		f.Refused = true
		if err := tx.PutFile(f); err != nil {
			return err
		}
		if err := tx.DropFileHash(f); err != nil {
			return err
		}
		if _, err := tx.FileByHash("t", "c"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("a dropped hash in its transaction: %v", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.FileByHash("t", "c"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a dropped hash: %v", err)
		}
		return nil
	})
	var id1, id2 string
	update(t, s, func(tx store.Tx) (err error) {
		if id1, err = tx.NextFileID(); err != nil {
			return err
		}
		id2, err = tx.NextFileID()
		return err
	})
	if len(id1) != 8 || id1[0] != 'F' || id2 <= id1 {
		t.Errorf("file ids %q, %q: F and seven digits, growing", id1, id2)
	}
}

// The duplicate index keeps the first document of a key.
func docKeys(t *testing.T, b Backend) {
	s := b.Open(t)
	inv := store.DocKey{Seller: "orgnr:5566123450", Kind: "invoice", Number: "2025-1001"}
	cn := store.DocKey{Seller: "orgnr:5566123450", Kind: "creditnote", Number: "2025-1001"}
	update(t, s, func(tx store.Tx) error {
		for _, p := range []struct {
			k  store.DocKey
			id string
		}{{inv, "F0000001-0000001"}, {inv, "F0000002-0000000"}, {cn, "F0000002-0000001"}} {
			if err := tx.PutDocKey("acme", p.k, p.id); err != nil {
				return err
			}
		}
		if id, err := tx.DocByKey("acme", inv); id != "F0000001-0000001" || err != nil {
			return fmt.Errorf("in its transaction: %q, %v", id, err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.PutDocKey("acme", inv, "F0000003-0000000") })
	view(t, s, func(tx store.Tx) error {
		for k, id := range map[store.DocKey]string{inv: "F0000001-0000001", cn: "F0000002-0000001"} {
			if got, err := tx.DocByKey("acme", k); got != id || err != nil {
				t.Errorf("DocByKey(%v) = %q, %v; want %s", k, got, err, id)
			}
		}
		if _, err := tx.DocByKey("beta", inv); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's key: %v, want ErrNotFound", err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutNumberRef("acme", "2025-1001", "F0000001-0000001"); err != nil {
			return err
		}
		return tx.PutNumberRef("acme", "2025-1001", "F0000002-0000000") // the latest wins
	})
	view(t, s, func(tx store.Tx) error {
		if id, err := tx.NumberRef("acme", "2025-1001"); id != "F0000002-0000000" || err != nil {
			t.Errorf("NumberRef: %q, %v", id, err)
		}
		if _, err := tx.NumberRef("acme", "2025-1002"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("NumberRef of nothing: %v", err)
		}
		return nil
	})
}

// The attention index holds exactly the dead documents without an
// acknowledgement, and follows every change.
func attention(t *testing.T, b Backend) {
	s := b.Open(t)
	put := func(docs ...*store.Doc) {
		t.Helper()
		update(t, s, func(tx store.Tx) error {
			for _, d := range docs {
				if err := tx.PutDoc(d); err != nil {
					return err
				}
			}
			return nil
		})
	}
	doc := func(i int, state store.DocState, ack *store.Ack) *store.Doc {
		return &store.Doc{ID: fmt.Sprintf("F0000001-%07d", i), FileID: "F0000001", State: state, Channel: "alpha", Ack: ack}
	}
	want := func(limit int, ids ...string) {
		t.Helper()
		var got []string
		var n int
		view(t, s, func(tx store.Tx) error {
			docs, total, err := tx.NeedsAttention(limit)
			for _, d := range docs {
				got = append(got, d.ID)
			}
			n = total
			return err
		})
		if !slices.Equal(got, ids[:min(limit, len(ids))]) || n != len(ids) {
			t.Errorf("needs attention %v of %d, want %v of %d", got, n, ids[:min(limit, len(ids))], len(ids))
		}
	}
	ack := &store.Ack{At: time.Now(), By: "ops", Why: "customer paid at the counter"}
	put(doc(0, store.DocDead, nil), doc(1, store.DocDelivered, nil), doc(2, store.DocDead, nil), doc(3, store.DocRetrying, nil), doc(4, store.DocDead, nil))
	want(10, "F0000001-0000004", "F0000001-0000002", "F0000001-0000000")
	want(2, "F0000001-0000004", "F0000001-0000002", "F0000001-0000000")
	put(doc(2, store.DocDead, ack), doc(4, store.DocRouted, nil)) // acknowledged; retried
	want(10, "F0000001-0000000")
	put(doc(4, store.DocDead, nil)) // dead again after the retry
	want(10, "F0000001-0000004", "F0000001-0000000")
}

// PutDoc moves a document between the counts per payment state.
func paymentCounts(t *testing.T, b Backend) {
	s := b.Open(t)
	counts := func() map[store.PaymentState]int64 {
		t.Helper()
		var c map[store.PaymentState]int64
		view(t, s, func(tx store.Tx) (err error) { c, err = tx.PaymentCounts(); return err })
		return c
	}
	update(t, s, func(tx store.Tx) error {
		for i, d := range []*store.Doc{
			{Kind: formats.KindInvoice, Amount: 100, State: store.DocQueued},
			{Kind: formats.KindInvoice, Amount: 100, State: store.DocDelivered, Collection: &store.Collection{Method: "debit", State: store.PaymentScheduled}},
			{Kind: formats.KindCreditNote, Amount: -5, State: store.DocDelivered},
			{Kind: formats.KindInvoice, Amount: 100, State: store.DocRejected},
		} {
			d.ID = fmt.Sprintf("F0000001-%07d", i)
			if err := tx.PutDoc(d); err != nil {
				return err
			}
		}
		return nil
	})
	if got, want := counts(), map[store.PaymentState]int64{store.PaymentOpen: 1, store.PaymentScheduled: 1}; !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	update(t, s, func(tx store.Tx) error {
		d, err := tx.Doc("F0000001-0000000")
		if err != nil {
			return err
		}
		d.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPartlyPaid, Paid: 50}
		return tx.PutDoc(d)
	})
	if got, want := counts(), map[store.PaymentState]int64{store.PaymentPartlyPaid: 1, store.PaymentScheduled: 1}; !maps.Equal(got, want) {
		t.Errorf("counts after PutDoc %v, want %v", got, want)
	}
}

// Invoices are indexed by reference, and a tenant's withdrawals walked by
// payer.
func paymentRefs(t *testing.T, b Backend) {
	s := b.Open(t)
	if err := s.Update(func(tx store.Tx) error { return tx.PutPaymentRef("demo", "", "D9") }); err == nil {
		t.Fatal("an empty reference was indexed")
	}
	update(t, s, func(tx store.Tx) error {
		for _, r := range [][3]string{{"demo", "100014", "D1"}, {"acme", "100014", "D3"}, {"demo", "100014", "D4"}} {
			if err := tx.PutPaymentRef(r[0], r[1], r[2]); err != nil {
				return err
			}
		}
		for _, r := range [][4]string{{"demo", "101", "A", "D1"}, {"demo", "101", "B", "D2"}, {"demo", "1010", "A", "D5"}, {"acme", "101", "A", "D3"}, {"demo", "101", "C", "D1"}} {
			if err := tx.PutCollectionRef(r[0], r[1], r[2], r[3]); err != nil {
				return err
			}
		}
		return nil
	})
	var removed int
	update(t, s, func(tx store.Tx) (err error) { removed, err = tx.RemoveCollectionRefs("demo", "101", "D1"); return err })
	if removed != 2 {
		t.Errorf("removed %d collection references of D1, want 2", removed)
	}
	view(t, s, func(tx store.Tx) error {
		if id, err := tx.PaymentRef("demo", "100014"); err != nil || id != "D4" {
			t.Errorf("demo 100014: %q, %v; want the later invoice D4", id, err)
		}
		if id, err := tx.PaymentRef("acme", "100014"); err != nil || id != "D3" {
			t.Errorf("acme 100014: %q, %v", id, err)
		}
		if _, err := tx.PaymentRef("demo", "100022"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("demo 100022: %v, want ErrNotFound", err)
		}
		if id, err := tx.CollectionRef("demo", "101", "B"); err != nil || id != "D2" {
			t.Errorf("collection ref 101 B: %q, %v", id, err)
		}
		if _, err := tx.CollectionRef("demo", "101", "A"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a removed collection ref: %v", err)
		}
		for payer, want := range map[string]string{"101": "101/B/D2", "": "101/B/D2 1010/A/D5"} {
			var got string
			tx.ForEachCollectionRef("demo", payer, func(p, ref, id string) error {
				if got != "" {
					got += " "
				}
				got += p + "/" + ref + "/" + id
				return nil
			})
			if got != want {
				t.Errorf("withdrawals of payer %q: %s, want %s", payer, got, want)
			}
		}
		return nil
	})
}
