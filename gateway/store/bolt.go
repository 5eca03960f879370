package store

import (
	"bytes"
	"encoding/binary"
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

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/internal/durable"
)

// Bucket names. Keys sort the way they are scanned: document ids start with
// their file id, event keys with their document id and a big-endian sequence.
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
	allBuckets  = [][]byte{bFiles, bFileHash, bDocs, bBodies, bEvents, bDeliveries, bPending, bBatches, bCounts, bMeta, bRegistry, bRegKeys, bCollect, bNumbers, bMandates}
	// fileIndexes are kept by PutFile; a store from before them gets them
	// built from its files when it is opened.
	fileIndexes = [][]byte{bOpenFiles, bFileCounts}
)

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("the store is locked by another process")

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
	fn  func(Tx) error
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
	var db *bolt.DB
	err := guard(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
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
		return db.Update(func(tx *bolt.Tx) error {
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
func (s *Bolt) View(fn func(Tx) error) error {
	return guard(s.path, func() error {
		return s.use(func(db *bolt.DB) error {
			return db.View(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
		})
	})
}

// Update queues fn for the committer and waits for its commit.
func (s *Bolt) Update(fn func(Tx) error) error {
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
			return db.Update(func(tx *bolt.Tx) error {
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
				return db.Update(func(tx *bolt.Tx) error { return r.fn(&boltTx{tx: tx}) })
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
		return s.use(func(db *bolt.DB) error {
			return db.View(func(tx *bolt.Tx) error {
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

type boltTx struct{ tx *bolt.Tx }

func (t *boltTx) get(bucket []byte, key string, v any) error {
	data := t.tx.Bucket(bucket).Get([]byte(key))
	if data == nil {
		return ErrNotFound
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

func (t *boltTx) NextFileID() (string, error) {
	n, err := t.tx.Bucket(bMeta).NextSequence()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("F%07d", n), nil
}

func (t *boltTx) File(id string) (*File, error) {
	var f File
	if err := t.get(bFiles, id, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

func (t *boltTx) PutFile(f *File) error {
	if f.SHA256 != "" && f.State != FileDuplicate && f.DuplicateOf == "" && !f.Refused {
		if err := t.tx.Bucket(bFileHash).Put([]byte(f.Tenant+"\x00"+f.SHA256), []byte(f.ID)); err != nil {
			return err
		}
	}
	old, err := t.File(f.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := indexFile(t.tx, old, f); err != nil {
		return err
	}
	return t.put(bFiles, f.ID, f)
}

// indexFile moves a file from what it was (nil when new) to what it is in
// the open files and the counts per state.
func indexFile(tx *bolt.Tx, old, f *File) error {
	if old == nil || old.State != f.State {
		counts := tx.Bucket(bFileCounts)
		if old != nil {
			if err := addCount(counts, string(old.State), -1); err != nil {
				return err
			}
		}
		if err := addCount(counts, string(f.State), 1); err != nil {
			return err
		}
	}
	open := tx.Bucket(bOpenFiles)
	if f.Final {
		return open.Delete([]byte(f.ID))
	}
	return open.Put([]byte(f.ID), []byte{})
}

// indexFiles builds the open files and the counts per state of a store
// that has files but not these indexes yet: once, at its first open by a
// version that keeps them.
func indexFiles(tx *bolt.Tx) error {
	for _, b := range fileIndexes {
		if tx.Bucket(b) != nil {
			return nil
		}
	}
	for _, b := range fileIndexes {
		if _, err := tx.CreateBucket(b); err != nil {
			return err
		}
	}
	return tx.Bucket(bFiles).ForEach(func(k, v []byte) error {
		return visit(bFiles, k, v, func(f *File) error { return indexFile(tx, nil, f) })
	})
}

func (t *boltTx) FileCounts() (map[FileState]int64, error) {
	out := map[FileState]int64{}
	err := t.tx.Bucket(bFileCounts).ForEach(func(k, v []byte) error {
		out[FileState(k)] = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return out, err
}

func (t *boltTx) ForEachOpenFile(fn func(*File) error) error {
	return t.tx.Bucket(bOpenFiles).ForEach(func(k, _ []byte) error {
		f, err := t.File(string(k))
		if err != nil {
			return fmt.Errorf("store: open file %s: %w", k, err)
		}
		return fn(f)
	})
}

func (t *boltTx) ForEachFileNewestFirst(fn func(*File) error) error {
	c := t.tx.Bucket(bFiles).Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		if err := visit(bFiles, k, v, fn); err != nil {
			return err
		}
	}
	return nil
}

func (t *boltTx) FileByHash(tenant, sha string) (*File, error) {
	id := t.tx.Bucket(bFileHash).Get([]byte(tenant + "\x00" + sha))
	if id == nil {
		return nil, ErrNotFound
	}
	return t.File(string(id))
}

func (t *boltTx) ForEachFile(fn func(*File) error) error { return forEach(t, bFiles, "", fn) }

func (t *boltTx) Doc(id string) (*Doc, error) {
	var d Doc
	if err := t.get(bDocs, id, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// PutDoc stores the document and keeps the state × channel counters that
// status reads without scanning every document, and the counters per
// payment state.
func (t *boltTx) PutDoc(d *Doc) error {
	if err := indexAttention(t.tx, d); err != nil {
		return err
	}
	counts := t.tx.Bucket(bCounts)
	old, err := t.Doc(d.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := countPayment(t.tx, old, d); err != nil {
		return err
	}
	if old != nil {
		if old.State == d.State && old.Channel == d.Channel {
			return t.put(bDocs, d.ID, d)
		}
		if err := addCount(counts, countKey(old.State, old.Channel), -1); err != nil {
			return err
		}
	}
	if err := addCount(counts, countKey(d.State, d.Channel), 1); err != nil {
		return err
	}
	return t.put(bDocs, d.ID, d)
}

func countKey(s DocState, channel string) string { return string(s) + "|" + channel }

func addCount(b *bolt.Bucket, key string, delta int64) error {
	var n int64
	if v := b.Get([]byte(key)); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += delta
	if n <= 0 {
		return b.Delete([]byte(key))
	}
	return b.Put([]byte(key), binary.BigEndian.AppendUint64(nil, uint64(n)))
}

func (t *boltTx) Counts() (map[DocState]map[string]int64, error) {
	out := map[DocState]map[string]int64{}
	err := t.tx.Bucket(bCounts).ForEach(func(k, v []byte) error {
		state, channel, _ := strings.Cut(string(k), "|")
		if out[DocState(state)] == nil {
			out[DocState(state)] = map[string]int64{}
		}
		out[DocState(state)][channel] = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return out, err
}

func (t *boltTx) Body(docID string) (*formats.Document, error) {
	var d formats.Document
	if err := t.get(bBodies, docID, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (t *boltTx) PutBody(docID string, doc *formats.Document) error {
	return t.put(bBodies, docID, doc)
}

func (t *boltTx) FileDocs(fileID string, fn func(*Doc) error) error {
	return forEach(t, bDocs, fileID+"-", fn)
}

// scanChunk is how many documents one transaction of a scan reads.
const scanChunk = 2000

func (s *Bolt) ScanFileDocs(fileID string, fn func(*Doc) error) error {
	return s.ScanFileDocsAfter(fileID, "", fn)
}

func (s *Bolt) ScanFileDocsAfter(fileID, after string, fn func(*Doc) error) error {
	prefix := []byte(fileID + "-")
	return s.scanDocs(func(c *bolt.Cursor, after []byte) (k, v []byte) {
		if after == nil {
			return c.Seek(prefix)
		}
		// Seek lands on after, or past it when it went since.
		if k, v = c.Seek(after); bytes.Equal(k, after) {
			k, v = c.Next()
		}
		return k, v
	}, (*bolt.Cursor).Next, func(k []byte) bool { return bytes.HasPrefix(k, prefix) }, cursor(after), fn)
}

func (s *Bolt) ScanDocsNewestFirst(fn func(*Doc) error) error { return s.ScanDocsBefore("", fn) }

func (s *Bolt) ScanDocsBefore(before string, fn func(*Doc) error) error {
	return s.scanDocs(func(c *bolt.Cursor, after []byte) (k, v []byte) {
		if after == nil {
			return c.Last()
		}
		// Seek lands on after, or past it when it went since.
		if k, v = c.Seek(after); k == nil {
			k, v = c.Last()
		}
		for k != nil && bytes.Compare(k, after) >= 0 {
			k, v = c.Prev()
		}
		return k, v
	}, (*bolt.Cursor).Prev, func([]byte) bool { return true }, cursor(before), fn)
}

// cursor is where a scan resumes: nil for the start.
func cursor(id string) []byte {
	if id == "" {
		return nil
	}
	return []byte(id)
}

// scanDocs reads documents in parts of scanChunk, a read transaction
// each: first positions a new part's cursor on the first document after
// the last one read (after is from, nil for the start, for the first
// part), step moves it, and the scan ends at the first key that is not in
// it.
func (s *Bolt) scanDocs(first func(c *bolt.Cursor, after []byte) (k, v []byte), step func(*bolt.Cursor) (k, v []byte),
	in func(k []byte) bool, from []byte, fn func(*Doc) error) error {
	after := from
	for {
		var last []byte
		n := 0
		err := s.View(func(tx Tx) error {
			c := tx.(*boltTx).tx.Bucket(bDocs).Cursor()
			for k, v := first(c, after); k != nil && in(k) && n < scanChunk; k, v = step(c) {
				if err := visit(bDocs, k, v, fn); err != nil {
					return err
				}
				last = append(last[:0], k...)
				n++
			}
			return nil
		})
		// A scan reads many documents quickly; give back their pages as it
		// goes rather than at the next turn of the release loop.
		guard(s.path, func() error { return s.use(releaseMap) })
		if err != nil || n < scanChunk {
			return err
		}
		after = append([]byte(nil), last...)
	}
}

func (t *boltTx) AppendEvent(d *Doc, e Event) error {
	key := append([]byte(d.ID+"\x00"), binary.BigEndian.AppendUint32(nil, uint32(d.Events))...)
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := t.tx.Bucket(bEvents).Put(key, data); err != nil {
		return err
	}
	d.Events++
	return nil
}

func (t *boltTx) Events(docID string) ([]Event, error) {
	var out []Event
	err := forEach(t, bEvents, docID+"\x00", func(e *Event) error {
		out = append(out, *e)
		return nil
	})
	return out, err
}

func (t *boltTx) Delivery(id string) (*Delivery, error) {
	var dl Delivery
	if err := t.get(bDeliveries, id, &dl); err != nil {
		return nil, err
	}
	return &dl, nil
}

// PutDelivery stores the delivery and keeps the index of unfinished ones,
// which is what a restart reloads.
func (t *boltTx) PutDelivery(dl *Delivery) error {
	p := t.tx.Bucket(bPending)
	var err error
	if (dl.State == DeliveryDelivered || dl.State == DeliveryFailed) && !dl.AwaitsConfirmation() {
		err = p.Delete([]byte(dl.ID))
	} else {
		err = p.Put([]byte(dl.ID), nil)
	}
	if err != nil {
		return err
	}
	return t.put(bDeliveries, dl.ID, dl)
}

func (t *boltTx) FilePending(fileID string) bool {
	prefix := []byte(fileID + "-")
	k, _ := t.tx.Bucket(bPending).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// ForEachDelivery visits every delivery not yet delivered or failed, and
// the delivered ones still waiting for a confirmation.
func (t *boltTx) ForEachDelivery(fn func(*Delivery) error) error {
	c := t.tx.Bucket(bPending).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		dl, err := t.Delivery(string(k))
		if err != nil {
			return fmt.Errorf("store: pending delivery %s: %w", k, err)
		}
		if err := fn(dl); err != nil {
			return err
		}
	}
	return nil
}

func (t *boltTx) Batch(id string) (*Batch, error) {
	var b Batch
	if err := t.get(bBatches, id, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

func (t *boltTx) PutBatch(b *Batch) error { return t.put(bBatches, b.ID, b) }

func (t *boltTx) ForEachBatch(fn func(*Batch) error) error { return forEach(t, bBatches, "", fn) }

func (t *boltTx) PutRegistration(r *Registration) error {
	if r.ID == "" {
		n, err := t.tx.Bucket(bRegistry).NextSequence()
		if err != nil {
			return err
		}
		r.ID = fmt.Sprintf("R%07d", n)
	}
	keys := t.tx.Bucket(bRegKeys)
	for _, k := range r.Keys {
		if err := keys.Put([]byte(r.Tenant+"\x00"+k.String()+"\x00"+r.ID), nil); err != nil {
			return err
		}
	}
	return t.put(bRegistry, r.Tenant+"\x00"+r.ID, r)
}

func (t *boltTx) Registrations(tenant string, key RecipientKey) ([]*Registration, error) {
	prefix := []byte(tenant + "\x00" + key.String() + "\x00")
	var out []*Registration
	c := t.tx.Bucket(bRegKeys).Cursor()
	for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
		var r Registration
		if err := t.get(bRegistry, tenant+"\x00"+string(k[len(prefix):]), &r); err != nil {
			return nil, fmt.Errorf("store: registry index %q: %w", k, err)
		}
		out = append(out, &r)
	}
	return out, nil
}

func (t *boltTx) ForEachRegistration(tenant string, fn func(*Registration) error) error {
	return forEach(t, bRegistry, tenant+"\x00", fn)
}

func (t *boltTx) PutCollectionRef(tenant, payer, ref, docID string) error {
	return t.tx.Bucket(bCollect).Put([]byte(tenant+"\x00"+payer+"\x00"+ref), []byte(docID))
}

func (t *boltTx) CollectionRef(tenant, payer, ref string) (string, error) {
	v := t.tx.Bucket(bCollect).Get([]byte(tenant + "\x00" + payer + "\x00" + ref))
	if v == nil {
		return "", ErrNotFound
	}
	return string(v), nil
}

func (t *boltTx) PutNumberRef(tenant, number, docID string) error {
	return t.tx.Bucket(bNumbers).Put([]byte(tenant+"\x00"+number), []byte(docID))
}

func (t *boltTx) NumberRef(tenant, number string) (string, error) {
	v := t.tx.Bucket(bNumbers).Get([]byte(tenant + "\x00" + number))
	if v == nil {
		return "", ErrNotFound
	}
	return string(v), nil
}

func docKey(tenant string, k DocKey) []byte {
	return []byte(tenant + "\x00" + k.Seller + "\x00" + k.Kind + "\x00" + k.Number)
}

func (t *boltTx) PutDocKey(tenant string, k DocKey, docID string) error {
	b := t.tx.Bucket(bDocKeys)
	if b.Get(docKey(tenant, k)) != nil {
		return nil
	}
	return b.Put(docKey(tenant, k), []byte(docID))
}

func (t *boltTx) DocByKey(tenant string, k DocKey) (string, error) {
	v := t.tx.Bucket(bDocKeys).Get(docKey(tenant, k))
	if v == nil {
		return "", ErrNotFound
	}
	return string(v), nil
}

// indexDocKeys builds the duplicate index of a store from before it, once,
// at its first open by a version that keeps it: every document that was
// routed (not rejected or held, which never went out) is recorded under
// its key, the first of each key winning, so an invoice sent before the
// upgrade is recognised after it.
func indexDocKeys(tx *bolt.Tx) error {
	if tx.Bucket(bDocKeys) != nil {
		return nil
	}
	keys, err := tx.CreateBucket(bDocKeys)
	if err != nil {
		return err
	}
	bodies := tx.Bucket(bBodies)
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		return visit(bDocs, k, v, func(d *Doc) error {
			if d.State == DocRejected || d.State == DocHeld || d.State == DocReceived || d.State == DocParsed {
				return nil
			}
			data := bodies.Get(k)
			if data == nil {
				return nil
			}
			// Only what the key needs is decoded: a body is a whole invoice.
			var body struct {
				Kind   formats.Kind  `json:"kind"`
				Number string        `json:"number"`
				Seller formats.Party `json:"seller"`
			}
			if err := json.Unmarshal(data, &body); err != nil {
				return fmt.Errorf("store: record %s/%s: %w", bBodies, k, err)
			}
			dk, ok := DocKeyOf(&formats.Document{Kind: body.Kind, Number: body.Number, Seller: body.Seller})
			if !ok || keys.Get(docKey(d.Tenant, dk)) != nil {
				return nil
			}
			return keys.Put(docKey(d.Tenant, dk), k)
		})
	})
}

func (t *boltTx) PutMandateOrder(o *MandateOrder) error {
	if o.ID == "" {
		n, err := t.tx.Bucket(bMandates).NextSequence()
		if err != nil {
			return err
		}
		o.ID = fmt.Sprintf("M%07d", n)
	}
	return t.put(bMandates, o.Tenant+"\x00"+o.ID, o)
}

func (t *boltTx) MandateOrder(tenant, id string) (*MandateOrder, error) {
	var o MandateOrder
	if err := t.get(bMandates, tenant+"\x00"+id, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

func (t *boltTx) ForEachMandateOrder(tenant string, fn func(*MandateOrder) error) error {
	prefix := ""
	if tenant != "" {
		prefix = tenant + "\x00"
	}
	return forEach(t, bMandates, prefix, fn)
}
