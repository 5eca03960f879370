package postgres

import (
	"errors"
	"fmt"

	"github.com/multikanal/multikanal/gateway/store"
)

func (t *pgTx) PaymentCounts() (map[store.PaymentState]int64, error) {
	sums, err := t.sums("payment")
	out := map[store.PaymentState]int64{}
	for k, n := range sums {
		out[store.PaymentState(k[0])] = n
	}
	return out, err
}

func (t *pgTx) PutPaymentRef(tenant, ref, docID string) error {
	if ref == "" {
		return errors.New("store: an empty payment reference")
	}
	t.remember("payment_refs", tenant+"\x00"+ref, []byte(docID))
	t.queue(`INSERT INTO payment_refs (tenant, ref, doc_id) VALUES ($1, $2, $3)
		ON CONFLICT (tenant, ref) DO UPDATE SET doc_id = excluded.doc_id`, tenant, ref, docID)
	return nil
}

func (t *pgTx) PaymentRef(tenant, ref string) (string, error) {
	v, err := t.one("payment_refs", tenant+"\x00"+ref, "SELECT doc_id FROM payment_refs WHERE tenant = $1 AND ref = $2", tenant, ref)
	return string(v), err
}

func (t *pgTx) PutCollectionRef(tenant, payer, ref, docID string) error {
	t.remember("collection_refs", tenant+"\x00"+payer+"\x00"+ref, []byte(docID))
	t.queue(`INSERT INTO collection_refs (tenant, payer, ref, doc_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant, payer, ref) DO UPDATE SET doc_id = excluded.doc_id`, tenant, payer, ref, docID)
	return nil
}

func (t *pgTx) CollectionRef(tenant, payer, ref string) (string, error) {
	v, err := t.one("collection_refs", tenant+"\x00"+payer+"\x00"+ref,
		"SELECT doc_id FROM collection_refs WHERE tenant = $1 AND payer = $2 AND ref = $3", tenant, payer, ref)
	return string(v), err
}

// ForEachCollectionRef reads the withdrawals first and then calls fn,
// which may ask the transaction for more.
func (t *pgTx) ForEachCollectionRef(tenant, payer string, fn func(payer, ref, docID string) error) error {
	if err := t.flush(); err != nil {
		return err
	}
	sql := "SELECT payer, ref, doc_id FROM collection_refs WHERE tenant = $1 ORDER BY payer, ref"
	args := []any{tenant}
	if payer != "" {
		sql = "SELECT payer, ref, doc_id FROM collection_refs WHERE tenant = $1 AND payer = $2 ORDER BY ref"
		args = append(args, payer)
	}
	rows, err := t.tx.Query(t.ctx(), sql, args...)
	if err != nil {
		return dbErr(err)
	}
	var refs [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			rows.Close()
			return err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbErr(err)
	}
	for _, r := range refs {
		if err := fn(r[0], r[1], r[2]); err != nil {
			return err
		}
	}
	return nil
}

func (t *pgTx) PutMandateOrder(o *store.MandateOrder) error {
	if o.ID == "" {
		var n int64
		if err := t.tx.QueryRow(t.ctx(), "SELECT nextval('mandate_ids')").Scan(&n); err != nil {
			return dbErr(err)
		}
		o.ID = fmt.Sprintf("M%07d", n)
	}
	data, err := marshal(o)
	if err != nil {
		return err
	}
	t.remember("mandate_orders", o.Tenant+"\x00"+o.ID, data)
	t.queue(`INSERT INTO mandate_orders (tenant, id, rec) VALUES ($1, $2, $3)
		ON CONFLICT (tenant, id) DO UPDATE SET rec = excluded.rec`, o.Tenant, o.ID, data)
	return nil
}

func (t *pgTx) MandateOrder(tenant, id string) (*store.MandateOrder, error) {
	var o store.MandateOrder
	if err := t.get("mandate_orders", tenant+"\x00"+id, &o, "SELECT rec FROM mandate_orders WHERE tenant = $1 AND id = $2", tenant, id); err != nil {
		return nil, err
	}
	return &o, nil
}

func (t *pgTx) ForEachMandateOrder(tenant string, fn func(*store.MandateOrder) error) error {
	return pages(t, "mandate_orders", func(last string) (string, []any) {
		if tenant == "" {
			return "SELECT tenant || chr(1) || id, rec FROM mandate_orders WHERE tenant || chr(1) || id > $1 ORDER BY tenant, id LIMIT 1000", []any{last}
		}
		return "SELECT id, rec FROM mandate_orders WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT 1000", []any{tenant, last}
	}, fn)
}
