package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/multikanal/multikanal/gateway/store"
)

// pgTx is one transaction. Writes are queued (queue) and sent together
// before the next scan or at the end (flush); a record written in the
// transaction is read back from over, so reading what one just wrote
// costs no round trip and sees the write. Every write of a keyed record
// goes through over, so a key it does not hold is as the database has it.
type pgTx struct {
	s     *Store
	tx    pgx.Tx
	batch *pgx.Batch
	// over holds the records written in this transaction: table -> key ->
	// JSON, nil when deleted.
	over map[string]map[string][]byte
	// counts are this transaction's changes to the counts per state,
	// written at the end.
	counts map[countKey]int64
	// overview are this transaction's changes to the overview's counters,
	// written at the end.
	overview map[store.OverviewCounter]int64
	// erp are the ERP's events this transaction appended, written at the
	// end (logEvents).
	erp []*store.ERPEvent
}

type countKey struct{ kind, a, b string }

func newTx(s *Store, tx pgx.Tx) *pgTx {
	return &pgTx{s: s, tx: tx, batch: &pgx.Batch{}, over: map[string]map[string][]byte{}, counts: map[countKey]int64{},
		overview: map[store.OverviewCounter]int64{}}
}

func (t *pgTx) ctx() context.Context { return t.s.ctx }

// queue adds a write to those sent at the next flush.
func (t *pgTx) queue(sql string, args ...any) { t.batch.Queue(sql, args...) }

// flush sends the queued writes in one round trip.
func (t *pgTx) flush() error {
	if t.batch.Len() == 0 {
		return nil
	}
	b := t.batch
	t.batch = &pgx.Batch{}
	if err := t.tx.SendBatch(t.ctx(), b).Close(); err != nil {
		return dbErr(err)
	}
	return nil
}

// finish writes the counts (the overview's too) and the ERP's events and
// sends what is queued.
func (t *pgTx) finish() error {
	for k, n := range t.counts {
		if n != 0 {
			t.queue(`INSERT INTO counts (node, kind, a, b, n) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (node, kind, a, b) DO UPDATE SET n = counts.n + excluded.n`, t.s.opts.Node, k.kind, k.a, k.b, n)
		}
	}
	clear(t.counts)
	writeOverview(t.batch, t.s.opts.Node, t.overview)
	clear(t.overview)
	if err := t.logEvents(); err != nil {
		return err
	}
	return t.flush()
}

// dbErr turns the fence's exception into errFencedDB.
func dbErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "MK001" {
		return errFencedDB
	}
	return err
}

// remember keeps a record written in the transaction.
func (t *pgTx) remember(table, key string, v []byte) {
	m := t.over[table]
	if m == nil {
		m = map[string][]byte{}
		t.over[table] = m
	}
	m[key] = v
}

// recall finds a record written in the transaction: ok is false when it
// wrote none under key; v is nil when it deleted it.
func (t *pgTx) recall(table, key string) (v []byte, ok bool) {
	v, ok = t.over[table][key]
	return v, ok
}

// forgetPrefix drops what the transaction remembers of keys with prefix,
// after a delete by prefix that the database did.
func (t *pgTx) forgetPrefix(table, prefix string) {
	for k := range t.over[table] {
		if strings.HasPrefix(k, prefix) {
			t.over[table][k] = nil
		}
	}
}

// one reads one value by key: from what the transaction wrote, else with
// the query, whose one column it returns; ErrNotFound when there is none.
func (t *pgTx) one(table, key, sql string, args ...any) ([]byte, error) {
	if v, ok := t.recall(table, key); ok {
		if v == nil {
			return nil, store.ErrNotFound
		}
		return v, nil
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx(), sql, args...).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, dbErr(err)
	}
	return v, nil
}

// get reads a record as one does and decodes it into v.
func (t *pgTx) get(table, key string, v any, sql string, args ...any) error {
	data, err := t.one(table, key, sql, args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("store: record %s/%s: %w", table, key, err)
	}
	return nil
}

// scanPage is how many rows one query of a scan reads: the rows are read
// before fn sees them, since fn may ask the transaction for more.
const scanPage = 1000

// rows runs a query (after the queued writes) and returns its rows of
// key and value.
func (t *pgTx) rows(sql string, args ...any) (keys []string, vals [][]byte, err error) {
	if err := t.flush(); err != nil {
		return nil, nil, err
	}
	rows, err := t.tx.Query(t.ctx(), sql, args...)
	if err != nil {
		return nil, nil, dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, dbErr(rows.Err())
}

// pages runs a scan a page at a time: query gives the SQL and arguments
// of the page after the key after ("" for the first), whose rows are key
// and value in scan order, at most scanPage of them.
func pages[T any](t *pgTx, table string, query func(after string) (string, []any), fn func(*T) error) error {
	after := ""
	for {
		sql, args := query(after)
		keys, vals, err := t.rows(sql, args...)
		if err != nil {
			return err
		}
		for i, k := range keys {
			var rec T
			if err := json.Unmarshal(vals[i], &rec); err != nil {
				return fmt.Errorf("store: record %s/%s: %w", table, k, err)
			}
			if err := fn(&rec); err != nil {
				return err
			}
		}
		if len(keys) < scanPage {
			return nil
		}
		after = keys[len(keys)-1]
	}
}

// prefixEnd is the first key after every key starting with prefix (for
// the ASCII prefixes the store's keys have).
func prefixEnd(prefix string) string {
	return prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
}

// count adds to the counts per state.
func (t *pgTx) count(kind, a, b string, delta int64) { t.counts[countKey{kind, a, b}] += delta }

// sums reads the counts of a kind: what the nodes counted, and what this
// transaction changed.
func (t *pgTx) sums(kind string) (map[[2]string]int64, error) {
	out := map[[2]string]int64{}
	rows, err := t.tx.Query(t.ctx(), "SELECT a, b, sum(n)::bigint FROM counts WHERE kind = $1 GROUP BY a, b", kind)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		var n int64
		if err := rows.Scan(&a, &b, &n); err != nil {
			return nil, err
		}
		out[[2]string{a, b}] += n
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err)
	}
	for k, n := range t.counts {
		if k.kind == kind {
			out[[2]string{k.a, k.b}] += n
		}
	}
	for k, n := range out {
		if n <= 0 {
			delete(out, k)
		}
	}
	return out, nil
}

func marshal(v any) ([]byte, error) { return json.Marshal(v) }

func unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
