package bolt

import (
	"encoding/binary"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/gateway/store"
)

// The ERP's event log: erp_events holds tenant \x00 seq (8 bytes, big
// endian) -> event; erp_hooks tenant -> the last seq its webhook is done
// with.
var (
	bERPEvents = []byte("erp_events")
	bERPHooks  = []byte("erp_hooks")
)

func erpKey(tenant string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(tenant+"\x00"), seq)
}

// logERP appends an event to its tenant's log, giving it its seq.
func logERP(tx *bbolt.Tx, e *store.ERPEvent) error {
	b := tx.Bucket(bERPEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	return (&boltTx{tx: tx}).put(bERPEvents, string(erpKey(e.Tenant, seq)), e)
}

func (t *boltTx) ERPEvents(tenant string, after uint64, limit int) ([]*store.ERPEvent, error) {
	prefix := []byte(tenant + "\x00")
	var out []*store.ERPEvent
	c := t.tx.Bucket(bERPEvents).Cursor()
	for k, v := c.Seek(erpKey(tenant, after+1)); k != nil && len(out) < limit && len(k) == len(prefix)+8 && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
		if err := visit(bERPEvents, k, v, func(e *store.ERPEvent) error { out = append(out, e); return nil }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *boltTx) PutERPEvent(e *store.ERPEvent) error {
	key := erpKey(e.Tenant, e.Seq)
	if t.tx.Bucket(bERPEvents).Get(key) == nil {
		return store.ErrNotFound
	}
	return t.put(bERPEvents, string(key), e)
}

func (t *boltTx) HookCursor(tenant string) (uint64, error) {
	v := t.tx.Bucket(bERPHooks).Get([]byte(tenant))
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

func (t *boltTx) SetHookCursor(tenant string, seq uint64) error {
	return t.tx.Bucket(bERPHooks).Put([]byte(tenant), binary.BigEndian.AppendUint64(nil, seq))
}

func (t *boltTx) PruneERPEvents(tenant string, before time.Time, max int) (int, error) {
	prefix := []byte(tenant + "\x00")
	c := t.tx.Bucket(bERPEvents).Cursor()
	n := 0
	for k, v := c.Seek(prefix); k != nil && n < max && len(k) == len(prefix)+8 && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
		var old bool
		if err := visit(bERPEvents, k, v, func(e *store.ERPEvent) error { old = e.At.Before(before); return nil }); err != nil {
			return n, err
		}
		if !old {
			break
		}
		if err := c.Delete(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
