package bolt

import (
	"fmt"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/gateway/store"
)

// The attention index holds exactly the dead documents without an
// acknowledgement, follows every change (ack, retry, dead again), and is
// built for a store from before it.
func TestAttentionIndex(t *testing.T) {
	s, path := openTemp(t)
	put := func(docs ...*store.Doc) {
		t.Helper()
		err := s.Update(func(tx store.Tx) error {
			for _, d := range docs {
				if err := tx.PutDoc(d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	doc := func(i int, state store.DocState, ack *store.Ack) *store.Doc {
		return &store.Doc{ID: fmt.Sprintf("F0000001-%07d", i), FileID: "F0000001", State: state, Channel: "email", Ack: ack}
	}
	want := func(s *Bolt, limit int, ids ...string) {
		t.Helper()
		var got []string
		var n int
		err := s.View(func(tx store.Tx) error {
			docs, total, err := tx.NeedsAttention(limit)
			for _, d := range docs {
				got = append(got, d.ID)
			}
			n = total
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, ids[:min(limit, len(ids))]) || n != len(ids) {
			t.Errorf("needs attention %v of %d, want %v of %d", got, n, ids[:min(limit, len(ids))], len(ids))
		}
	}
	ack := &store.Ack{At: time.Now(), By: "ops", Why: "customer paid at the counter"}
	put(doc(0, store.DocDead, nil), doc(1, store.DocDelivered, nil), doc(2, store.DocDead, nil), doc(3, store.DocRetrying, nil), doc(4, store.DocDead, nil))
	want(s, 10, "F0000001-0000004", "F0000001-0000002", "F0000001-0000000")
	want(s, 2, "F0000001-0000004", "F0000001-0000002", "F0000001-0000000")
	put(doc(2, store.DocDead, ack), doc(4, store.DocRouted, nil)) // acknowledged; retried
	want(s, 10, "F0000001-0000000")
	put(doc(4, store.DocDead, nil)) // dead again after the retry
	want(s, 10, "F0000001-0000004", "F0000001-0000000")

	// A store written before the index: the same documents, no bucket.
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bAttention) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	want(s2, 10, "F0000001-0000004", "F0000001-0000000")
}
