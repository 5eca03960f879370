package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/validate"
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
		for _, step := range out.Doc.Route {
			for _, dlID := range out.Doc.DeliveryIDs(step.Channel) {
				if dl, err := tx.Delivery(dlID); err == nil {
					out.Deliveries = append(out.Deliveries, dl)
				}
			}
		}
		// A resend delivers the document again; its payment is collected once.
		if dl, err := tx.Delivery(store.DeliveryID(id, autogiroChannel)); err == nil {
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
			dl, err := tx.Delivery(doc.DeliveryID(doc.Channel))
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
			if !doc.Summarised.IsZero() {
				return fmt.Errorf("%w: document %s was summarised by retention on %s and its body is gone: send the invoice again", ErrNotRetryable, id, doc.Summarised.Format(time.DateOnly))
			}
			body, err := tx.Body(id)
			if err != nil {
				return err
			}
			doc.Route = d.decide(t, body, txRegistry{tx: tx, tenant: doc.Tenant, now: now, cfg: d.live.Load()})
			doc.Tried = 0
			doc.Ack = nil // should it die again, it needs attention again
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
	tenantDoc(doc)
	return doc, nil
}

// ErrNotAckable is returned when a document's state does not allow an
// acknowledgement.
var ErrNotAckable = errors.New("not acknowledgeable")

// ErrBadAck is returned when an acknowledgement lacks who or why.
var ErrBadAck = errors.New("bad acknowledgement")

// Bounds of an acknowledgement's texts, in characters.
const (
	maxAckBy  = 100
	maxAckWhy = 1000
)

// AckDoc records that an operator has looked at a dead document and
// decided it needs nothing more from the gateway (the customer was reached
// another way, the invoice was cancelled): it leaves "needs attention" on
// the status page and in `multikanal status`. Who and why are kept on the
// document and in its history. A retry clears the acknowledgement.
func (d *Daemon) AckDoc(id, by, why string) (*store.Doc, error) {
	by, why = strings.TrimSpace(by), strings.TrimSpace(why)
	switch {
	case by == "" || why == "":
		return nil, fmt.Errorf("%w: say who acknowledges (by) and why (why)", ErrBadAck)
	case len([]rune(by)) > maxAckBy || len([]rune(why)) > maxAckWhy:
		return nil, fmt.Errorf("%w: by may have at most %d characters and why %d", ErrBadAck, maxAckBy, maxAckWhy)
	case strings.IndexFunc(by+why, unicode.IsControl) >= 0:
		return nil, fmt.Errorf("%w: by and why must be one line of text without control characters", ErrBadAck)
	}
	now := time.Now().UTC()
	var doc *store.Doc
	err := d.store.Update(func(tx store.Tx) (err error) {
		if doc, err = tx.Doc(id); err != nil {
			return err
		}
		switch {
		case doc.State != store.DocDead:
			return fmt.Errorf("%w: document %s is %s; only dead documents are acknowledged (a retrying or failed one is still being tried)", ErrNotAckable, id, doc.State)
		case doc.Ack != nil:
			return fmt.Errorf("%w: document %s was acknowledged by %s at %s: %s", ErrNotAckable, id, doc.Ack.By, doc.Ack.At.Format(time.RFC3339), doc.Ack.Why)
		}
		doc.Ack = &store.Ack{At: now, By: by, Why: why}
		doc.Updated = now
		if err := tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: doc.Channel,
			Reason: fmt.Sprintf("acknowledged by %s: %s", by, why)}); err != nil {
			return err
		}
		return tx.PutDoc(doc)
	})
	if err != nil {
		return nil, err
	}
	d.logDoc(doc).Info("dead document acknowledged", "by", by, "why", why)
	return doc, nil
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
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `the body must be {"by": "...", "why": "..."}: ` + err.Error()})
		return
	}
	doc, err := d.AckDoc(id, req.By, req.Why)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "document " + id + " not found"})
	case errors.Is(err, ErrBadAck):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		tenantDoc(doc)
		writeJSON(w, http.StatusOK, doc)
	}
}

// ErrNotResendable is returned when a document's state does not allow a
// resend, or the document no longer passes the tenant's rules.
var ErrNotResendable = errors.New("not resendable")

// ErrBadResend is returned when a resend does not say why, or says it in
// more than a line of text.
var ErrBadResend = errors.New("bad resend")

// ResendDoc sends a document again on purpose: an invoice the buyer says
// never arrived, or one to deliver once more after a correction of the
// registry. The stored document is routed again with the registry as it is
// now and delivered on the first eligible channel under new delivery ids
// (Doc.DeliveryID), so a receiver does not take it for a repeat of the
// first send. by (who asked) and why go into the document's history. The
// payment collection is not touched: an AutoGiro withdrawal is made once.
// Only a delivered or dead document can be resent: one in flight goes out
// anyway (retry it), and a rejected or held one never went out.
func (d *Daemon) ResendDoc(id, by, why string) (*store.Doc, error) {
	by, why = strings.TrimSpace(by), strings.TrimSpace(why)
	if by == "" {
		by = "an operator"
	}
	// The texts go into the history as an acknowledgement's do, bounded alike.
	switch {
	case why == "":
		return nil, fmt.Errorf("%w: say why the document is sent again (reason); it is kept in the document's history with who asked", ErrBadResend)
	case len([]rune(by)) > maxAckBy || len([]rune(why)) > maxAckWhy:
		return nil, fmt.Errorf("%w: by may have at most %d characters and reason %d", ErrBadResend, maxAckBy, maxAckWhy)
	case strings.IndexFunc(by+why, unicode.IsControl) >= 0:
		return nil, fmt.Errorf("%w: by and reason must be one line of text without control characters", ErrBadResend)
	}
	now := time.Now().UTC()
	var doc *store.Doc
	var queue *store.Delivery
	err := d.store.Update(func(tx store.Tx) (err error) {
		queue = nil
		if doc, err = tx.Doc(id); err != nil {
			return err
		}
		if doc.State != store.DocDelivered && doc.State != store.DocDead {
			return fmt.Errorf("%w: document %s is %s; only delivered and dead documents can be resent (one that is queued or retrying goes out anyway: use docs retry; a rejected or held one was never sent)", ErrNotResendable, id, doc.State)
		}
		t := d.tenant(doc.Tenant)
		if t == nil {
			return fmt.Errorf("tenant %q is no longer configured", doc.Tenant)
		}
		if !doc.Summarised.IsZero() {
			return fmt.Errorf("%w: document %s was summarised by retention on %s and its body is gone: send the invoice again from the ERP, marked as a resend", ErrNotResendable, id, doc.Summarised.Format(time.DateOnly))
		}
		body, err := tx.Body(id)
		if err != nil {
			return err
		}
		// A resend is a new send: the tenant's rules as they are now apply.
		if errs := validate.Document(body, validateOptions(t.cfg, now)).Errors(); len(errs) > 0 {
			return fmt.Errorf("%w: document %s no longer passes the tenant's rules: %v", ErrNotResendable, id, errs)
		}
		if key, ok := t.held(body); ok {
			return fmt.Errorf("%w: document %s: recipient %s is on the tenant's do-not-send list", ErrNotResendable, id, key)
		}
		if f, err := tx.File(doc.FileID); err == nil && f.Final {
			// The file's receipt changes again: it is final once more when
			// the resend is at an end.
			f.Final, f.FinalAt = false, time.Time{}
			if err := tx.PutFile(f); err != nil {
				return err
			}
		}
		doc.Resends++
		doc.Route = d.decide(t, body, txRegistry{tx: tx, tenant: doc.Tenant, now: now, cfg: d.live.Load()})
		doc.Tried = 0
		doc.Ack = nil // should it die again, it needs attention again
		doc.State = store.DocRouted
		reason := fmt.Sprintf("resend %d requested by %s: %s; routed again: %s", doc.Resends, by, why, routeSummary(doc.Route))
		if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocRouted, Reason: reason}); err != nil {
			return err
		}
		if queue, err = d.nextDelivery(tx, doc, now, ""); err != nil {
			return err
		}
		return tx.PutDoc(doc)
	})
	if err != nil {
		return nil, err
	}
	d.logDoc(doc).Info("document resent", "by", by, "reason", why, "resend", doc.Resends, "channel", doc.Channel)
	d.engine.requeue(queue)
	d.receipts.touch(doc.FileID)
	tenantDoc(doc)
	return doc, nil
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
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `the body must be {"reason": "...", "by": "..."}: ` + err.Error()})
		return
	}
	if strings.TrimSpace(req.By) == "" {
		req.By = "api"
	}
	doc, err := d.ResendDoc(r.PathValue("id"), req.By, req.Reason)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "document " + r.PathValue("id") + " not found"})
	case errors.Is(err, ErrBadResend):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, doc)
	}
}
