package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// Ack is an operator's acknowledgement of a dead document: who, when, why.
type Ack struct {
	At  time.Time `json:"at"`
	By  string    `json:"by"`
	Why string    `json:"why"`
}

// bAttention indexes the dead documents no operator has acknowledged
// (document id -> nothing), so status finds them without reading every
// document: a dead document ends its file, which then leaves open_files.
var bAttention = []byte("attention")

// needsAttention reports whether d belongs in the attention index.
func needsAttention(d *Doc) bool { return d.State == DocDead && d.Ack == nil }

// indexAttention keeps d's entry in the attention index. It is called by
// every PutDoc; the bucket is small, so asking it costs next to nothing.
func indexAttention(tx *bolt.Tx, d *Doc) error {
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
func buildAttention(tx *bolt.Tx) error {
	if tx.Bucket(bAttention) != nil {
		return nil
	}
	if _, err := tx.CreateBucket(bAttention); err != nil {
		return err
	}
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		return visit(bDocs, k, v, func(d *Doc) error { return indexAttention(tx, d) })
	})
}

// NeedsAttention returns the newest limit unacknowledged dead documents
// (document ids sort by file, so the last keys are the newest) and their
// number.
func (t *boltTx) NeedsAttention(limit int) ([]*Doc, int, error) {
	b := t.tx.Bucket(bAttention)
	n := b.Stats().KeyN
	var out []*Doc
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
