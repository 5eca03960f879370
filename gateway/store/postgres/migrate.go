package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The schema's versions: migrations/NNNN_what.sql, applied in order, each
// once, all those a database lacks in one transaction (PostgreSQL's DDL is
// transactional, so a failed migration leaves the schema as it was), and
// recorded in schema_migrations. A migration is never edited once released: a change
// is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migration is one step of the schema.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: its name must start with its version, NNNN_", e.Name())
		}
		data, err := migrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{v, e.Name(), string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must count up from 1 without a gap", m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the version of the schema this build needs.
func SchemaVersion() int {
	ms, _ := loadMigrations()
	return len(ms)
}

// migrateLock is the advisory lock that keeps two nodes from migrating at
// once: the second waits, then finds nothing left to do.
const migrateLock = 0x6d6b_6d69 // "mkmi"

// schema checks the database's schema version, migrating it first when
// allowed.
func (s *Store) schema(migrate bool) error {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Minute)
	defer cancel()
	if migrate {
		if _, err := Migrate(ctx, s.pool); err != nil {
			return err
		}
	}
	have, err := version(ctx, s.pool)
	if err != nil {
		return err
	}
	switch want := SchemaVersion(); {
	case have < want:
		return fmt.Errorf("store: the database's schema is at version %d and this version of multikanal needs %d: run `multikanal migrate` (or set [store] migrate = true)", have, want)
	case have > want:
		return fmt.Errorf("store: the database's schema is at version %d, newer than this version of multikanal knows (%d): run the newer version", have, want)
	}
	return nil
}

// version reads the schema's version: 0 for an empty database.
func version(ctx context.Context, db beginner) (int, error) {
	var exists bool
	if err := db.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v int
	if err := db.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: reading the schema version: %w", err)
	}
	return v, nil
}

// beginner is a pool or a connection.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Migrated is one migration applied.
type Migrated struct {
	Version int
	Name    string
	Took    time.Duration
}

// Migrate applies the migrations the database lacks, in order, under an
// advisory lock, and returns those it applied.
func Migrate(ctx context.Context, db beginner) ([]Migrated, error) {
	return migrateTo(ctx, db, SchemaVersion())
}

// migrateTo applies the migrations the database lacks up to version to.
func migrateTo(ctx context.Context, db beginner, to int) ([]Migrated, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	var done []Migrated
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrating: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
		return nil, fmt.Errorf("store: migrating: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("store: migrating: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return nil, fmt.Errorf("store: migrating: %w", err)
	}
	for _, m := range ms {
		if m.version <= have || m.version > to {
			continue
		}
		start := time.Now()
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("store: migration %s failed, nothing of it was applied: %w", m.name, err)
		}
		if step := goSteps[m.version]; step != nil {
			if err := step(ctx, tx); err != nil {
				return nil, fmt.Errorf("store: migration %s failed, nothing of it was applied: %w", m.name, err)
			}
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		done = append(done, Migrated{m.version, m.name, time.Since(start)})
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: migrating: %w", err)
	}
	return done, nil
}

// MigrateDSN connects to the database and migrates it (multikanal
// migrate); it returns the migrations applied and the version reached.
func MigrateDSN(ctx context.Context, dsn string) ([]Migrated, int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, 0, fmt.Errorf("store: connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	done, err := Migrate(ctx, conn)
	if err != nil {
		return done, 0, err
	}
	v, err := version(ctx, conn)
	return done, v, err
}
