package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/multikanal/multikanal/gateway/store"
)

// Node is this node's name.
func (s *Store) Node() string { return s.opts.Node }

// join starts this node's incarnation: a new fence, which fences any
// earlier incarnation of the same name (a restart after a crash), and a
// lease.
func (s *Store) join() error {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT nextval('node_fences')").Scan(&s.fence); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO nodes (id, fence) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET fence = excluded.fence, taken_over = false, started = now()`, s.opts.Node, s.fence); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO node_leases (id, fence, until) VALUES ($1, $2, now() + $3::interval)
			ON CONFLICT (id) DO UPDATE SET fence = excluded.fence, until = excluded.until`, s.opts.Node, s.fence, s.opts.Lease.String())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: joining the cluster as node %s: %w", s.opts.Node, err)
	}
	s.log.Info("joined the cluster", "node", s.opts.Node, "incarnation", s.fence, "lease", s.opts.Lease.String())
	return nil
}

// heartbeat renews the lease every third of it. A node that cannot renew
// it for a whole lease fences itself: another node may have its work by
// then.
func (s *Store) heartbeat() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Lease / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if s.fenced.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.Lease/3)
		var ours bool
		err := s.pool.QueryRow(ctx, `WITH renewed AS (
				UPDATE node_leases SET until = now() + $3::interval WHERE id = $1 AND fence = $2 RETURNING id)
			SELECT EXISTS (SELECT 1 FROM nodes n JOIN renewed r ON r.id = n.id WHERE n.fence = $2 AND NOT n.taken_over)`,
			s.opts.Node, s.fence, s.opts.Lease.String()).Scan(&ours)
		cancel()
		switch {
		case err == nil && ours:
			renewed = time.Now()
		case err == nil:
			s.fencedNow()
			return
		case time.Since(renewed) > s.opts.Lease:
			s.log.Error("the lease could not be renewed for longer than it lasts", "err", err)
			s.fencedNow()
			return
		default:
			s.log.Warn("renewing the lease failed; trying again", "err", err)
		}
	}
}

// leave ends the lease at once, so that another node takes what is left
// of this node's work without waiting for it to run out.
func (s *Store) leave(ctx context.Context) {
	if err := s.exec(ctx, "UPDATE node_leases SET until = now() - interval '1 second' WHERE id = $1 AND fence = $2", s.opts.Node, s.fence); err != nil {
		s.log.Warn("leaving the cluster: the lease stays until it runs out", "err", err)
	}
}

// TakeOver takes the work of one node whose lease ran out. The node's row
// is locked, so a node whose transactions still run is passed over (SKIP
// LOCKED) until they end, and then fenced.
func (s *Store) TakeOver() (*store.Takeover, error) {
	if s.fence == 0 {
		return nil, nil
	}
	if s.fenced.Load() {
		return nil, ErrFenced
	}
	var out *store.Takeover
	err := pgx.BeginFunc(s.ctx, s.pool, func(tx pgx.Tx) error {
		out = nil
		var dead string
		err := tx.QueryRow(s.ctx, `SELECT n.id FROM nodes n JOIN node_leases l ON l.id = n.id AND l.fence = n.fence
			WHERE NOT n.taken_over AND l.until < now() AND n.id <> $1
			ORDER BY l.until LIMIT 1 FOR UPDATE OF n SKIP LOCKED`, s.opts.Node).Scan(&dead)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(s.ctx, "UPDATE nodes SET taken_over = true WHERE id = $1", dead); err != nil {
			return err
		}
		out = &store.Takeover{From: dead}
		if out.Files, err = takeRows[store.File](tx, s, "UPDATE files SET owner = $1 WHERE owner = $2 AND NOT final AND state <> 'claimed' RETURNING rec", s.opts.Node, dead); err != nil {
			return err
		}
		if out.Deliveries, err = takeRows[store.Delivery](tx, s, "UPDATE deliveries SET owner = $1 WHERE owner = $2 AND pending RETURNING rec", s.opts.Node, dead); err != nil {
			return err
		}
		out.Batches, err = takeRows[store.Batch](tx, s, "UPDATE batches SET owner = $1 WHERE owner = $2 AND open RETURNING rec", s.opts.Node, dead)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: taking over a node's work: %w", err)
	}
	if out != nil {
		s.log.Warn("took over the work of a node whose lease ran out", "from", out.From, "files", len(out.Files),
			"deliveries", len(out.Deliveries), "batches", len(out.Batches))
	}
	return out, nil
}

// Mine is the unfinished work this node's name owns.
func (s *Store) Mine() (*store.Takeover, error) {
	out := &store.Takeover{From: s.opts.Node}
	if s.opts.Node == "" {
		return out, nil
	}
	err := pgx.BeginTxFunc(s.ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) (err error) {
		if out.Files, err = takeRows[store.File](tx, s, "SELECT rec FROM files WHERE owner = $1 AND NOT final ORDER BY id", s.opts.Node); err != nil {
			return err
		}
		if out.Deliveries, err = takeRows[store.Delivery](tx, s, "SELECT rec FROM deliveries WHERE owner = $1 AND pending ORDER BY id", s.opts.Node); err != nil {
			return err
		}
		out.Batches, err = takeRows[store.Batch](tx, s, "SELECT rec FROM batches WHERE owner = $1 AND open ORDER BY id", s.opts.Node)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading this node's work: %w", err)
	}
	return out, nil
}

// takeRows reads the records a query returns.
func takeRows[T any](tx pgx.Tx, s *Store, sql string, args ...any) ([]*T, error) {
	rows, err := tx.Query(s.ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var rec T
		if err := unmarshal(data, &rec); err != nil {
			return nil, err
		}
		out = append(out, &rec)
	}
	return out, rows.Err()
}

// leaderLock is the advisory lock the leader holds on a connection of its
// own: when the leader's process dies its connection closes and the lock
// is free at once.
const leaderLock = 0x6d6b_6c65 // "mkle"

// Lead runs fn while this node holds the leader's lock; the lock's
// connection is asked every second whether it lives, and fn's context ends
// when it does not.
func (s *Store) Lead(ctx context.Context, fn func(context.Context)) {
	for {
		s.leadOnce(ctx, fn)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) leadOnce(ctx context.Context, fn func(context.Context)) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", leaderLock).Scan(&got); err != nil || !got {
		conn.Release()
		return
	}
	s.log.Info("this node leads the cluster: it cuts the batches and runs the schedules", "node", s.opts.Node)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() { defer close(done); fn(lctx) }()
	t := time.NewTicker(time.Second)
	for lctx.Err() == nil {
		select {
		case <-lctx.Done():
		case <-done:
			stop()
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil || s.fenced.Load() {
				s.log.Warn("no longer the leader: the lock's connection is lost", "err", err)
				stop()
			}
		}
	}
	t.Stop()
	<-done
	// Closing the connection frees the lock whatever state it is in.
	conn.Hijack().Close(context.Background())
}

// RequestCut asks the leader to cut the tenant's batches.
func (s *Store) RequestCut(tenant string) error {
	return s.exec(s.ctx, "INSERT INTO cut_requests (tenant) VALUES ($1) ON CONFLICT DO NOTHING", tenant)
}

// TakeCutRequests returns and forgets the tenants whose batches were asked
// to be cut.
func (s *Store) TakeCutRequests() ([]string, error) {
	rows, err := s.pool.Query(s.ctx, "DELETE FROM cut_requests RETURNING tenant")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ForEachUnbatched visits the deliveries waiting for a cut-off.
func (s *Store) ForEachUnbatched(fn func(*store.Delivery) error) error {
	return s.View(func(tx store.Tx) error {
		return pages(tx.(*pgTx), "deliveries", func(last string) (string, []any) {
			return "SELECT id, rec FROM deliveries WHERE unbatched AND id > $1 ORDER BY id LIMIT 1000", []any{last}
		}, fn)
	})
}

// receiptsChannel is the notification channel of changed receipts: a
// message is the sending node's name and file ids, space separated.
const receiptsChannel = "multikanal_receipts"

// maxNotice keeps a notification below PostgreSQL's limit (8000 bytes).
const maxNotice = 7000

// Notify tells the other nodes which files' receipts changed.
func (s *Store) Notify(fileIDs []string) error {
	var b strings.Builder
	send := func() error {
		if b.Len() == 0 {
			return nil
		}
		err := s.exec(s.ctx, "SELECT pg_notify($1, $2)", receiptsChannel, s.opts.Node+" "+b.String())
		b.Reset()
		return err
	}
	for _, id := range fileIDs {
		if b.Len()+len(id)+1 > maxNotice {
			if err := send(); err != nil {
				return err
			}
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(id)
	}
	return send()
}

// Listen calls fn with the files other nodes said changed, on a connection
// of its own; after a lost connection it calls fn(nil), since notices may
// have been missed meanwhile, and connects again.
func (s *Store) Listen(ctx context.Context, fn func(fileIDs []string)) {
	for ctx.Err() == nil {
		s.listenOnce(ctx, fn)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		fn(nil)
	}
}

func (s *Store) listenOnce(ctx context.Context, fn func([]string)) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return
	}
	// The connection listens until it is closed: it never goes back to
	// the pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+receiptsChannel); err != nil {
		return
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("listening for other nodes' receipts failed; listening again", "err", err)
			}
			return
		}
		from, ids, _ := strings.Cut(n.Payload, " ")
		if from != s.opts.Node && ids != "" {
			fn(strings.Fields(ids))
		}
	}
}
