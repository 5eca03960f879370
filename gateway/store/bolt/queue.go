package bolt

import (
	"bytes"
	"fmt"

	"github.com/multikanal/multikanal/gateway/store"
)

func (t *boltTx) Delivery(id string) (*store.Delivery, error) {
	var dl store.Delivery
	if err := t.get(bDeliveries, id, &dl); err != nil {
		return nil, err
	}
	return &dl, nil
}

// PutDelivery stores the delivery and keeps the index of unfinished ones,
// which is what a restart reloads.
func (t *boltTx) PutDelivery(dl *store.Delivery) error {
	p := t.tx.Bucket(bPending)
	var err error
	if (dl.State == store.DeliveryDelivered || dl.State == store.DeliveryFailed) && !dl.AwaitsConfirmation() {
		err = p.Delete([]byte(dl.ID))
	} else {
		err = p.Put([]byte(dl.ID), nil)
	}
	if err != nil {
		return err
	}
	return t.put(bDeliveries, dl.ID, dl)
}

func (t *boltTx) FilePending(fileID string) bool {
	prefix := []byte(fileID + "-")
	k, _ := t.tx.Bucket(bPending).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// ForEachDelivery visits every delivery not yet delivered or failed, and
// the delivered ones still waiting for a confirmation.
func (t *boltTx) ForEachDelivery(fn func(*store.Delivery) error) error {
	c := t.tx.Bucket(bPending).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		dl, err := t.Delivery(string(k))
		if err != nil {
			return fmt.Errorf("store: pending delivery %s: %w", k, err)
		}
		if err := fn(dl); err != nil {
			return err
		}
	}
	return nil
}

func (t *boltTx) Batch(id string) (*store.Batch, error) {
	var b store.Batch
	if err := t.get(bBatches, id, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

func (t *boltTx) PutBatch(b *store.Batch) error { return t.put(bBatches, b.ID, b) }

func (t *boltTx) ForEachBatch(fn func(*store.Batch) error) error { return forEach(t, bBatches, "", fn) }
