package postgres

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/multikanal/multikanal/gateway/store"
)

// logERP keeps an event of the ERP's log for the end of the transaction
// (logEvents), where it gets its seq.
func (t *pgTx) logERP(e *store.ERPEvent) { t.erp = append(t.erp, e) }

// erpLock is the first key of the advisory locks that order each
// tenant's events (the second is the hash of the tenant's id): a key pair
// of its own, apart from the single keys of the leader and migrate locks.
const erpLock = 0x6d6b6576 // "mkev"

// logEvents writes the transaction's events, each tenant's under its
// advisory lock (tenants in order, so two nodes never wait for each other
// the other way round), after every other write: the lock is held to the
// commit, so a tenant's events commit in the order of their seq, and
// whoever read seq n of a tenant has seen every smaller seq of it. The
// lock is the last thing the transaction waits for, so holding it never
// makes another wait on a row this transaction holds.
func (t *pgTx) logEvents() error {
	if len(t.erp) == 0 {
		return nil
	}
	byTenant := map[string][]*store.ERPEvent{}
	var tenants []string
	for _, e := range t.erp {
		if byTenant[e.Tenant] == nil {
			tenants = append(tenants, e.Tenant)
		}
		byTenant[e.Tenant] = append(byTenant[e.Tenant], e)
	}
	slices.Sort(tenants)
	for _, tn := range tenants {
		t.queue("SELECT pg_advisory_xact_lock($1, hashtext($2))", int32(erpLock), tn)
		for _, e := range byTenant[tn] {
			data, err := marshal(e)
			if err != nil {
				return fmt.Errorf("store: the ERP event of %s: %w", e.Doc+e.Registration, err)
			}
			t.queue("INSERT INTO erp_events (tenant, seq, at, rec) VALUES ($1, nextval('erp_event_seq'), $2, $3)", tn, e.At, data)
		}
	}
	t.erp = t.erp[:0]
	return nil
}

// ERPEvents reads the events committed before this transaction; those
// it appended itself get their seq at its end and are not among them.
func (t *pgTx) ERPEvents(tenant string, after uint64, limit int) ([]*store.ERPEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := t.flush(); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(t.ctx(), "SELECT seq, rec FROM erp_events WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
		tenant, clampSeq(after), limit)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	var out []*store.ERPEvent
	for rows.Next() {
		var seq int64
		var rec []byte
		if err := rows.Scan(&seq, &rec); err != nil {
			return nil, err
		}
		e := new(store.ERPEvent)
		if err := unmarshal(rec, e); err != nil {
			return nil, fmt.Errorf("store: record erp_events/%s/%d: %w", tenant, seq, err)
		}
		e.Seq = uint64(seq)
		out = append(out, e)
	}
	return out, dbErr(rows.Err())
}

// clampSeq is a seq as PostgreSQL's bigint holds it.
func clampSeq(seq uint64) int64 {
	if seq > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(seq)
}

func (t *pgTx) PutERPEvent(e *store.ERPEvent) error {
	data, err := marshal(e)
	if err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx(), "UPDATE erp_events SET rec = $3 WHERE tenant = $1 AND seq = $2", e.Tenant, clampSeq(e.Seq), data)
	if err != nil {
		return dbErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *pgTx) HookCursor(tenant string) (uint64, error) {
	v, err := t.one("erp_hooks", tenant, "SELECT seq::text FROM erp_hooks WHERE tenant = $1", tenant)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(v), 10, 64)
}

func (t *pgTx) SetHookCursor(tenant string, seq uint64) error {
	t.remember("erp_hooks", tenant, []byte(strconv.FormatUint(seq, 10)))
	t.queue(`INSERT INTO erp_hooks (tenant, seq) VALUES ($1, $2) ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq`,
		tenant, clampSeq(seq))
	return nil
}

// PruneERPEvents removes the tenant's oldest events, up to the first that
// is not older than before, as the bbolt backend does.
func (t *pgTx) PruneERPEvents(tenant string, before time.Time, max int) (int, error) {
	if max <= 0 {
		return 0, nil
	}
	if err := t.flush(); err != nil {
		return 0, err
	}
	tag, err := t.tx.Exec(t.ctx(), `DELETE FROM erp_events WHERE tenant = $1 AND seq IN (
		SELECT seq FROM erp_events WHERE tenant = $1
			AND seq < coalesce((SELECT min(seq) FROM erp_events WHERE tenant = $1 AND at >= $2), 9223372036854775807)
		ORDER BY seq LIMIT $3)`, tenant, before, max)
	if err != nil {
		return 0, dbErr(err)
	}
	return int(tag.RowsAffected()), nil
}
