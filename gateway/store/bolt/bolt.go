// Package bolt is the bbolt backend of package store: one file
// (<data>/state.db), written by one committer goroutine that gathers every
// Update waiting at that moment into one transaction (group commit), read
// through a memory map whose pages are given back to the kernel as it goes
// (release_linux.go), compacted online (compact.go). It is split by
// aggregate as the store's interfaces are: files.go, docs.go (and scan.go),
// queue.go, registry.go, collection.go (and attention.go), upkeep.go.
//
// Records are JSON in buckets whose keys sort the way they are scanned.
// Nothing outside this package sees a bbolt type.
package bolt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/internal/durable"
)

// Bucket names. Keys sort the way they are scanned: document ids start with
// their file id, event keys with their document id and a big-endian sequence.
// The indexes built at the first open of a store from before them
// (fileIndexes, doc_keys, payment_counts, attention, dunning,
// overview_counts) are created there.
var (
	bFiles      = []byte("files")
	bFileHash   = []byte("file_hash") // tenant \x00 sha256 -> file id
	bDocs       = []byte("docs")
	bBodies     = []byte("bodies")
	bEvents     = []byte("events") // doc id \x00 seq(4) -> event
	bDeliveries = []byte("deliveries")
	bPending    = []byte("pending") // delivery ids not yet in an end state
	bBatches    = []byte("batches")
	bCounts     = []byte("counts") // "state|channel" -> count of documents
	bMeta       = []byte("meta")
	bRegistry   = []byte("registry")        // tenant \x00 registration id -> registration
	bRegKeys    = []byte("registry_keys")   // tenant \x00 type:value \x00 registration id -> nil
	bCollect    = []byte("collection_refs") // tenant \x00 payer \x00 reference -> doc id
	bNumbers    = []byte("invoice_numbers") // tenant \x00 invoice number -> doc id
	bMandates   = []byte("mandate_orders")  // tenant \x00 order id -> mandate order
	bOpenFiles  = []byte("open_files")      // file id -> nothing, while its receipt is not final
	bFileCounts = []byte("file_counts")     // file state -> count of files
	bDocKeys    = []byte("doc_keys")        // tenant \x00 seller \x00 kind \x00 number -> first doc id
	bPayRefs    = []byte("payment_refs")    // tenant \x00 reference -> doc id
	bPayCounts  = []byte("payment_counts")  // payment state -> count of documents
	bAttention  = []byte("attention")       // dead documents no operator acknowledged: doc id -> nothing
	allBuckets  = [][]byte{bFiles, bFileHash, bDocs, bBodies, bEvents, bDeliveries, bPending, bBatches, bCounts, bMeta, bRegistry, bRegKeys, bCollect, bNumbers, bMandates, bPayRefs, bERPEvents, bERPHooks, bDunningRuns}
	// fileIndexes are kept by PutFile; a store from before them gets them
	// built from its files when it is opened.
	fileIndexes = [][]byte{bOpenFiles, bFileCounts}
)

// The backend implements the store.
var (
	_ store.Store = (*Bolt)(nil)
	_ store.Tx    = (*boltTx)(nil)
)

// ErrLocked is returned by Open when another process holds the database:
// unavailable until it stops.
var ErrLocked = errkind.New(errkind.Unavailable, "the store is locked by another process")

// ErrDamaged is returned when the database file is damaged: bbolt panics on
// pages it cannot read, and the store turns that into this error so the
// daemon stops with a message instead of a stack trace.
var ErrDamaged = errors.New("the store is damaged")

// guard runs fn and turns a panic from bbolt (a damaged page) into
// ErrDamaged.
func guard(path string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store %s: %w (%v); stop the daemon and restore the last backup (multikanal backup)", path, ErrDamaged, r)
		}
	}()
	return fn()
}

// Bolt is the bbolt Store. Writes go through one committer goroutine that
// gathers every Update waiting at that moment into a single transaction.
type Bolt struct {
	// h is the open database. Compact swaps in a new one; a caller holds
	// the handle it started with until it is done (use), and the old
	// database is closed once its last reader is.
	h    atomic.Pointer[handle]
	path string
	// pseudonymKey keys HashKey; it lives in the store's meta bucket.
	pseudonymKey []byte
	reqs         chan *updateReq
	// excl runs work that must be the only writer (Compact) in the
	// committer, between two groups.
	excl chan *exclusiveReq
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

type updateReq struct {
	fn  func(store.Tx) error
	err chan error
}

// maxGroup bounds how many Updates share one commit, so one slow caller
// cannot hold a huge transaction open.
const maxGroup = 512

// Open opens or creates the store at path. If another process holds it, Open
// fails within a second with ErrLocked instead of waiting forever.
func Open(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var db *bbolt.DB
	err := guard(path, func() (err error) {
		db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, FreelistType: bbolt.FreelistMapType})
		return err
	})
	if err != nil {
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("store %s: %w (is another multikanal running with this data directory?)", path, ErrLocked)
		}
		return nil, fmt.Errorf("store %s: cannot open (%w); if the file is damaged, restore the last backup (multikanal backup)", path, err)
	}
	var pseudonymKey []byte
	err = guard(path, func() error {
		return db.Update(func(tx *bbolt.Tx) error {
			for _, b := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			var err error
			if pseudonymKey, err = loadPseudonymKey(tx); err != nil {
				return err
			}
			// Read every page once: a damaged file is found now, with a
			// message, not by a panic in the middle of work. (The checker
			// must be drained: it reads the transaction until it is done.)
			var first error
			for err := range tx.Check() {
				if first == nil {
					first = err
				}
			}
			if first != nil {
				return fmt.Errorf("%w: %v", ErrDamaged, first)
			}
			if err := indexFiles(tx); err != nil {
				return err
			}
			if err := buildAttention(tx); err != nil {
				return err
			}
			if err := indexPayments(tx); err != nil {
				return err
			}
			if err := buildDunning(tx); err != nil {
				return err
			}
			if err := buildOverview(tx); err != nil {
				return err
			}
			return indexDocKeys(tx)
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w; stop the daemon and restore the last backup (multikanal backup)", path, err)
	}
	// The check mapped every page of the store: give them back before the
	// release loop takes the resident set it starts from.
	guard(path, func() error { return releaseMap(db) })
	s := &Bolt{path: path, pseudonymKey: pseudonymKey, reqs: make(chan *updateReq, maxGroup), excl: make(chan *exclusiveReq),
		done: make(chan struct{})}
	s.h.Store(newHandle(db))
	s.wg.Add(2)
	go s.commitLoop()
	go s.releaseLoop()
	return s, nil
}

// The store's mapped pages are released from the daemon's resident memory
// (releaseMap) at least every releaseInterval, and sooner when the
// file-backed part of it has grown by releaseAbove since the store opened:
// it is looked at every releaseCheck.
const (
	releaseInterval = 250 * time.Millisecond
	releaseCheck    = 20 * time.Millisecond
	releaseAbove    = 32 << 20
)

// releaseLoop keeps the daemon's resident memory from growing with the
// store: bbolt reads through a memory map, and every page read stays
// counted in RSS until released.
func (s *Bolt) releaseLoop() {
	defer s.wg.Done()
	t := time.NewTicker(releaseCheck)
	defer t.Stop()
	base := fileResident()
	last := time.Now()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			if now.Sub(last) < releaseInterval && (base < 0 || fileResident() < base+releaseAbove) {
				continue
			}
			guard(s.path, func() error { return s.use(releaseMap) })
			last = now
		}
	}
}

// View runs fn in a read-only transaction.
func (s *Bolt) View(fn func(store.Tx) error) error {
	return guard(s.path, func() error {
		return s.use(func(db *bbolt.DB) error {
			return db.View(func(tx *bbolt.Tx) error { return fn(&boltTx{tx: tx}) })
		})
	})
}

// Update queues fn for the committer and waits for its commit.
func (s *Bolt) Update(fn func(store.Tx) error) error {
	r := &updateReq{fn: fn, err: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.done:
		return errors.New("store is closed")
	}
	return <-r.err
}

// commitLoop takes the first waiting Update, gathers all others already
// waiting, and commits them together. If the group fails, each is retried on
// its own so one bad change cannot undo the others.
func (s *Bolt) commitLoop() {
	defer s.wg.Done()
	group := make([]*updateReq, 0, maxGroup)
	for {
		select {
		case r := <-s.reqs:
			group = append(group[:0], r)
		case x := <-s.excl:
			x.run()
			continue
		case <-s.done:
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
		// Only the committer swaps the handle (Compact runs here), so the
		// one it loads stays current for the whole group.
		db := s.h.Load().db
		err := guard(s.path, func() error {
			return db.Update(func(tx *bbolt.Tx) error {
				t := &boltTx{tx: tx}
				for _, r := range group {
					if err := r.fn(t); err != nil {
						return err
					}
				}
				return nil
			})
		})
		if err == nil || len(group) == 1 {
			for _, r := range group {
				r.err <- err
			}
			continue
		}
		for _, r := range group {
			r.err <- guard(s.path, func() error {
				return db.Update(func(tx *bbolt.Tx) error { return r.fn(&boltTx{tx: tx}) })
			})
		}
	}
}

// Backup writes a consistent copy of the store while it stays in use. The
// copy is written inside one read transaction, which holds every commit
// that must grow the store's memory map until it ends: write it to a local
// file, which is quick, and never to a client that may read slowly.
func (s *Bolt) Backup(path string) error {
	err := durable.Write(path, 0o600, func(w io.Writer) error {
		return s.use(func(db *bbolt.DB) error {
			return db.View(func(tx *bbolt.Tx) error {
				_, err := tx.WriteTo(w)
				return err
			})
		})
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Size is the database file's size.
func (s *Bolt) Size() int64 {
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Close stops the committer and closes the database. Updates still waiting
// fail; callers stop issuing them before Close.
func (s *Bolt) Close() error {
	err := errors.New("store already closed")
	s.once.Do(func() {
		close(s.done)
		s.wg.Wait()
		err = s.h.Load().close()
	})
	return err
}

type boltTx struct {
	tx *bbolt.Tx
	// marks are the stored versions of the documents this write
	// transaction read or put (docs.go, stored).
	marks map[string]*stored
}

func (t *boltTx) get(bucket []byte, key string, v any) error {
	data := t.tx.Bucket(bucket).Get([]byte(key))
	if data == nil {
		return store.ErrNotFound
	}
	return json.Unmarshal(data, v)
}

func (t *boltTx) put(bucket []byte, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucket).Put([]byte(key), data)
}

func forEach[T any](t *boltTx, bucket []byte, prefix string, fn func(*T) error) error {
	c := t.tx.Bucket(bucket).Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
		if err := visit(bucket, k, v, fn); err != nil {
			return err
		}
	}
	return nil
}

// visit decodes the record k, v of bucket and gives it to fn.
func visit[T any](bucket, k, v []byte, fn func(*T) error) error {
	var rec T
	if err := json.Unmarshal(v, &rec); err != nil {
		return fmt.Errorf("store: record %s/%s: %w", bucket, k, err)
	}
	return fn(&rec)
}
