package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/internal/durable"
)

// handle is one open database and the callers using it. A compaction
// swaps in a new handle; the old one is closed when the last caller that
// took it before the swap is done, so no reader ever sees a closed
// database and none waits for the compaction.
type handle struct {
	db *bbolt.DB
	// refs counts the callers using db, plus one while it is current.
	refs atomic.Int64
	idle chan struct{} // closed when refs reaches zero
}

func newHandle(db *bbolt.DB) *handle {
	h := &handle{db: db, idle: make(chan struct{})}
	h.refs.Store(1)
	return h
}

// acquire takes a reference, unless the handle is already retired and idle.
func (h *handle) acquire() bool {
	for {
		n := h.refs.Load()
		if n == 0 {
			return false
		}
		if h.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (h *handle) release() {
	if h.refs.Add(-1) == 0 {
		close(h.idle)
	}
}

// close retires the handle and closes its database once no caller uses it.
func (h *handle) close() error {
	h.release()
	<-h.idle
	return h.db.Close()
}

// use runs fn with the current database, which stays open until fn
// returns even when a compaction swaps in another meanwhile.
func (s *Bolt) use(fn func(*bbolt.DB) error) error {
	for {
		h := s.h.Load()
		if !h.acquire() {
			continue // swapped and idle: the next Load sees the new one
		}
		defer h.release()
		return fn(h.db)
	}
}

// exclusiveReq is work the committer runs as the only writer.
type exclusiveReq struct {
	fn   func() (store.CompactStats, error)
	res  store.CompactStats
	err  error
	done chan struct{}
}

func (x *exclusiveReq) run() {
	x.res, x.err = x.fn()
	close(x.done)
}

// compactTxSize bounds one transaction of the copy: the pages it writes
// are held in memory until it commits.
const compactTxSize = 16 << 20

// Compact rewrites the store into a new file holding only live data and
// swaps it in, online: bbolt never gives free pages back to the file
// system, so a store that retention emptied keeps its size until it is
// copied. Writes wait while the copy runs (the committer runs it, so no
// write can be lost between copy and swap); reads go on, on the old file
// until the swap and on the new one after it.
func (s *Bolt) Compact() (store.CompactStats, error) {
	x := &exclusiveReq{fn: s.compact, done: make(chan struct{})}
	select {
	case s.excl <- x:
	case <-s.done:
		return store.CompactStats{}, errors.New("store is closed")
	}
	<-x.done
	return x.res, x.err
}

func (s *Bolt) compact() (st store.CompactStats, err error) {
	start := time.Now()
	defer func() { st.Took = time.Since(start); st.WritesPaused = st.Took }()
	old := s.h.Load()
	st.BytesBefore = s.Size()
	live, err := s.liveBytes(old.db)
	if err != nil {
		return st, fmt.Errorf("compacting %s: %w", s.path, err)
	}
	dir := filepath.Dir(s.path)
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err == nil {
		if avail := int64(fs.Bavail) * int64(fs.Bsize); avail < live+live/10+compactTxSize {
			return st, fmt.Errorf("compacting %s: %w (%d MiB live data, %d MiB free on the disk); free some disk and run it again",
				s.path, store.ErrNoSpace, live>>20, avail>>20)
		}
	}
	tmp := s.path + ".compact"
	os.Remove(tmp)
	err = guard(s.path, func() error { return copyInto(tmp, old.db) })
	var db *bbolt.DB
	if err == nil {
		db, err = bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: time.Second, FreelistType: bbolt.FreelistMapType})
	}
	if err == nil {
		// The new file is opened (and locked) before it takes the name,
		// so another process can never open it unlocked.
		if err = os.Rename(tmp, s.path); err == nil {
			err = durable.SyncDir(filepath.Dir(s.path))
		} else {
			db.Close()
		}
	}
	if err != nil {
		os.Remove(tmp)
		return st, fmt.Errorf("compacting %s: %w; the store is unchanged", s.path, err)
	}
	s.h.Store(newHandle(db))
	// Readers still in the old file finish there; it is closed after the
	// last one without holding up the committer.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		old.close()
	}()
	st.BytesAfter = s.Size()
	return st, nil
}

// copyInto writes every bucket of src into a new file at path, synced.
func copyInto(path string, src *bbolt.DB) error {
	// One sync at the end instead of one per transaction of the copy.
	dst, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return err
	}
	err = bbolt.Compact(dst, src, compactTxSize)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

// liveBytes is how much of db's file holds data: its pages in use.
func (s *Bolt) liveBytes(db *bbolt.DB) (int64, error) {
	var size int64
	err := db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil })
	return size - int64(db.Stats().FreeAlloc), err
}

// FreeBytes is how much of state.db holds no data: what a compaction
// would give back to the disk.
func (s *Bolt) FreeBytes() int64 {
	var live int64
	s.use(func(db *bbolt.DB) (err error) {
		live, err = s.liveBytes(db)
		return err
	})
	return max(s.Size()-live, 0)
}
