package receipts

import (
	"errors"
	"fmt"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// DocFilter selects documents for `multikanal docs list`.
type DocFilter struct {
	State, Channel, Tenant, File string
	Limit                        int
	// After is the last document of the previous page: the list goes on
	// after it, in its order.
	After string
}

// errEnough stops a scan that has found what it was asked for.
var errEnough = errors.New("enough")

// Docs returns the documents matching f, as their tenant may see them:
// those of f.File in file order, or else the newest first.
func Docs(st store.DocScanner, f DocFilter) ([]*api.Doc, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []*store.Doc
	match := func(doc *store.Doc) bool {
		return (f.State == "" || string(doc.State) == f.State) && (f.Channel == "" || doc.Channel == f.Channel) &&
			(f.Tenant == "" || doc.Tenant == f.Tenant)
	}
	collect := func(doc *store.Doc) error {
		if !match(doc) {
			return nil
		}
		out = append(out, doc)
		if len(out) == f.Limit {
			return errEnough
		}
		return nil
	}
	// In short transactions, stopping at the limit: a million documents
	// must not hold every commit up.
	var err error
	if f.File != "" {
		err = st.ScanFileDocsAfter(f.File, f.After, collect)
	} else {
		err = st.ScanDocsBefore(f.After, collect)
	}
	if errors.Is(err, errEnough) {
		err = nil
	}
	docs := make([]*api.Doc, len(out))
	for i, doc := range out {
		docs[i] = DocOf(doc)
	}
	return docs, err
}

// Detail returns a document with its whole history, as its tenant may see
// it; a document that does not exist is "document ID not found".
func Detail(st Store, id string) (*api.DocDetail, error) {
	out := &api.DocDetail{}
	err := st.View(func(tx store.Tx) error {
		doc, err := tx.Doc(id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("document %s %w", id, err)
		}
		if err != nil {
			return err
		}
		out.Doc = DocOf(doc)
		f, err := tx.File(doc.FileID)
		if err != nil {
			return err
		}
		out.File = fileOf(f)
		events, err := tx.Events(id)
		if err != nil {
			return err
		}
		for _, e := range events {
			out.Events = append(out.Events, api.Event{At: e.At, State: api.DocState(e.State), Channel: e.Channel, Reason: tenantText(e.Reason)})
		}
		var ids []string
		for _, step := range doc.Route {
			ids = append(ids, doc.DeliveryIDs(step.Channel)...)
		}
		// A resend delivers the document again; its payment is collected
		// once, by the delivery of its collection's channel.
		if c := doc.Collection; c != nil && c.Method != "" {
			ids = append(ids, store.DeliveryID(id, c.Method))
		}
		for _, dlID := range ids {
			dl, err := tx.Delivery(dlID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out.Deliveries = append(out.Deliveries, deliveryOf(dl))
		}
		out.Invoice, err = tx.Body(id)
		if errors.Is(err, store.ErrNotFound) {
			err = nil // summarised by retention: the body is gone
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
