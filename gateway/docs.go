package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
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
		err = d.store.ScanFileDocsAfter(f.File, f.After, collect)
	} else {
		err = d.store.ScanDocsBefore(f.After, collect)
	}
	if errors.Is(err, errEnough) {
		err = nil
	}
	for _, doc := range out {
		tenantDoc(doc)
	}
	return out, err
}

// txDoc reads a document an operator names: one that does not exist is
// "document ID not found" (errkind.NotFound).
func txDoc(tx store.Tx, id string) (*store.Doc, error) {
	doc, err := tx.Doc(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("document %s %w", id, err)
	}
	return doc, err
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
		if out.Doc, err = txDoc(tx, id); err != nil {
			return err
		}
		if out.File, err = tx.File(out.Doc.FileID); err != nil {
			return err
		}
		if out.Events, err = tx.Events(id); err != nil {
			return err
		}
		for _, step := range out.Doc.Route {
			for _, dlID := range out.Doc.DeliveryIDs(step.Channel) {
				if dl, err := tx.Delivery(dlID); err == nil {
					out.Deliveries = append(out.Deliveries, dl)
				}
			}
		}
		// A resend delivers the document again; its payment is collected once.
		if dl, err := tx.Delivery(store.DeliveryID(id, outbound.AutoGiro)); err == nil {
			out.Deliveries = append(out.Deliveries, dl)
		}
		out.Invoice, _ = tx.Body(id)
		return nil
	})
	if err != nil {
		return out, err
	}
	// What the document's tenant may see: no server paths (receiptview.go).
	tenantDoc(out.Doc)
	out.File.InboxPath, out.File.Reason = "", tenantText(out.File.Reason)
	for i := range out.Events {
		out.Events[i].Reason = tenantText(out.Events[i].Reason)
	}
	for _, dl := range out.Deliveries {
		dl.Ref, dl.LastError = tenantRef(dl.Ref), tenantText(dl.LastError)
	}
	return out, nil
}

// AckRequest is the body of POST /api/v1/docs/{id}/ack.
type AckRequest struct {
	By  string `json:"by"`
	Why string `json:"why"`
}

// handleAckDoc serves POST /api/v1/docs/{id}/ack. It takes JSON only: a
// form or text/plain post, which any web page can send across origins,
// is refused.
func (d *Daemon) handleAckDoc(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": `the body must be JSON: {"by": "...", "why": "..."}`})
		return
	}
	var req AckRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, errkind.New(errkind.Invalid, `the body must be {"by": "...", "why": "..."}: %w`, err))
		return
	}
	doc, err := d.engine.Ack(id, req.By, req.Why)
	if err != nil {
		writeError(w, err)
		return
	}
	tenantDoc(doc)
	writeJSON(w, http.StatusOK, doc)
}

// ResendRequest is the body of POST /api/v1/docs/{id}/resend.
type ResendRequest struct {
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"` // who asks; "api" when not given
}

// handleResend serves POST /api/v1/docs/{id}/resend. Like the other
// state-changing endpoints it takes JSON only, which a web page cannot post
// across origins.
func (d *Daemon) handleResend(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": `the body must be JSON: {"reason": "...", "by": "..."}`})
		return
	}
	var req ResendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, errkind.New(errkind.Invalid, `the body must be {"reason": "...", "by": "..."}: %w`, err))
		return
	}
	if strings.TrimSpace(req.By) == "" {
		req.By = "api"
	}
	doc, err := d.engine.Resend(r.PathValue("id"), req.By, req.Reason)
	if err != nil {
		writeError(w, err)
		return
	}
	tenantDoc(doc)
	writeJSON(w, http.StatusOK, doc)
}
