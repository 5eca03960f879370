package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/gateway/store"
)

// needsAttention reports whether d belongs in the attention index.
func needsAttention(d *store.Doc) bool { return d.State == store.DocDead && d.Ack == nil }

// indexAttention keeps d's entry in the attention index. It is called by
// every PutDoc; the bucket is small, so asking it costs next to nothing.
func indexAttention(tx *bbolt.Tx, d *store.Doc) error {
	b, key := tx.Bucket(bAttention), []byte(d.ID)
	if needsAttention(d) {
		return b.Put(key, []byte{})
	}
	if b.Get(key) != nil {
		return b.Delete(key)
	}
	return nil
}

// buildAttention creates the attention index of a store from before it,
// from its documents, once.
func buildAttention(tx *bbolt.Tx) error {
	if tx.Bucket(bAttention) != nil {
		return nil
	}
	if _, err := tx.CreateBucket(bAttention); err != nil {
		return err
	}
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		return visit(bDocs, k, v, func(d *store.Doc) error { return indexAttention(tx, d) })
	})
}

// NeedsAttention returns the newest limit unacknowledged dead documents
// (document ids sort by file, so the last keys are the newest) and their
// number.
func (t *boltTx) NeedsAttention(limit int) ([]*store.Doc, int, error) {
	b := t.tx.Bucket(bAttention)
	n := b.Stats().KeyN
	var out []*store.Doc
	c := b.Cursor()
	for k, _ := c.Last(); k != nil && len(out) < limit; k, _ = c.Prev() {
		d, err := t.Doc(string(k))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, n, nil
}
