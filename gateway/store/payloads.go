package store

import "io"

// Payloads keeps the bytes of input files where every node that reads
// them finds them. One node on bbolt has none: its claimed files are
// files in the data directory's spool/. Nodes sharing a PostgreSQL store
// keep them there (store/postgres), so the database is the one thing they
// share; an S3-compatible bucket would be another implementation of this
// interface, chosen beside the store.
type Payloads interface {
	// PutInput stores the bytes of a claimed file under its id, durably,
	// replacing what it held (a claim resumed after a crash stores the
	// same bytes again). It returns their size.
	PutInput(fileID string, r io.Reader) (int64, error)
	// OpenInput opens a stored input file, or returns ErrNotFound.
	OpenInput(fileID string) (Input, error)
	// RemoveInput removes an input file's bytes and returns how many they
	// were (0 when it held none).
	RemoveInput(fileID string) (int64, error)
}

// Input is a stored input file being read, from the start or at any
// offset (a ZIP is read by its directory at the end).
type Input interface {
	io.Reader
	io.ReaderAt
	Size() int64
	Close() error
}
