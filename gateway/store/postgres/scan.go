package postgres

import (
	"github.com/multikanal/multikanal/gateway/store"
)

// scanChunk is how many documents one transaction of a scan reads.
const scanChunk = 2000

func (s *Store) ScanFileDocs(fileID string, fn func(*store.Doc) error) error {
	return s.ScanFileDocsAfter(fileID, "", fn)
}

func (s *Store) ScanFileDocsAfter(fileID, after string, fn func(*store.Doc) error) error {
	prefix := fileID + "-"
	if after == "" || after < prefix {
		after = prefix
	}
	return s.scanDocs(after, func(after string) (string, []any) {
		return "SELECT id, rec FROM docs WHERE id > $1 AND id < $2 ORDER BY id LIMIT 2000", []any{after, prefixEnd(prefix)}
	}, fn)
}

func (s *Store) ScanDocsNewestFirst(fn func(*store.Doc) error) error { return s.ScanDocsBefore("", fn) }

func (s *Store) ScanDocsBefore(before string, fn func(*store.Doc) error) error {
	return s.scanDocs(before, func(before string) (string, []any) {
		if before == "" {
			return "SELECT id, rec FROM docs ORDER BY id DESC LIMIT 2000", nil
		}
		return "SELECT id, rec FROM docs WHERE id < $1 ORDER BY id DESC LIMIT 2000", []any{before}
	}, fn)
}

// scanDocs reads documents in parts of scanChunk, a read transaction each,
// from the key from on: query gives a part's SQL after a key.
func (s *Store) scanDocs(from string, query func(after string) (string, []any), fn func(*store.Doc) error) error {
	after := from
	for {
		var keys []string
		var vals [][]byte
		err := s.View(func(tx store.Tx) (err error) {
			sql, args := query(after)
			keys, vals, err = tx.(*pgTx).rows(sql, args...)
			return err
		})
		if err != nil {
			return err
		}
		for i := range keys {
			var d store.Doc
			if err := unmarshal(vals[i], &d); err != nil {
				return err
			}
			if err := fn(&d); err != nil {
				return err
			}
		}
		if len(keys) < scanChunk {
			return nil
		}
		after = keys[len(keys)-1]
	}
}
