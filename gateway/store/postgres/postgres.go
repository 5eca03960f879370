// Package postgres is the PostgreSQL backend of package store, for
// gateways that run on several nodes (docs/scale-out.md): every node
// opens the same database, which is then the only thing they share.
//
// It keeps package store's rules as the bbolt backend does. Every Update
// of a node goes through one committer goroutine that runs all the
// Updates waiting at that moment in one transaction (group commit: a
// commit costs a WAL flush); a grouped transaction that fails is run
// again function by function. Transactions run at REPEATABLE READ: two
// nodes changing one record conflict, and the later one's transaction is
// run again (serialization failures, deadlocks and unique keys taken
// meanwhile are retried), which the store's commit invariant already
// allows, since an Update function may run twice. Counts per state are
// kept per node and summed when read, so nodes never conflict on them.
//
// Within a transaction, writes are queued and sent together (one round
// trip for many statements), and a record written earlier in it is read
// back from memory; a scan sends the queued writes first.
//
// Records are the JSON of package store in json columns, with the keys the
// bbolt backend uses; the schema is versioned (migrate.go). Nothing
// outside this package sees a pgx type.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/store"
)

// The backend implements the store, its payloads and a cluster's leases.
var (
	_ store.Store    = (*Store)(nil)
	_ store.Tx       = (*pgTx)(nil)
	_ store.Payloads = (*Store)(nil)
	_ store.Cluster  = (*Store)(nil)
)

// ErrFenced is returned by every Update after another node took this
// node's work over (its lease ran out): the process must stop, and a new
// start joins the cluster again as a new incarnation.
var ErrFenced = errkind.New(errkind.Unavailable, "this node's lease ran out and another node took its work over")

// ErrBackup is what Backup says: PostgreSQL is backed up with its own tools.
var ErrBackup = errkind.New(errkind.Invalid, "the postgres store is backed up with PostgreSQL's own tools (pg_basebackup and WAL archiving, or pg_dump), not by the gateway; see docs/scale-out.md")

// Options open a store.
type Options struct {
	// DSN is the connection string (libpq's keywords or a postgres:// URL).
	DSN string
	// Node is this process's name in the cluster, unique among the nodes
	// that run at once; "" for a command that only reads, writes once or
	// migrates (it holds no lease and owns no work).
	Node string
	// Lease is how long a node's work stays its own without a heartbeat
	// (renewed every third of it); after that another node takes it over.
	Lease time.Duration
	// Migrate applies the migrations this version has and the database
	// lacks; without it Open refuses a database whose schema is older.
	Migrate bool
	// MaxConns bounds the connections of this process (default 16).
	MaxConns int32
	// OnFenced is called once when another node took this node's work
	// over: the daemon stops.
	OnFenced func()
	Log      *slog.Logger
}

// Store is the PostgreSQL store.
type Store struct {
	opts Options
	pool *pgxpool.Pool
	log  *slog.Logger
	// owner is the node as the owner column takes it: nil without one.
	owner any
	// fence is this node's incarnation (nodes.fence), 0 without a node.
	fence        int64
	fenced       atomic.Bool
	pseudonymKey []byte

	ctx    context.Context
	cancel context.CancelFunc
	reqs   chan *updateReq
	wg     sync.WaitGroup
	once   sync.Once
}

type updateReq struct {
	fn  func(store.Tx) error
	err chan error
}

// maxGroup bounds how many Updates share one commit.
const maxGroup = 512

// Open connects, checks (or with Options.Migrate brings up to date) the
// schema, and, with a node name, joins the cluster: the node's lease is
// renewed until Close.
func Open(o Options) (*Store, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Lease <= 0 {
		o.Lease = 15 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("store: the PostgreSQL connection string: %w", err)
	}
	cfg.MaxConns = o.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "multikanal " + o.Node
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{opts: o, log: o.Log, ctx: ctx, cancel: cancel, reqs: make(chan *updateReq, maxGroup)}
	if o.Node != "" {
		s.owner = o.Node
	}
	fail := func(err error) (*Store, error) {
		cancel()
		if s.pool != nil {
			s.pool.Close()
		}
		return nil, err
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fail(fmt.Errorf("store: connecting to PostgreSQL: %w", err))
	}
	pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
	err = s.pool.Ping(pctx)
	pcancel()
	if err != nil {
		return fail(fmt.Errorf("store: PostgreSQL does not answer (%w); check [store] dsn_file and that the server runs", err))
	}
	if err := s.schema(o.Migrate); err != nil {
		return fail(err)
	}
	if s.pseudonymKey, err = s.loadPseudonymKey(); err != nil {
		return fail(fmt.Errorf("store: %w", err))
	}
	if o.Node != "" {
		if err := s.join(); err != nil {
			return fail(err)
		}
		s.wg.Add(1)
		go s.heartbeat()
	}
	s.wg.Add(1)
	go s.commitLoop()
	return s, nil
}

// View runs fn in a read-only transaction on one snapshot.
func (s *Store) View(fn func(store.Tx) error) error {
	tx, err := s.pool.BeginTx(s.ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(s.ctx))
	if err := fn(newTx(s, tx)); err != nil {
		return err
	}
	return tx.Commit(s.ctx)
}

// Update queues fn for the committer and waits for its commit.
func (s *Store) Update(fn func(store.Tx) error) error {
	if s.fenced.Load() {
		return ErrFenced
	}
	r := &updateReq{fn: fn, err: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.ctx.Done():
		return errors.New("store is closed")
	}
	return <-r.err
}

// commitLoop takes the first waiting Update, gathers the others already
// waiting, and commits them together; if that fails, each runs alone.
func (s *Store) commitLoop() {
	defer s.wg.Done()
	group := make([]*updateReq, 0, maxGroup)
	for {
		select {
		case r := <-s.reqs:
			group = append(group[:0], r)
		case <-s.ctx.Done():
			return
		}
	gather:
		for len(group) < maxGroup {
			select {
			case r := <-s.reqs:
				group = append(group, r)
			default:
				break gather
			}
		}
		err := s.run(group)
		if err == nil || len(group) == 1 {
			for _, r := range group {
				r.err <- err
			}
			continue
		}
		for _, r := range group {
			r.err <- s.run([]*updateReq{r})
		}
	}
}

// maxRetries bounds how often a transaction that conflicted with another
// node's is run again before its error is returned.
const maxRetries = 10

// run runs the functions in one transaction, again while it conflicts
// with another's.
func (s *Store) run(group []*updateReq) error {
	for attempt := 0; ; attempt++ {
		err := s.runOnce(group)
		if errors.Is(err, errFencedDB) {
			s.fencedNow()
			return ErrFenced
		}
		if err == nil || !retryable(err) || attempt == maxRetries || s.ctx.Err() != nil {
			return err
		}
		// Apart a little, so that two nodes that conflicted do not meet again.
		time.Sleep(time.Duration(rand.N(int64(2+attempt*attempt))) * time.Millisecond)
	}
}

func (s *Store) runOnce(group []*updateReq) error {
	tx, err := s.pool.BeginTx(s.ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(s.ctx))
	t := newTx(s, tx)
	if s.fence != 0 {
		// First: it holds this node's row until the commit, so a takeover
		// waits for the transactions already running, and every later one
		// fails.
		t.queue("SELECT multikanal_fence($1, $2)", s.opts.Node, s.fence)
	}
	for _, r := range group {
		if err := r.fn(t); err != nil {
			return err
		}
	}
	if err := t.finish(); err != nil {
		return err
	}
	if err := tx.Commit(s.ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// retryable reports whether a transaction's error is a conflict with
// another transaction, which running it again resolves.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "23505": // serialization failure, deadlock, a unique key taken meanwhile
			return true
		}
	}
	return false
}

// errFencedDB is the error multikanal_fence raises (SQLSTATE MK001).
var errFencedDB = errors.New("fenced")

func (s *Store) fencedNow() {
	if s.fenced.CompareAndSwap(false, true) {
		s.log.Error("this node's lease ran out and another node took its work over; stopping", "node", s.opts.Node)
		if s.opts.OnFenced != nil {
			go s.opts.OnFenced()
		}
	}
}

// Backup is not the gateway's with PostgreSQL: its own tools do it.
func (s *Store) Backup(string) error { return ErrBackup }

// Size is the database's size on disk.
func (s *Store) Size() int64 {
	var n int64
	if err := s.pool.QueryRow(s.ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
		return 0
	}
	return n
}

// Close leaves the cluster (its lease ends at once, so nothing waits for
// it to run out) and closes the connections. Updates still waiting fail.
func (s *Store) Close() error {
	err := errors.New("store already closed")
	s.once.Do(func() {
		if s.fence != 0 && !s.fenced.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.leave(ctx)
			cancel()
		}
		s.cancel()
		s.wg.Wait()
		s.pool.Close()
		err = nil
	})
	return err
}

// exec runs a statement outside the committer (the cluster's own rows).
func (s *Store) exec(ctx context.Context, sql string, args ...any) error {
	_, err := s.pool.Exec(ctx, sql, args...)
	return err
}
