package intake

import (
	"fmt"
	"io"
	"os"

	"github.com/multikanal/multikanal/gateway/store"
)

// A claimed file's bytes are in spool/ on one node. Where nodes share a
// store they are stored in its Payloads before the file counts as
// received, so that any node reads it (the one that claimed it may die),
// and the spool copy goes once the file is recorded received.

// storeInputs puts the claimed files' bytes where every node reads them.
func (in *Intake) storeInputs(recs []*store.File) error {
	if in.Payloads == nil {
		return nil
	}
	for _, rec := range recs {
		f, err := os.Open(in.spoolPath(rec.ID))
		if err != nil {
			return fmt.Errorf("storing %s: %w", rec.ID, err)
		}
		_, err = in.Payloads.PutInput(rec.ID, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// dropSpooled removes the spool copies of files stored in the Payloads.
func (in *Intake) dropSpooled(recs []*store.File) {
	if in.Payloads == nil {
		return
	}
	for _, rec := range recs {
		if err := os.Remove(in.spoolPath(rec.ID)); err != nil && !os.IsNotExist(err) {
			in.Log.Warn("removing a stored file's spool copy failed", "file", rec.ID, "err", err)
		}
	}
}

// input is a claimed file being read.
type input interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// openInput opens a claimed file: from the Payloads, else from spool/.
func (in *Intake) openInput(fileID string) (input, error) {
	if in.Payloads != nil {
		return in.Payloads.OpenInput(fileID)
	}
	return os.Open(in.spoolPath(fileID))
}
