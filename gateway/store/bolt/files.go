package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/gateway/store"
)

func (t *boltTx) NextFileID() (string, error) {
	n, err := t.tx.Bucket(bMeta).NextSequence()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("F%07d", n), nil
}

func (t *boltTx) File(id string) (*store.File, error) {
	var f store.File
	if err := t.get(bFiles, id, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

func (t *boltTx) PutFile(f *store.File) error {
	if f.SHA256 != "" && f.State != store.FileDuplicate && f.DuplicateOf == "" && !f.Refused {
		if err := t.tx.Bucket(bFileHash).Put([]byte(f.Tenant+"\x00"+f.SHA256), []byte(f.ID)); err != nil {
			return err
		}
	}
	old, err := t.File(f.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := indexFile(t.tx, old, f); err != nil {
		return err
	}
	return t.put(bFiles, f.ID, f)
}

// indexFile moves a file from what it was (nil when new) to what it is in
// the open files and the counts per state.
func indexFile(tx *bbolt.Tx, old, f *store.File) error {
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
func indexFiles(tx *bbolt.Tx) error {
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
		return visit(bFiles, k, v, func(f *store.File) error { return indexFile(tx, nil, f) })
	})
}

func (t *boltTx) FileCounts() (map[store.FileState]int64, error) {
	out := map[store.FileState]int64{}
	err := t.tx.Bucket(bFileCounts).ForEach(func(k, v []byte) error {
		out[store.FileState(k)] = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return out, err
}

func (t *boltTx) ForEachOpenFile(fn func(*store.File) error) error {
	return t.tx.Bucket(bOpenFiles).ForEach(func(k, _ []byte) error {
		f, err := t.File(string(k))
		if err != nil {
			return fmt.Errorf("store: open file %s: %w", k, err)
		}
		return fn(f)
	})
}

func (t *boltTx) ForEachFileNewestFirst(fn func(*store.File) error) error {
	c := t.tx.Bucket(bFiles).Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		if err := visit(bFiles, k, v, fn); err != nil {
			return err
		}
	}
	return nil
}

func (t *boltTx) FileByHash(tenant, sha string) (*store.File, error) {
	id := t.tx.Bucket(bFileHash).Get([]byte(tenant + "\x00" + sha))
	if id == nil {
		return nil, store.ErrNotFound
	}
	return t.File(string(id))
}

func (t *boltTx) ForEachFile(fn func(*store.File) error) error { return forEach(t, bFiles, "", fn) }

func (t *boltTx) ForEachFileAfter(after string, fn func(*store.File) error) error {
	c := t.tx.Bucket(bFiles).Cursor()
	k, v := c.Seek([]byte(after))
	if k != nil && string(k) == after {
		k, v = c.Next()
	}
	for ; k != nil; k, v = c.Next() {
		if err := visit(bFiles, k, v, fn); err != nil {
			return err
		}
	}
	return nil
}
