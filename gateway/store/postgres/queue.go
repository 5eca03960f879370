package postgres

import (
	"github.com/multikanal/multikanal/gateway/store"
)

func (t *pgTx) Delivery(id string) (*store.Delivery, error) {
	var dl store.Delivery
	if err := t.get("deliveries", id, &dl, "SELECT rec FROM deliveries WHERE id = $1", id); err != nil {
		return nil, err
	}
	return &dl, nil
}

// pending reports whether a delivery is not at an end, or waits for its
// receiver's confirmation: what a restart or a takeover loads.
func pending(dl *store.Delivery) bool {
	return dl.State != store.DeliveryDelivered && dl.State != store.DeliveryFailed || dl.AwaitsConfirmation()
}

// PutDelivery records the delivery; one not at an end becomes this
// node's, which holds it in its queue. One that already awaited a
// confirmation or an opening and still does stays its sender's, which
// holds its deadline: a report or a visit recorded on another node does
// not move it.
func (t *pgTx) PutDelivery(dl *store.Delivery) error {
	data, err := marshal(dl)
	if err != nil {
		return err
	}
	p, awaits := pending(dl), dl.AwaitsConfirmation()
	unbatched := p && dl.Batched && dl.BatchID == "" && !awaits
	t.remember("deliveries", dl.ID, data)
	t.queue(`INSERT INTO deliveries (id, pending, unbatched, awaits, owner, rec) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET pending = excluded.pending, unbatched = excluded.unbatched, awaits = excluded.awaits,
			owner = CASE WHEN deliveries.awaits AND excluded.awaits THEN deliveries.owner ELSE excluded.owner END, rec = excluded.rec`,
		dl.ID, p, unbatched, awaits, t.s.owner, data)
	return nil
}

// FilePending reports whether a document of the file has a delivery not
// at an end. When it cannot be asked it says yes: a receipt then waits
// rather than calling a file final too early.
func (t *pgTx) FilePending(fileID string) bool {
	if err := t.flush(); err != nil {
		return true
	}
	prefix := fileID + "-"
	var yes bool
	err := t.tx.QueryRow(t.ctx(), "SELECT EXISTS (SELECT 1 FROM deliveries WHERE pending AND id > $1 AND id < $2)", prefix, prefixEnd(prefix)).Scan(&yes)
	return yes || err != nil
}

func (t *pgTx) ForEachDelivery(fn func(*store.Delivery) error) error {
	return pages(t, "deliveries", func(last string) (string, []any) {
		return "SELECT id, rec FROM deliveries WHERE pending AND id > $1 ORDER BY id LIMIT 1000", []any{last}
	}, fn)
}

func (t *pgTx) Batch(id string) (*store.Batch, error) {
	var b store.Batch
	if err := t.get("batches", id, &b, "SELECT rec FROM batches WHERE id = $1", id); err != nil {
		return nil, err
	}
	return &b, nil
}

// PutBatch records the batch; one not yet sent becomes this node's.
func (t *pgTx) PutBatch(b *store.Batch) error {
	data, err := marshal(b)
	if err != nil {
		return err
	}
	t.remember("batches", b.ID, data)
	open := b.State != store.DeliveryDelivered && b.State != store.DeliveryFailed
	t.queue(`INSERT INTO batches (id, open, owner, rec) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET open = excluded.open, owner = excluded.owner, rec = excluded.rec`, b.ID, open, t.s.owner, data)
	return nil
}

func (t *pgTx) ForEachBatch(fn func(*store.Batch) error) error {
	return pages(t, "batches", func(last string) (string, []any) {
		return "SELECT id, rec FROM batches WHERE id > $1 ORDER BY id LIMIT 1000", []any{last}
	}, fn)
}
