package deliver

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
)

// The operators' actions on a document's delivery: try a retrying one now
// or route a failed or dead one again (Retry), acknowledge a dead one
// (Ack), send a delivered or dead one again on purpose (Resend). Each is
// one transaction; the work it makes is queued after the commit.

// ErrNotRetryable is returned when a document's state does not allow a retry.
var ErrNotRetryable = errkind.New(errkind.Conflict, "not retryable")

// Retry acts on a stuck document: a delivery waiting for its next
// attempt is tried now; a failed or dead document is routed again, with the
// registry as it is now (a registration may have arrived since).
func (e *Engine) Retry(id string) (*store.Doc, error) {
	now := time.Now().UTC()
	var doc *store.Doc
	var queue *store.Delivery
	err := e.Store.Update(func(tx store.Tx) (err error) {
		queue = nil
		if doc, err = txDoc(tx, id); err != nil {
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
			t, body, err := e.sendAgain(tx, doc, ErrNotRetryable, "send the invoice again")
			if err != nil {
				return err
			}
			doc.Route = route.Decide(t.Priority, e.Lanes, route.Lookup(tx, e.Lanes, doc.Tenant, now), body)
			doc.Tried = 0
			doc.Ack = nil // should it die again, it needs attention again
			doc.State = store.DocRouted
			if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocRouted, Reason: "routed again by the operator: " + route.Summary(doc.Route)}); err != nil {
				return err
			}
			if queue, err = route.Next(tx, e.Lanes, doc, now, ""); err != nil {
				return err
			}
			return tx.PutDoc(doc)
		}
		return fmt.Errorf("%w: document %s is %s; only retrying, failed and dead documents can be retried (a rejected one must be corrected and sent again)", ErrNotRetryable, id, doc.State)
	})
	if err != nil {
		return nil, err
	}
	e.Requeue(queue)
	e.Receipts.Touch(doc.FileID)
	return doc, nil
}

// ErrNotAckable is returned when a document's state does not allow an
// acknowledgement.
var ErrNotAckable = errkind.New(errkind.Conflict, "not acknowledgeable")

// ErrBadAck is returned when an acknowledgement lacks who or why.
var ErrBadAck = errkind.New(errkind.Invalid, "bad acknowledgement")

// Bounds of an acknowledgement's texts, in characters.
const (
	maxAckBy  = 100
	maxAckWhy = 1000
)

// Ack records that an operator has looked at a dead document and
// decided it needs nothing more from the gateway (the customer was reached
// another way, the invoice was cancelled): it leaves "needs attention" on
// the status page and in `multikanal status`. Who and why are kept on the
// document and in its history. A retry clears the acknowledgement.
func (e *Engine) Ack(id, by, why string) (*store.Doc, error) {
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
	err := e.Store.Update(func(tx store.Tx) (err error) {
		if doc, err = txDoc(tx, id); err != nil {
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
	e.logDoc(doc).Info("dead document acknowledged", "by", by, "why", why)
	return doc, nil
}

// ErrNotResendable is returned when a document's state does not allow a
// resend, or the document no longer passes the tenant's rules.
var ErrNotResendable = errkind.New(errkind.Conflict, "not resendable")

// ErrBadResend is returned when a resend does not say why, or says it in
// more than a line of text.
var ErrBadResend = errkind.New(errkind.Invalid, "bad resend")

// Resend sends a document again on purpose: an invoice the buyer says
// never arrived, or one to deliver once more after a correction of the
// registry. The stored document is routed again with the registry as it is
// now and delivered on the first eligible channel under new delivery ids
// (Doc.DeliveryID), so a receiver does not take it for a repeat of the
// first send. by (who asked) and why go into the document's history. The
// payment collection is not touched: an AutoGiro withdrawal is made once.
// Only a delivered or dead document can be resent: one in flight goes out
// anyway (retry it), and a rejected or held one never went out.
func (e *Engine) Resend(id, by, why string) (*store.Doc, error) {
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
	err := e.Store.Update(func(tx store.Tx) (err error) {
		queue = nil
		if doc, err = txDoc(tx, id); err != nil {
			return err
		}
		if doc.State != store.DocDelivered && doc.State != store.DocDead {
			return fmt.Errorf("%w: document %s is %s; only delivered and dead documents can be resent (one that is queued or retrying goes out anyway: use docs retry; a rejected or held one was never sent)", ErrNotResendable, id, doc.State)
		}
		t, body, err := e.sendAgain(tx, doc, ErrNotResendable, "send the invoice again from the ERP, marked as a resend")
		if err != nil {
			return err
		}
		// A resend is a new send: the tenant's rules as they are now apply.
		if errs := validate.Document(body, route.ValidateOptions(t, now)).Errors(); len(errs) > 0 {
			return fmt.Errorf("%w: document %s no longer passes the tenant's rules: %v", ErrNotResendable, id, errs)
		}
		if key, ok := route.Held(t, body); ok {
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
		doc.Route = route.Decide(t.Priority, e.Lanes, route.Lookup(tx, e.Lanes, doc.Tenant, now), body)
		doc.Tried = 0
		doc.Ack = nil // should it die again, it needs attention again
		doc.State = store.DocRouted
		reason := fmt.Sprintf("resend %d requested by %s: %s; routed again: %s", doc.Resends, by, why, route.Summary(doc.Route))
		if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocRouted, Reason: reason}); err != nil {
			return err
		}
		if queue, err = route.Next(tx, e.Lanes, doc, now, ""); err != nil {
			return err
		}
		return tx.PutDoc(doc)
	})
	if err != nil {
		return nil, err
	}
	e.logDoc(doc).Info("document resent", "by", by, "reason", why, "resend", doc.Resends, "channel", doc.Channel)
	e.Requeue(queue)
	e.Receipts.Touch(doc.FileID)
	return doc, nil
}

// txDoc reads a document an operator names: one that does not exist is
// "document ID not found" (errkind.NotFound).
func txDoc(tx store.DocTx, id string) (*store.Doc, error) {
	doc, err := tx.Doc(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("document %s %w", id, err)
	}
	return doc, err
}

// sendAgain is what a retry or a resend of doc needs: its tenant, still
// configured, and its body, still kept (retention summarises it). A
// summarised document fails with notErr and what to do instead.
func (e *Engine) sendAgain(tx store.Tx, doc *store.Doc, notErr error, instead string) (config.Tenant, *formats.Document, error) {
	t, ok := e.Tenant(doc.Tenant)
	if !ok {
		return t, nil, errkind.New(errkind.Conflict, "tenant %q is no longer configured", doc.Tenant)
	}
	if !doc.Summarised.IsZero() {
		return t, nil, fmt.Errorf("%w: document %s was summarised by retention on %s and its body is gone: %s", notErr, doc.ID, doc.Summarised.Format(time.DateOnly), instead)
	}
	body, err := tx.Body(doc.ID)
	return t, body, err
}
