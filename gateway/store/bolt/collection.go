package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/gateway/store"
)

// countPayment moves a document from what it was (nil when new) to what it
// is in the counts per payment state.
func countPayment(tx *bbolt.Tx, old *stored, d *store.Doc) error {
	var from store.PaymentState
	if old != nil {
		from = old.payment
	}
	to := d.PaymentState()
	if from == to {
		return nil
	}
	counts := tx.Bucket(bPayCounts)
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
func indexPayments(tx *bbolt.Tx) error {
	if tx.Bucket(bPayCounts) != nil {
		return nil
	}
	if _, err := tx.CreateBucket(bPayCounts); err != nil {
		return err
	}
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		return visit(bDocs, k, v, func(d *store.Doc) error { return countPayment(tx, nil, d) })
	})
}

func (t *boltTx) PaymentCounts() (map[store.PaymentState]int64, error) {
	out := map[store.PaymentState]int64{}
	err := t.tx.Bucket(bPayCounts).ForEach(func(k, v []byte) error {
		out[store.PaymentState(k)] = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return out, err
}

func (t *boltTx) PutPaymentRef(tenant, ref, docID string) error {
	if ref == "" {
		return errors.New("store: an empty payment reference")
	}
	return t.tx.Bucket(bPayRefs).Put([]byte(tenant+"\x00"+ref), []byte(docID))
}

func (t *boltTx) PaymentRef(tenant, ref string) (string, error) {
	v := t.tx.Bucket(bPayRefs).Get([]byte(tenant + "\x00" + ref))
	if v == nil {
		return "", store.ErrNotFound
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

func (t *boltTx) PutCollectionRef(tenant, payer, ref, docID string) error {
	return t.tx.Bucket(bCollect).Put([]byte(tenant+"\x00"+payer+"\x00"+ref), []byte(docID))
}

func (t *boltTx) CollectionRef(tenant, payer, ref string) (string, error) {
	v := t.tx.Bucket(bCollect).Get([]byte(tenant + "\x00" + payer + "\x00" + ref))
	if v == nil {
		return "", store.ErrNotFound
	}
	return string(v), nil
}

func (t *boltTx) PutMandateOrder(o *store.MandateOrder) error {
	if o.ID == "" {
		n, err := t.tx.Bucket(bMandates).NextSequence()
		if err != nil {
			return err
		}
		o.ID = fmt.Sprintf("M%07d", n)
	}
	return t.put(bMandates, o.Tenant+"\x00"+o.ID, o)
}

func (t *boltTx) MandateOrder(tenant, id string) (*store.MandateOrder, error) {
	var o store.MandateOrder
	if err := t.get(bMandates, tenant+"\x00"+id, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

func (t *boltTx) ForEachMandateOrder(tenant string, fn func(*store.MandateOrder) error) error {
	prefix := ""
	if tenant != "" {
		prefix = tenant + "\x00"
	}
	return forEach(t, bMandates, prefix, fn)
}
