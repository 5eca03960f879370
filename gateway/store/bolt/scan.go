package bolt

import (
	"bytes"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/gateway/store"
)

// scanChunk is how many documents one transaction of a scan reads.
const scanChunk = 2000

func (s *Bolt) ScanFileDocs(fileID string, fn func(*store.Doc) error) error {
	return s.ScanFileDocsAfter(fileID, "", fn)
}

func (s *Bolt) ScanFileDocsAfter(fileID, after string, fn func(*store.Doc) error) error {
	prefix := []byte(fileID + "-")
	return s.scanDocs(func(c *bbolt.Cursor, after []byte) (k, v []byte) {
		if after == nil {
			return c.Seek(prefix)
		}
		// Seek lands on after, or past it when it went since.
		if k, v = c.Seek(after); bytes.Equal(k, after) {
			k, v = c.Next()
		}
		return k, v
	}, (*bbolt.Cursor).Next, func(k []byte) bool { return bytes.HasPrefix(k, prefix) }, cursor(after), fn)
}

func (s *Bolt) ScanDocsNewestFirst(fn func(*store.Doc) error) error { return s.ScanDocsBefore("", fn) }

func (s *Bolt) ScanDocsBefore(before string, fn func(*store.Doc) error) error {
	return s.scanDocs(func(c *bbolt.Cursor, after []byte) (k, v []byte) {
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
	}, (*bbolt.Cursor).Prev, func([]byte) bool { return true }, cursor(before), fn)
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
func (s *Bolt) scanDocs(first func(c *bbolt.Cursor, after []byte) (k, v []byte), step func(*bbolt.Cursor) (k, v []byte),
	in func(k []byte) bool, from []byte, fn func(*store.Doc) error) error {
	after := from
	for {
		var last []byte
		n := 0
		err := s.View(func(tx store.Tx) error {
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
