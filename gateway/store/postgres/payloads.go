package postgres

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/multikanal/multikanal/gateway/store"
)

// chunkSize is the size of one row of an input file's bytes: large enough
// that a file of a gigabyte is a thousand rows, small enough that reading
// one holds little memory.
const chunkSize = 1 << 20

// PutInput stores an input file's bytes in rows of chunkSize, in one
// transaction of its own (not the committer's: a large file must not hold
// up every other change), replacing what the file held.
func (s *Store) PutInput(fileID string, r io.Reader) (int64, error) {
	if s.fenced.Load() {
		return 0, ErrFenced
	}
	var total int64
	err := pgx.BeginFunc(s.ctx, s.pool, func(tx pgx.Tx) error {
		total = 0
		if _, err := tx.Exec(s.ctx, "DELETE FROM payloads WHERE file_id = $1", fileID); err != nil {
			return err
		}
		buf := make([]byte, chunkSize)
		for seq := 0; ; seq++ {
			n, err := io.ReadFull(r, buf)
			if n > 0 || seq == 0 {
				if _, err := tx.Exec(s.ctx, "INSERT INTO payloads (file_id, seq, data) VALUES ($1, $2, $3)", fileID, seq, buf[:n]); err != nil {
					return err
				}
				total += int64(n)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading %s: %w", fileID, err)
			}
		}
	})
	if err != nil {
		return 0, fmt.Errorf("storing input file %s in PostgreSQL: %w", fileID, err)
	}
	return total, nil
}

// OpenInput opens an input file's bytes; they are read a row at a time.
func (s *Store) OpenInput(fileID string) (store.Input, error) {
	var n int
	var size int64
	err := s.pool.QueryRow(s.ctx, "SELECT count(*), coalesce(sum(octet_length(data)), 0)::bigint FROM payloads WHERE file_id = $1", fileID).Scan(&n, &size)
	if err != nil {
		return nil, fmt.Errorf("input file %s: %w", fileID, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("input file %s: %w", fileID, store.ErrNotFound)
	}
	return &input{s: s, id: fileID, size: size, seq: -1}, nil
}

// RemoveInput deletes an input file's bytes.
func (s *Store) RemoveInput(fileID string) (int64, error) {
	var size int64
	err := s.pool.QueryRow(s.ctx, `WITH gone AS (DELETE FROM payloads WHERE file_id = $1 RETURNING octet_length(data) AS n)
		SELECT coalesce(sum(n), 0)::bigint FROM gone`, fileID).Scan(&size)
	if err != nil {
		return 0, fmt.Errorf("removing input file %s: %w", fileID, err)
	}
	return size, nil
}

// input reads a stored file; it keeps the last row it read.
type input struct {
	mu   sync.Mutex // ReadAt may be called at once from several goroutines
	s    *Store
	id   string
	size int64
	off  int64
	seq  int
	data []byte
}

func (in *input) Size() int64 { return in.size }
func (in *input) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.data = nil
	return nil
}

func (in *input) Read(p []byte) (int, error) {
	in.mu.Lock()
	off := in.off
	in.mu.Unlock()
	n, err := in.ReadAt(p, off)
	in.mu.Lock()
	in.off += int64(n)
	in.mu.Unlock()
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (in *input) ReadAt(p []byte, off int64) (int, error) {
	if off >= in.size {
		return 0, io.EOF
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for n < len(p) && off < in.size {
		seq := int(off / chunkSize)
		if seq != in.seq {
			var data []byte
			if err := in.s.pool.QueryRow(in.s.ctx, "SELECT data FROM payloads WHERE file_id = $1 AND seq = $2", in.id, seq).Scan(&data); err != nil {
				return n, fmt.Errorf("reading input file %s at %d: %w", in.id, off, err)
			}
			in.seq, in.data = seq, data
		}
		c := copy(p[n:], in.data[off-int64(seq)*chunkSize:])
		if c == 0 {
			return n, io.ErrUnexpectedEOF
		}
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
