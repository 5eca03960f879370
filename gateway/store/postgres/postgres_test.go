package postgres

import (
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/postgres/pgtest"
	"github.com/multikanal/multikanal/gateway/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open opens a store on dsn, closed when the test ends.
func open(t *testing.T, o Options) *Store {
	t.Helper()
	if o.Lease == 0 {
		o.Lease = 3 * time.Second
	}
	o.Migrate = true
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStore runs the store's contract, which the bbolt backend runs too,
// on a real PostgreSQL.
func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		ScanChunk: scanChunk,
		Open:      func(t *testing.T) store.Store { return open(t, Options{DSN: pgtest.DSN(t), Node: "n1"}) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			o := s.(*Store).opts
			s.Close()
			return open(t, o)
		},
		Peer: func(t *testing.T, s store.Store) store.Store {
			o := s.(*Store).opts
			o.Node += "-peer"
			return open(t, o)
		},
	})
}
