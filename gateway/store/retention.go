package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// What retention and erasure need from the store. A document past its
// payload time keeps only its summary (Doc.Summarise): what it was, where
// it went, what was sent (its hash) and when. Everything else it held is
// payload: its parsed body, its event history and its delivery records.
// The indexes (file hashes, invoice numbers, collection references, the
// registry, and whatever other buckets a later version adds) are not
// payload and are never touched by a retention step.

// ErrNotFinal is returned when a document still has work ahead: it is not
// in an end state, its collection is queued, or a delivery is pending.
var ErrNotFinal = errors.New("the document is not final")

// Removed counts what a retention step or an erasure removed from the store.
type Removed struct {
	Bodies     int   `json:"bodies"`
	Events     int   `json:"events"`
	Deliveries int   `json:"deliveries"`
	Bytes      int64 `json:"bytes"` // of the values removed
}

// Add adds o to r.
func (r *Removed) Add(o Removed) {
	r.Bodies += o.Bodies
	r.Events += o.Events
	r.Deliveries += o.Deliveries
	r.Bytes += o.Bytes
}

// upkeepTx is what a transaction offers retention and erasure.
type upkeepTx interface {
	// RemovePayload deletes a final document's body, event history and
	// delivery records. It does not change d: the caller summarises it
	// (Doc.Summarise) and puts it. A document not final is refused with
	// ErrNotFinal and nothing is removed.
	RemovePayload(d *Doc) (Removed, error)
	// DropFileHash forgets a file's content hash, so the same bytes sent
	// again are taken as new (the file was refused for a reason of the
	// gateway's, not of its content: File.Refused keeps PutFile from
	// indexing it again).
	DropFileHash(f *File) error
	// RemoveRegistration deletes a registry entry with its index entries.
	RemoveRegistration(r *Registration) error
	// RemoveCollectionRefs deletes the collection references of payer
	// (as PutCollectionRef was given it) that name docID.
	RemoveCollectionRefs(tenant, payer, docID string) (int, error)
	// ForEachFileAfter calls fn for every file whose id sorts after
	// after ("" for all), in id (arrival) order, until fn returns an
	// error, which it returns: a sweep reads the files a part at a time.
	ForEachFileAfter(after string, fn func(*File) error) error
}

// upkeepStore is what the store offers retention, erasure and compaction.
type upkeepStore interface {
	// HashKey is a recipient key's pseudonym: a keyed hash, so a document
	// summary can be found by its recipient's key after its body is gone
	// without holding the key itself. The hash key lives in the store.
	HashKey(k RecipientKey) string
	// Compact copies the store into a new file without its free space and
	// swaps it in, online.
	Compact() (CompactStats, error)
	// FreeBytes is what a compaction would give back to the disk.
	FreeBytes() int64
}

var bPseudonymKey = []byte("pseudonym_key")

// loadPseudonymKey reads HashKey's key from the meta bucket, making it on
// first use.
func loadPseudonymKey(tx *bolt.Tx) ([]byte, error) {
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
func (s *Bolt) HashKey(k RecipientKey) string {
	m := hmac.New(sha256.New, s.pseudonymKey)
	m.Write([]byte(k.String()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

func (t *boltTx) RemovePayload(d *Doc) (Removed, error) {
	var rm Removed
	if !d.State.End() || !d.Collection.End() {
		return rm, fmt.Errorf("%s is %s: %w", d.ID, d.State, ErrNotFinal)
	}
	// A document's deliveries are "<doc id>.<channel>", and a resend's
	// "<doc id>-rN.<channel>" (Doc.DeliveryIDs).
	prefixes := [][]byte{[]byte(d.ID + "."), []byte(d.ID + "-r")}
	for _, prefix := range prefixes {
		if k, _ := t.tx.Bucket(bPending).Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
			return rm, fmt.Errorf("%s has delivery %s pending: %w", d.ID, k, ErrNotFinal)
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
func deletePrefix(b *bolt.Bucket, prefix []byte) (n int, size int64, err error) {
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

func (t *boltTx) DropFileHash(f *File) error {
	b := t.tx.Bucket(bFileHash)
	key := []byte(f.Tenant + "\x00" + f.SHA256)
	if string(b.Get(key)) != f.ID {
		return nil
	}
	return b.Delete(key)
}

func (t *boltTx) RemoveRegistration(r *Registration) error {
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

func (t *boltTx) ForEachFileAfter(after string, fn func(*File) error) error {
	c := t.tx.Bucket(bFiles).Cursor()
	k, v := c.Seek([]byte(after))
	if k != nil && string(k) == after {
		k, v = c.Next()
	}
	for ; k != nil; k, v = c.Next() {
		if err := visit(bFiles, k, v, fn); err != nil {
			return err
		}
	}
	return nil
}

// maxSummaryReason bounds the reason a summary keeps: the whole story of a
// delivery is in the history, which goes with the payload.
const maxSummaryReason = 200

// Summarise reduces the document record to its summary, once its payload is
// removed: who it was to (name, address, route with its addresses) and the
// validation problems go; what it was (number, kind, amount, due date),
// where it ended (state, channel, output reference, hash of what was sent),
// when, the collection and the recipient key pseudonyms stay.
//
// A delivered document's reason only repeats its output reference; other
// reasons (why it was rejected, held or dead) are cut short; an open
// payment with nothing paid goes (the payment state stays open); a payment
// with something paid or collected stays, its reason cut short. Times are
// kept to the second: a summary is kept for years, by the million.
func (d *Doc) Summarise(now time.Time) {
	d.Buyer, d.Address, d.Route, d.Problems, d.Tried = "", "", nil, nil, 0
	d.Reason = cut(d.Reason, maxSummaryReason)
	if d.State == DocDelivered {
		d.Reason = ""
	}
	if c := d.Collection; c != nil && c.State == PaymentOpen && c.Paid == 0 && len(c.Payments) == 0 {
		// Nothing was paid or collected: only the log said why. The
		// payment state reads open without it, as before.
		d.Collection = nil
	} else if c != nil {
		c.Reason, c.At = cut(c.Reason, maxSummaryReason/2), c.At.Truncate(time.Second)
	}
	d.Created, d.Updated = d.Created.Truncate(time.Second), d.Updated.Truncate(time.Second)
	d.Summarised = now.Truncate(time.Second)
}

// Anonymise removes what is left in a summary that could point at a
// person: the key pseudonyms, the payer number and the reason. What stays
// is the invoice as a bookkeeping fact: number, amount, dates, state,
// channel and the hash of what was sent.
func (d *Doc) Anonymise(now time.Time) {
	d.Summarise(now)
	d.Keys, d.Reason, d.Source = nil, "", ""
	if d.Collection != nil {
		d.Collection.Payer, d.Collection.Reason = "", ""
	}
	d.Anonymised = now.Truncate(time.Second)
}

// cut shortens s to at most n bytes on a character boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
