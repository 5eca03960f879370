package bolt

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

func openTemp(t *testing.T) (*Bolt, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenLockedFailsFast(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	_, err := Open(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v; it must fail fast", d)
	}
}

func TestGroupCommitIsolatesAFailingChange(t *testing.T) {
	s, _ := openTemp(t)
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(func(tx store.Tx) error {
				if err := tx.PutFile(&store.File{ID: fmt.Sprintf("F%07d", i), Tenant: "t", State: store.FileReceived}); err != nil {
					return err
				}
				if i%10 == 0 {
					return errors.New("refused")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	stored := 0
	s.View(func(tx store.Tx) error {
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
}

func TestDocsCountsEventsAndPending(t *testing.T) {
	s, path := openTemp(t)
	now := time.Now().UTC()
	err := s.Update(func(tx store.Tx) error {
		for i := range 3 {
			d := &store.Doc{ID: fmt.Sprintf("F0000001-%07d", i), FileID: "F0000001", State: store.DocQueued, Channel: "email"}
			if err := tx.AppendEvent(d, store.Event{At: now, State: store.DocReceived}); err != nil {
				return err
			}
			if err := tx.AppendEvent(d, store.Event{At: now, State: store.DocQueued, Channel: "email"}); err != nil {
				return err
			}
			if err := tx.PutDoc(d); err != nil {
				return err
			}
			if err := tx.PutBody(d.ID, &formats.Document{Number: fmt.Sprint(i), Totals: formats.Totals{Payable: 12345}}); err != nil {
				return err
			}
			if err := tx.PutDelivery(&store.Delivery{ID: store.DeliveryID(d.ID, "email"), DocID: d.ID, State: store.DeliveryQueued}); err != nil {
				return err
			}
		}
		// Another file whose id shares a prefix must not leak into F0000001's scan.
		return tx.PutDoc(&store.Doc{ID: "F00000010-0000000", FileID: "F00000010", State: store.DocRejected})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx store.Tx) error {
		d, err := tx.Doc("F0000001-0000001")
		if err != nil {
			return err
		}
		d.State = store.DocDelivered
		if err := tx.AppendEvent(d, store.Event{At: now, State: store.DocDelivered, Channel: "email"}); err != nil {
			return err
		}
		if err := tx.PutDoc(d); err != nil {
			return err
		}
		return tx.PutDelivery(&store.Delivery{ID: store.DeliveryID(d.ID, "email"), DocID: d.ID, State: store.DeliveryDelivered})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.View(func(tx store.Tx) error {
		counts, _ := tx.Counts()
		if counts[store.DocQueued]["email"] != 2 || counts[store.DocDelivered]["email"] != 1 || counts[store.DocRejected][""] != 1 {
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
		body, err := tx.Body("F0000001-0000002")
		if err != nil || body.Totals.Payable != 12345 {
			t.Errorf("body: %v %+v", err, body)
		}
		return nil
	})
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	s, _ := openTemp(t)
	s.Update(func(tx store.Tx) error {
		return tx.PutFile(&store.File{ID: "F0000001", Tenant: "t", SHA256: "abc", State: store.FileParsed})
	})
	dst := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(dst); err != nil {
		t.Fatal(err)
	}
	b, err := Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.View(func(tx store.Tx) error {
		f, err := tx.FileByHash("t", "abc")
		if err != nil || f.ID != "F0000001" {
			t.Errorf("backup lacks the file: %v", err)
		}
		return nil
	})
}

// BenchmarkGroupCommit measures state changes per second with many writers,
// the pattern of the delivery workers.
func BenchmarkGroupCommit(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetParallelism(8)
	var n sync.Mutex
	i := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			i++
			id := fmt.Sprintf("F%07d-0000000", i)
			n.Unlock()
			s.Update(func(tx store.Tx) error {
				return tx.PutDoc(&store.Doc{ID: id, State: store.DocQueued, Channel: "email"})
			})
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
}

// ScanFileDocs visits every document of the file once, in order, across
// its short transactions, and none of the next file's.
func TestScanFileDocs(t *testing.T) {
	s, _ := openTemp(t)
	const n = 2*scanChunk + 7
	for _, file := range []string{"F0000001", "F0000002"} {
		err := s.Update(func(tx store.Tx) error {
			for i := range n {
				if err := tx.PutDoc(&store.Doc{ID: fmt.Sprintf("%s-%07d", file, i), FileID: file, Index: i, State: store.DocReceived}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
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
}

// ScanDocsNewestFirst visits every document of every file once, the
// newest first, across its short transactions, and stops at fn's error.
func TestScanDocsNewestFirst(t *testing.T) {
	s, _ := openTemp(t)
	const n = scanChunk + 7
	var ids []string
	for _, file := range []string{"F0000001", "F0000002"} {
		err := s.Update(func(tx store.Tx) error {
			for i := range n {
				id := fmt.Sprintf("%s-%07d", file, i)
				ids = append(ids, id)
				if err := tx.PutDoc(&store.Doc{ID: id, FileID: file, Index: i, State: store.DocReceived}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
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
		if seen++; seen == scanChunk+1 {
			return stop
		}
		return nil
	})
	if err != stop || seen != scanChunk+1 {
		t.Errorf("stopped after %d documents with %v, want %d with %v", seen, err, scanChunk+1, stop)
	}
}

// The open files and the counts per state follow every PutFile, and a
// store from before them gets them built when it is opened.
func TestFileIndexes(t *testing.T) {
	s, path := openTemp(t)
	put := func(files ...*store.File) {
		t.Helper()
		err := s.Update(func(tx store.Tx) error {
			for _, f := range files {
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
	put(&store.File{ID: "F0000001", State: store.FileClaimed}, &store.File{ID: "F0000002", State: store.FileClaimed}, &store.File{ID: "F0000003", State: store.FileClaimed})
	put(&store.File{ID: "F0000001", State: store.FileParsed, Final: true}, &store.File{ID: "F0000002", State: store.FileParsed},
		&store.File{ID: "F0000003", State: store.FileRejected, Final: true})
	put(&store.File{ID: "F0000002", State: store.FileParsed, Docs: 5}) // same state: counted once
	want := func(s *Bolt, counts map[store.FileState]int64, open ...string) {
		t.Helper()
		var got []string
		var c map[store.FileState]int64
		err := s.View(func(tx store.Tx) (err error) {
			if c, err = tx.FileCounts(); err != nil {
				return err
			}
			return tx.ForEachOpenFile(func(f *store.File) error { got = append(got, f.ID); return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(c, counts) || !slices.Equal(got, open) {
			t.Errorf("counts %v, open %v; want %v, %v", c, got, counts, open)
		}
	}
	want(s, map[store.FileState]int64{store.FileParsed: 2, store.FileRejected: 1}, "F0000002")

	// A store written before the indexes: the same files, no index buckets.
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range fileIndexes {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	want(s2, map[store.FileState]int64{store.FileParsed: 2, store.FileRejected: 1}, "F0000002")

	var newest []string
	enough := errors.New("enough")
	err = s2.View(func(tx store.Tx) error {
		return tx.ForEachFileNewestFirst(func(f *store.File) error {
			if newest = append(newest, f.ID); len(newest) == 2 {
				return enough
			}
			return nil
		})
	})
	if err != enough || !slices.Equal(newest, []string{"F0000003", "F0000002"}) {
		t.Errorf("newest first: %v (%v), want F0000003, F0000002 and the error that ended it", newest, err)
	}
}

// The duplicate index keeps the first document of a key (DocKeyOf, tested
// in package store). A store from before the index gets it built from its
// routed documents.
func TestDocKeys(t *testing.T) {
	seller := formats.Party{Name: "Multikanal Demo Energi AB", LegalID: formats.Identifier{Scheme: "0007", Value: "5566123450"}}
	key := func(p formats.Party, kind formats.Kind, number string) store.DocKey {
		t.Helper()
		k, ok := store.DocKeyOf(&formats.Document{Seller: p, Kind: kind, Number: number})
		if !ok {
			t.Fatalf("no key for %q", number)
		}
		return k
	}
	inv := key(seller, formats.KindInvoice, "2025-1001")
	s, path := openTemp(t)
	err := s.Update(func(tx store.Tx) error {
		for _, d := range []struct {
			id    string
			state store.DocState
			kind  formats.Kind
		}{
			{"F0000001-0000000", store.DocRejected, formats.KindInvoice}, // never went out
			{"F0000001-0000001", store.DocDelivered, formats.KindInvoice},
			{"F0000002-0000000", store.DocDelivered, formats.KindInvoice}, // a second copy
			{"F0000002-0000001", store.DocQueued, formats.KindCreditNote},
		} {
			if err := tx.PutDoc(&store.Doc{ID: d.id, Tenant: "acme", State: d.state}); err != nil {
				return err
			}
			if err := tx.PutBody(d.id, &formats.Document{Seller: seller, Kind: d.kind, Number: "2025-1001"}); err != nil {
				return err
			}
			if d.state != store.DocRejected {
				if err := tx.PutDocKey("acme", key(seller, d.kind, "2025-1001"), d.id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := func(s *Bolt) {
		t.Helper()
		s.View(func(tx store.Tx) error {
			for k, id := range map[store.DocKey]string{inv: "F0000001-0000001", key(seller, formats.KindCreditNote, "2025-1001"): "F0000002-0000001"} {
				if got, err := tx.DocByKey("acme", k); got != id || err != nil {
					t.Errorf("DocByKey(%v) = %q, %v; want %s", k, got, err, id)
				}
			}
			if _, err := tx.DocByKey("beta", inv); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("another tenant's key: %v, want ErrNotFound", err)
			}
			return nil
		})
	}
	want(s)

	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bDocKeys) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	want(s2)
}
