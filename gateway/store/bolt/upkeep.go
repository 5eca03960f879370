package bolt

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/gateway/store"
)

var bPseudonymKey = []byte("pseudonym_key")

// loadPseudonymKey reads HashKey's key from the meta bucket, making it on
// first use.
func loadPseudonymKey(tx *bbolt.Tx) ([]byte, error) {
	meta := tx.Bucket(bMeta)
	if k := meta.Get(bPseudonymKey); len(k) == 32 {
		return bytes.Clone(k), nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, meta.Put(bPseudonymKey, k)
}

// HashKey is HMAC-SHA256 of "type:value" under the store's own key, cut
// to 96 bits (16 characters): enough that two keys of one tenant never
// meet, short enough for a summary.
func (s *Bolt) HashKey(k store.RecipientKey) string {
	m := hmac.New(sha256.New, s.pseudonymKey)
	m.Write([]byte(k.String()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

func (t *boltTx) RemovePayload(d *store.Doc) (store.Removed, error) {
	var rm store.Removed
	if !d.State.End() || !d.Collection.End() {
		return rm, fmt.Errorf("%s is %s: %w", d.ID, d.State, store.ErrNotFinal)
	}
	// A document's deliveries are "<doc id>.<channel>", and a resend's
	// "<doc id>-rN.<channel>" (Doc.DeliveryIDs).
	prefixes := [][]byte{[]byte(d.ID + "."), []byte(d.ID + "-r")}
	for _, prefix := range prefixes {
		if k, _ := t.tx.Bucket(bPending).Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
			return rm, fmt.Errorf("%s has delivery %s pending: %w", d.ID, k, store.ErrNotFinal)
		}
	}
	bodies := t.tx.Bucket(bBodies)
	if v := bodies.Get([]byte(d.ID)); v != nil {
		rm.Bodies, rm.Bytes = 1, int64(len(v))
		if err := bodies.Delete([]byte(d.ID)); err != nil {
			return rm, err
		}
	}
	n, size, err := deletePrefix(t.tx.Bucket(bEvents), []byte(d.ID+"\x00"))
	rm.Events, rm.Bytes = n, rm.Bytes+size
	if err != nil {
		return rm, err
	}
	for _, prefix := range prefixes {
		n, size, err := deletePrefix(t.tx.Bucket(bDeliveries), prefix)
		rm.Deliveries, rm.Bytes = rm.Deliveries+n, rm.Bytes+size
		if err != nil {
			return rm, err
		}
	}
	return rm, nil
}

// deletePrefix deletes every key of b starting with prefix.
func deletePrefix(b *bbolt.Bucket, prefix []byte) (n int, size int64, err error) {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
		size += int64(len(k) + len(v))
		if err := b.Delete(k); err != nil {
			return n, size, err
		}
		n++
	}
	return n, size, nil
}

func (t *boltTx) DropFileHash(f *store.File) error {
	b := t.tx.Bucket(bFileHash)
	key := []byte(f.Tenant + "\x00" + f.SHA256)
	if string(b.Get(key)) != f.ID {
		return nil
	}
	return b.Delete(key)
}

func (t *boltTx) RemoveRegistration(r *store.Registration) error {
	keys := t.tx.Bucket(bRegKeys)
	for _, k := range r.Keys {
		if err := keys.Delete([]byte(r.Tenant + "\x00" + k.String() + "\x00" + r.ID)); err != nil {
			return err
		}
	}
	return t.tx.Bucket(bRegistry).Delete([]byte(r.Tenant + "\x00" + r.ID))
}

func (t *boltTx) RemoveCollectionRefs(tenant, payer, docID string) (int, error) {
	b := t.tx.Bucket(bCollect)
	prefix := []byte(tenant + "\x00" + payer + "\x00")
	var gone [][]byte
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if string(v) == docID {
			gone = append(gone, bytes.Clone(k))
		}
	}
	for _, k := range gone {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(gone), nil
}
