package postgres

import (
	"errors"
	"fmt"

	"github.com/multikanal/multikanal/gateway/store"
)

// PutRegistration records the registration and, for one that is new or
// revoked, appends its event to the ERP's log.
func (t *pgTx) PutRegistration(r *store.Registration) error {
	var old *store.Registration
	if r.ID != "" {
		var was store.Registration
		err := t.get("registrations", r.Tenant+"\x00"+r.ID, &was, "SELECT rec FROM registrations WHERE tenant = $1 AND id = $2", r.Tenant, r.ID)
		switch {
		case err == nil:
			old = &was
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	if r.ID == "" {
		var n int64
		if err := t.tx.QueryRow(t.ctx(), "SELECT nextval('registration_ids')").Scan(&n); err != nil {
			return dbErr(err)
		}
		r.ID = fmt.Sprintf("R%07d", n)
	}
	for _, k := range r.Keys {
		t.queue("INSERT INTO registration_keys (tenant, key, id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", r.Tenant, k.String(), r.ID)
	}
	if e, ok := store.ERPRegistrationEvent(old, r); ok {
		t.logERP(e)
	}
	data, err := marshal(r)
	if err != nil {
		return err
	}
	t.remember("registrations", r.Tenant+"\x00"+r.ID, data)
	t.queue(`INSERT INTO registrations (tenant, id, rec) VALUES ($1, $2, $3)
		ON CONFLICT (tenant, id) DO UPDATE SET rec = excluded.rec`, r.Tenant, r.ID, data)
	return nil
}

func (t *pgTx) Registrations(tenant string, key store.RecipientKey) ([]*store.Registration, error) {
	var out []*store.Registration
	err := pages(t, "registrations", func(last string) (string, []any) {
		return `SELECT r.id, r.rec FROM registration_keys k JOIN registrations r ON r.tenant = k.tenant AND r.id = k.id
			WHERE k.tenant = $1 AND k.key = $2 AND k.id > $3 ORDER BY k.id LIMIT 1000`, []any{tenant, key.String(), last}
	}, func(r *store.Registration) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func (t *pgTx) ForEachRegistration(tenant string, fn func(*store.Registration) error) error {
	return pages(t, "registrations", func(last string) (string, []any) {
		return "SELECT id, rec FROM registrations WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT 1000", []any{tenant, last}
	}, fn)
}
