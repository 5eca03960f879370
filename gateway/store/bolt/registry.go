package bolt

import (
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/gateway/store"
)

func (t *boltTx) PutRegistration(r *store.Registration) error {
	var old *store.Registration
	if r.ID != "" {
		old = new(store.Registration)
		if err := t.get(bRegistry, r.Tenant+"\x00"+r.ID, old); err != nil {
			old = nil
		}
	}
	if r.ID == "" {
		n, err := t.tx.Bucket(bRegistry).NextSequence()
		if err != nil {
			return err
		}
		r.ID = fmt.Sprintf("R%07d", n)
	}
	keys := t.tx.Bucket(bRegKeys)
	for _, k := range r.Keys {
		if err := keys.Put([]byte(r.Tenant+"\x00"+k.String()+"\x00"+r.ID), nil); err != nil {
			return err
		}
	}
	if e, ok := store.ERPRegistrationEvent(old, r); ok {
		if err := logERP(t.tx, e); err != nil {
			return err
		}
	}
	return t.put(bRegistry, r.Tenant+"\x00"+r.ID, r)
}

func (t *boltTx) Registrations(tenant string, key store.RecipientKey) ([]*store.Registration, error) {
	prefix := []byte(tenant + "\x00" + key.String() + "\x00")
	var out []*store.Registration
	c := t.tx.Bucket(bRegKeys).Cursor()
	for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
		var r store.Registration
		if err := t.get(bRegistry, tenant+"\x00"+string(k[len(prefix):]), &r); err != nil {
			return nil, fmt.Errorf("store: registry index %q: %w", k, err)
		}
		out = append(out, &r)
	}
	return out, nil
}

func (t *boltTx) ForEachRegistration(tenant string, fn func(*store.Registration) error) error {
	return forEach(t, bRegistry, tenant+"\x00", fn)
}
