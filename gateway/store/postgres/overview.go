package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/multikanal/multikanal/gateway/store"
)

// countOverview adds a document's move from old (nil when new) to d to
// the transaction's changes of the overview's counters, written at the
// end (finish) under the node's rows, as the counts per state are.
func (t *pgTx) countOverview(old, d *store.Doc) {
	for _, c := range store.OverviewChange(old, d) {
		t.overview[c.Counter] += c.N
	}
}

// writeOverview queues the transaction's changes of the overview's
// counters under node.
func writeOverview(b *pgx.Batch, node string, changes map[store.OverviewCounter]int64) {
	for c, n := range changes {
		switch {
		case n == 0:
		case c.Life != "":
			b.Queue(`INSERT INTO overview_life (tenant, life, node, n) VALUES ($1, $2, $3, $4)
				ON CONFLICT (tenant, life, node) DO UPDATE SET n = overview_life.n + excluded.n`, c.Tenant, c.Life, node, n)
		default:
			b.Queue(`INSERT INTO overview_sent (tenant, month, channel, reminder, node, n) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (tenant, month, channel, reminder, node) DO UPDATE SET n = overview_sent.n + excluded.n`,
				c.Tenant, c.Sent.Month, c.Sent.Channel, c.Sent.Reminder, node, n)
		}
	}
}

// Distribution sums the nodes' counters of the tenant and adds what this
// transaction changed.
func (t *pgTx) Distribution(tenant string) (*store.Distribution, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	out := store.NewDistribution()
	rows, err := t.tx.Query(t.ctx(), `SELECT month, channel, reminder, sum(n)::bigint FROM overview_sent
		WHERE tenant = $1 GROUP BY month, channel, reminder`, tenant)
	if err != nil {
		return nil, dbErr(err)
	}
	for rows.Next() {
		var k store.SentKey
		var n int64
		if err := rows.Scan(&k.Month, &k.Channel, &k.Reminder, &n); err != nil {
			rows.Close()
			return nil, err
		}
		out.Sent[k] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbErr(err)
	}
	rows, err = t.tx.Query(t.ctx(), "SELECT life, sum(n)::bigint FROM overview_life WHERE tenant = $1 GROUP BY life", tenant)
	if err != nil {
		return nil, dbErr(err)
	}
	for rows.Next() {
		var life string
		var n int64
		if err := rows.Scan(&life, &n); err != nil {
			rows.Close()
			return nil, err
		}
		out.Life[life] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbErr(err)
	}
	for c, n := range t.overview {
		if c.Tenant == tenant {
			out.Apply(c, n)
		}
	}
	// A counter that sums to nothing is as if absent.
	for k, n := range out.Sent {
		if n <= 0 {
			delete(out.Sent, k)
		}
	}
	for k, n := range out.Life {
		if n <= 0 {
			delete(out.Life, k)
		}
	}
	return out, nil
}

// countOverviewAll fills the overview's counters (version 3) from the
// documents a database of version 2 holds, by store.OverviewChange, as
// the bbolt backend builds its counters at its first open. They are
// counted in memory (a counter per tenant, month and channel) and
// written under the node ”.
func countOverviewAll(ctx context.Context, tx pgx.Tx) error {
	counts := map[store.OverviewCounter]int64{}
	err := eachDoc(ctx, tx, "counting the overview", func(d *store.Doc) error {
		for _, c := range store.OverviewChange(nil, d) {
			counts[c.Counter] += c.N
		}
		return nil
	})
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	writeOverview(b, "", counts)
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// eachDoc calls fn for every document of the database, in pages of
// scanPage, inside a migration's transaction; what names the step in an
// error.
func eachDoc(ctx context.Context, tx pgx.Tx, what string, fn func(*store.Doc) error) error {
	after := ""
	for {
		rows, err := tx.Query(ctx, "SELECT id, rec FROM docs WHERE id > $1 ORDER BY id LIMIT $2", after, scanPage)
		if err != nil {
			return err
		}
		var page []*store.Doc
		for rows.Next() {
			var id string
			var rec []byte
			if err := rows.Scan(&id, &rec); err != nil {
				rows.Close()
				return err
			}
			var d store.Doc
			if err := unmarshal(rec, &d); err != nil {
				rows.Close()
				return fmt.Errorf("%s: document %s: %w", what, id, err)
			}
			after, page = id, append(page, &d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range page {
			if err := fn(d); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
	}
}
