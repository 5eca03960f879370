package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/multikanal/multikanal/gateway/store"
)

// goSteps are the parts of migrations that SQL cannot do, run right after
// the version's SQL in the same transaction: what needs package store's
// rules.
var goSteps = map[int]func(ctx context.Context, tx pgx.Tx) error{
	2: indexDunningAll,
	3: countOverviewAll,
}

// indexDunningAll fills the dunning index (version 2) from the documents
// a database of version 1 holds, by store.Doc.DunningDate, as the bbolt
// backend builds its index at its first open.
func indexDunningAll(ctx context.Context, tx pgx.Tx) error {
	after := ""
	for {
		rows, err := tx.Query(ctx, "SELECT id, rec FROM docs WHERE id > $1 ORDER BY id LIMIT 1000", after)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		n := 0
		for rows.Next() {
			var id string
			var rec []byte
			if err := rows.Scan(&id, &rec); err != nil {
				rows.Close()
				return err
			}
			after, n = id, n+1
			var d store.Doc
			if err := unmarshal(rec, &d); err != nil {
				rows.Close()
				return fmt.Errorf("indexing reminders: document %s: %w", id, err)
			}
			if due, ok := d.DunningDate(); ok {
				b.Queue("INSERT INTO dunning (doc_id, tenant, due) VALUES ($1, $2, $3::date)", d.ID, d.Tenant, due.String())
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		if n < 1000 {
			return nil
		}
	}
}
