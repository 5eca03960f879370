package gateway

import (
	"errors"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// DocFilter selects documents for `multikanal docs list`.
type DocFilter struct {
	State, Channel, Tenant, File string
	Limit                        int
}

// errEnough stops a scan that has found what it was asked for.
var errEnough = errors.New("enough")

// ListDocs returns the documents matching f: those of f.File in file order,
// or else the newest first.
func (d *Daemon) ListDocs(f DocFilter) ([]*store.Doc, error) {
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
		err = d.store.ScanFileDocs(f.File, collect)
	} else {
		err = d.store.ScanDocsNewestFirst(collect)
	}
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, err
}

// DocDetail is everything the gateway knows about one document.
type DocDetail struct {
	Doc        *store.Doc        `json:"document"`
	File       *store.File       `json:"file"`
	Events     []store.Event     `json:"events"`
	Deliveries []*store.Delivery `json:"deliveries"`
	Invoice    *formats.Document `json:"invoice,omitempty"`
}

// ShowDoc returns a document with its whole history.
func (d *Daemon) ShowDoc(id string) (*DocDetail, error) {
	out := &DocDetail{}
	err := d.store.View(func(tx store.Tx) (err error) {
		if out.Doc, err = tx.Doc(id); err != nil {
			return err
		}
		if out.File, err = tx.File(out.Doc.FileID); err != nil {
			return err
		}
		if out.Events, err = tx.Events(id); err != nil {
			return err
		}
		for _, step := range append(out.Doc.Route, store.RouteStep{Channel: "autogiro"}) {
			if dl, err := tx.Delivery(store.DeliveryID(id, step.Channel)); err == nil {
				out.Deliveries = append(out.Deliveries, dl)
			}
		}
		out.Invoice, _ = tx.Body(id)
		return nil
	})
	return out, err
}

// ErrNotRetryable is returned when a document's state does not allow a retry.
var ErrNotRetryable = errors.New("not retryable")

// RetryDoc acts on a stuck document: a delivery waiting for its next
// attempt is tried now; a failed or dead document is routed again, with the
// registry as it is now (a registration may have arrived since).
func (d *Daemon) RetryDoc(id string) (*store.Doc, error) {
	now := time.Now().UTC()
	var doc *store.Doc
	var queue *store.Delivery
	err := d.store.Update(func(tx store.Tx) (err error) {
		queue = nil
		if doc, err = tx.Doc(id); err != nil {
			return err
		}
		switch doc.State {
		case store.DocRetrying:
			dl, err := tx.Delivery(store.DeliveryID(id, doc.Channel))
			if err != nil {
				return err
			}
			dl.NextAt, dl.Updated = now, now
			queue = dl
			if err := tx.PutDelivery(dl); err != nil {
				return err
			}
			return tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: doc.Channel, Reason: "retry requested by the operator"})
		case store.DocDead, store.DocFailed:
			t := d.tenant(doc.Tenant)
			if t == nil {
				return fmt.Errorf("tenant %q is no longer configured", doc.Tenant)
			}
			body, err := tx.Body(id)
			if err != nil {
				return err
			}
			doc.Route = d.decide(t, body, txRegistry{tx: tx, tenant: doc.Tenant, now: now})
			doc.Tried = 0
			doc.State = store.DocRouted
			if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocRouted, Reason: "routed again by the operator: " + routeSummary(doc.Route)}); err != nil {
				return err
			}
			if queue, err = d.nextDelivery(tx, doc, now, ""); err != nil {
				return err
			}
			return tx.PutDoc(doc)
		}
		return fmt.Errorf("%w: document %s is %s; only retrying, failed and dead documents can be retried (a rejected one must be corrected and sent again)", ErrNotRetryable, id, doc.State)
	})
	if err != nil {
		return nil, err
	}
	d.engine.requeue(queue)
	d.receipts.touch(doc.FileID)
	return doc, nil
}
