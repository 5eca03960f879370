package receipts

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// receiptOf is a receipt's head: everything but the documents and the
// totals over them.
func receiptOf(f *store.File) api.Receipt {
	return api.Receipt{File: f.Name, FileID: f.ID, Receipt: f.Receipt, Tenant: f.Tenant, SHA256: f.SHA256, Size: f.Size, Format: f.Format,
		ReceivedAt: f.ReceivedAt, State: api.FileState(f.State), Reason: tenantText(f.Reason), Summary: map[string]int{}, Documents: []api.ReceiptDocument{}}
}

// receiptDocOf is one document's line in a receipt, without server paths.
func receiptDocOf(doc *store.Doc) api.ReceiptDocument {
	rd := api.ReceiptDocument{ID: doc.ID, Number: doc.Number, Kind: doc.Kind, Source: doc.Source, Buyer: doc.Buyer,
		Currency: doc.Currency, DueDate: doc.DueDate.String(), State: api.DocState(doc.State), Channel: doc.Channel,
		Address: doc.Address, Output: tenantRef(doc.Output), Reason: tenantText(doc.Reason), Problems: doc.Problems,
		Route: routeOf(doc.Route), Collection: collectionOf(doc.Payment()), Opened: doc.Opened, Received: doc.Created, Updated: doc.Updated}
	if doc.Currency != "" { // parsed: the amount is known
		rd.Amount = doc.Amount.String()
	}
	receiptLife(&rd, doc)
	return rd
}

// receiptFinal says whether a file is done: rejected, a duplicate or
// applied, or parsed with every document (and its collection) at an end.
func receiptFinal(f *store.File, allEnd bool, docs int) bool {
	switch f.State {
	case store.FileRejected, store.FileDuplicate, store.FileApplied:
		return true
	case store.FileParsed:
		return allEnd && docs == f.Docs
	}
	return false
}

// scanReceiptDocs visits a file's documents as receipt lines, in short
// transactions, and returns the summary and whether all are at an end.
func scanReceiptDocs(s store.DocScanner, fileID string, fn func(api.ReceiptDocument) error) (summary map[string]int, allEnd bool, n int, err error) {
	visit, sum, end, count := receiptVisitor(fn)
	err = s.ScanFileDocs(fileID, visit)
	return sum, *end, *count, err
}

func receiptVisitor(fn func(api.ReceiptDocument) error) (visit func(*store.Doc) error, summary map[string]int, allEnd *bool, n *int) {
	summary, allEnd, n = map[string]int{}, new(bool), new(int)
	*allEnd = true
	visit = func(doc *store.Doc) error {
		summary[string(doc.State)]++
		*n++
		if !doc.State.End() || !doc.Collection.End() {
			*allEnd = false
		}
		return fn(receiptDocOf(doc))
	}
	return visit, summary, allEnd, n
}

// Build reads a file's receipt from the store, whole, for the API. The
// documents are read in short transactions, as the receipt writer reads
// them: one transaction over a million documents held every commit up.
func Build(st Store, fileID string) (*api.Receipt, error) {
	var f *store.File
	if err := st.View(func(tx store.Tx) (err error) { f, err = tx.File(fileID); return err }); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("file %s %w", fileID, err)
		}
		return nil, err
	}
	r := receiptOf(f)
	summary, allEnd, n, err := scanReceiptDocs(st, fileID, func(rd api.ReceiptDocument) error {
		r.Documents = append(r.Documents, rd)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Summary, r.Final = summary, receiptFinal(f, allEnd, n)
	r.UpdatedAt = time.Now().UTC()
	return &r, nil
}

// Path is where a file's receipt is, if it is there and is this file's:
// under the name recorded on the file, or, for a file from before names
// were recorded, one of the two it may have. "" when there is none.
func (w *Writer) Path(f *store.File) string {
	names := []string{f.Receipt}
	if f.Receipt == "" {
		plain, qualified := receiptNames(f.Name, f.ID)
		names = []string{plain, qualified}
	}
	for _, name := range names {
		if name == "" {
			continue
		}
		p := filepath.Join(w.Dir(f.Tenant), name)
		if owner, err := receiptOwner(p); err == nil && owner == f.ID {
			return p
		}
	}
	return ""
}
