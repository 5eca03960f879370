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
