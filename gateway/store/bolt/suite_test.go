package bolt

import (
	"testing"

	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/storetest"
)

// TestStore runs the store's contract, which the PostgreSQL backend runs
// too.
func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		ScanChunk: scanChunk,
		Open:      func(t *testing.T) store.Store { s, _ := openTemp(t); return s },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			path := s.(*Bolt).path
			s.Close()
			s2, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s2.Close() })
			return s2
		},
	})
}
