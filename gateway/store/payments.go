package store

import (
	"encoding/binary"
	"errors"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/formats"
)

// The buckets of invoice payments. They sit with their code here and join
// allBuckets at init, so the store opens them like the others.
var (
	bPaymentRefs   = []byte("payment_refs")   // tenant \x00 reference -> doc id
	bPaymentCounts = []byte("payment_counts") // payment state -> count of documents
)

func init() { allBuckets = append(allBuckets, bPaymentRefs) }

// PaymentState is the state Payment reports, without building it.
func (d *Doc) PaymentState() PaymentState {
	switch {
	case d.Collection != nil:
		return d.Collection.State
	case d.Kind != formats.KindInvoice || d.Amount <= 0:
		return ""
	}
	switch d.State {
	case DocReceived, DocParsed, DocRejected, DocHeld:
		return ""
	}
	return PaymentOpen
}

// countPayment moves a document from what it was (nil when new) to what it
// is in the counts per payment state.
func countPayment(tx *bolt.Tx, old, d *Doc) error {
	var from PaymentState
	if old != nil {
		from = old.PaymentState()
	}
	to := d.PaymentState()
	if from == to {
		return nil
	}
	counts := tx.Bucket(bPaymentCounts)
	if from != "" {
		if err := addCount(counts, string(from), -1); err != nil {
			return err
		}
	}
	if to != "" {
		return addCount(counts, string(to), 1)
	}
	return nil
}

// indexPayments builds the counts per payment state of a store from before
// them: once, at its first open by a version that keeps them. It reads
// every document, so that first open takes a while on a large store
// (about a second per 100,000 documents).
func indexPayments(tx *bolt.Tx) error {
	if tx.Bucket(bPaymentCounts) != nil {
		return nil
	}
	if _, err := tx.CreateBucket(bPaymentCounts); err != nil {
		return err
	}
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		return visit(bDocs, k, v, func(d *Doc) error { return countPayment(tx, nil, d) })
	})
}

func (t *boltTx) PaymentCounts() (map[PaymentState]int64, error) {
	out := map[PaymentState]int64{}
	err := t.tx.Bucket(bPaymentCounts).ForEach(func(k, v []byte) error {
		out[PaymentState(k)] = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return out, err
}

func (t *boltTx) PutPaymentRef(tenant, ref, docID string) error {
	if ref == "" {
		return errors.New("store: an empty payment reference")
	}
	return t.tx.Bucket(bPaymentRefs).Put([]byte(tenant+"\x00"+ref), []byte(docID))
}

func (t *boltTx) PaymentRef(tenant, ref string) (string, error) {
	v := t.tx.Bucket(bPaymentRefs).Get([]byte(tenant + "\x00" + ref))
	if v == nil {
		return "", ErrNotFound
	}
	return string(v), nil
}

func (t *boltTx) ForEachCollectionRef(tenant, payer string, fn func(payer, ref, docID string) error) error {
	prefix := tenant + "\x00"
	if payer != "" {
		prefix += payer + "\x00"
	}
	c := t.tx.Bucket(bCollect).Cursor()
	for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
		p, ref, _ := strings.Cut(string(k[len(tenant)+1:]), "\x00")
		if err := fn(p, ref, string(v)); err != nil {
			return err
		}
	}
	return nil
}
