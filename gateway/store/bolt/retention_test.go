package bolt

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// What retention removes and keeps is the store contract's (storetest
// RemovePayload, run on this backend too); here what only bbolt has: a
// bucket a later version adds, which retention does not know, keeps its
// entries.
func TestRemovePayloadLeavesUnknownBuckets(t *testing.T) {
	s, path := openTemp(t)
	const foreign = "some_later_index"
	d := &store.Doc{ID: "F0000001-0000000", FileID: "F0000001", Tenant: "t", State: store.DocDelivered, Channel: "email", Number: "1000"}
	err := s.Update(func(tx store.Tx) error {
		if err := tx.PutFile(&store.File{ID: "F0000001", Tenant: "t", SHA256: "abc", State: store.FileParsed, Final: true}); err != nil {
			return err
		}
		if err := tx.PutDoc(d); err != nil {
			return err
		}
		if err := tx.PutBody(d.ID, &formats.Document{Number: d.Number}); err != nil {
			return err
		}
		b, err := tx.(*boltTx).tx.CreateBucketIfNotExists([]byte(foreign))
		if err != nil {
			return err
		}
		return b.Put([]byte("t\x00x"), []byte(d.ID))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx store.Tx) error {
		r, err := tx.RemovePayload(d)
		if err == nil && r.Bodies != 1 {
			err = fmt.Errorf("removed %+v, want the body", r)
		}
		return err
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
		if v := tx.(*boltTx).tx.Bucket([]byte(foreign)).Get([]byte("t\x00x")); string(v) != d.ID {
			t.Errorf("a bucket retention does not know lost its entry: %q", v)
		}
		return nil
	})
}

// Compact gives the space of deleted data back to the disk while writers
// and readers go on: every write made during it is in the new file, and
// a reader that started before the swap finishes on the old one.
func TestCompactShrinksWhileWritesGoOn(t *testing.T) {
	s, path := openTemp(t)
	filler := strings.Repeat("x", 4000)
	for chunk := range 10 {
		err := s.Update(func(tx store.Tx) error {
			for i := range 2000 {
				id := fmt.Sprintf("F%07d-0000000", chunk*2000+i)
				if err := tx.PutDoc(&store.Doc{ID: id, State: store.DocDelivered, Reason: filler}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Delete nine documents of ten, as retention of old payloads would.
	err := s.Update(func(tx store.Tx) error {
		b := tx.(*boltTx).tx.Bucket(bDocs)
		for i := range 20000 {
			if i%10 != 0 {
				if err := b.Delete(fmt.Appendf(nil, "F%07d-0000000", i)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	key := s.HashKey(store.RecipientKey{Type: store.KeyPNR, Value: "191212121212"})
	before := s.Size()
	if free := s.FreeBytes(); free < before/2 {
		t.Fatalf("%d of %d bytes free after deleting 90%%: the test needs a store with deleted data", free, before)
	}

	// A reader in the old file across the swap.
	inView, swapped := make(chan struct{}), make(chan struct{})
	readerDone := make(chan error, 1)
	go func() {
		readerDone <- s.View(func(tx store.Tx) error {
			close(inView)
			<-swapped
			d, err := tx.Doc("F0000000-0000000")
			if err == nil && d.Reason != filler {
				err = fmt.Errorf("old reader reads %q", d.Reason[:10])
			}
			return err
		})
	}()
	<-inView

	var wg sync.WaitGroup
	var written, failed atomic.Int64
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("W%d-%07d", w, i)
				if err := s.Update(func(tx store.Tx) error { return tx.PutDoc(&store.Doc{ID: id, State: store.DocQueued}) }); err != nil {
					failed.Add(1)
					continue
				}
				written.Add(1)
				s.View(func(tx store.Tx) error { _, err := tx.Doc("F0000010-0000000"); return err })
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	st, err := s.Compact()
	close(swapped)
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-readerDone; err != nil {
		t.Errorf("reader across the swap: %v", err)
	}
	t.Logf("compacted %d → %d bytes in %v, writes paused %v; %d writes during the run", st.BytesBefore, st.BytesAfter, st.Took, st.WritesPaused, written.Load())
	if st.BytesAfter > before/3 || s.Size() != st.BytesAfter {
		t.Errorf("size %d → %d (on disk %d): compaction must give the deleted 90%% back", before, st.BytesAfter, s.Size())
	}
	if failed.Load() != 0 || written.Load() == 0 {
		t.Errorf("%d writes failed, %d succeeded during compaction", failed.Load(), written.Load())
	}
	if s.HashKey(store.RecipientKey{Type: store.KeyPNR, Value: "191212121212"}) != key {
		t.Error("the pseudonym key changed with compaction")
	}
	n := written.Load()
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var docs, ws int64
	s2.View(func(tx store.Tx) error {
		return tx.(*boltTx).tx.Bucket(bDocs).ForEach(func(k, _ []byte) error {
			if k[0] == 'W' {
				ws++
			} else {
				docs++
			}
			return nil
		})
	})
	if docs != 2000 || ws != n {
		t.Errorf("after reopen: %d documents (want 2000) and %d written during compaction (want %d)", docs, ws, n)
	}
	if s2.HashKey(store.RecipientKey{Type: store.KeyPNR, Value: "191212121212"}) != key {
		t.Error("the pseudonym key changed with reopening")
	}
	// The compacted file is a plain bbolt file another tool can read.
	s2.Close()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// A summary is kept for years, by the million: a field with nothing in it
// (no opening, not anonymised, a credit note's due date) takes no bytes.
// goccy/go-json before v0.12 ignored omitzero and wrote each as
// "0001-01-01T00:00:00Z" or "": 75 bytes of every summary.
func TestSummaryStoresNoZeroFields(t *testing.T) {
	s, _ := openTemp(t)
	now := time.Now().UTC()
	d := &store.Doc{ID: "F0000001-0000000", FileID: "F0000001", Tenant: "t", Kind: formats.KindCreditNote, Number: "1007",
		State: store.DocDelivered, Channel: "peppol", Output: "/o/x.xml", Created: now, Updated: now, Keys: []string{"k1"}}
	d.Summarise(now)
	if err := s.Update(func(tx store.Tx) error { return tx.PutDoc(d) }); err != nil {
		t.Fatal(err)
	}
	var raw string
	s.h.Load().db.View(func(tx *bbolt.Tx) error { raw = string(tx.Bucket(bDocs).Get([]byte(d.ID))); return nil })
	for _, zero := range []string{`"opened"`, `"anonymised"`, `"due_date"`, "0001-01-01"} {
		if strings.Contains(raw, zero) {
			t.Errorf("the summary stores %s:\n%s", zero, raw)
		}
	}
}
