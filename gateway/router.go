package gateway

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	agchannel "github.com/multikanal/multikanal/outbound/autogiro"
)

// route validates a parsed document, decides its channel and creates its
// first delivery. It records every decision with its reason on doc and in
// its history. It returns the delivery to queue, or nil when the document
// ends here (rejected, held, or no channel reaches the recipient), and the
// payment collection delivery when there is one.
func (d *Daemon) route(tx store.Tx, t *tenantState, doc *store.Doc, body *formats.Document, now time.Time) (*store.Delivery, *store.Delivery, error) {
	event := func(state store.DocState, channel, reason string) error {
		doc.State, doc.Updated = state, now
		return tx.AppendEvent(doc, store.Event{At: now, State: state, Channel: channel, Reason: reason})
	}
	problems := validate.Document(body, validateOptions(t.cfg, now))
	doc.Problems = problems
	if errs := problems.Errors(); len(errs) > 0 {
		doc.Reason = errs.Error()
		return nil, nil, event(store.DocRejected, "", doc.Reason)
	}
	if key, ok := t.held(body); ok {
		doc.Reason = "held: recipient " + key + " is on the tenant's do-not-send list"
		return nil, nil, event(store.DocHeld, "", doc.Reason)
	}
	reg := txRegistry{tx: tx, tenant: doc.Tenant, now: now}
	doc.Route = d.decide(t, body, reg)
	if err := followInvoice(tx, doc, body); err != nil {
		return nil, nil, err
	}
	if body.Kind == formats.KindInvoice && body.Number != "" {
		if err := tx.PutNumberRef(doc.Tenant, body.Number, doc.ID); err != nil {
			return nil, nil, err
		}
	}
	doc.Tried = 0
	if err := event(store.DocRouted, "", routeSummary(doc.Route)); err != nil {
		return nil, nil, err
	}
	collect, err := d.collection(tx, t, reg, doc, body, now)
	if err != nil {
		return nil, nil, err
	}
	dl, err := d.nextDelivery(tx, doc, now, "")
	return dl, collect, err
}

// collection decides payment collection, which is separate from
// distribution: an invoice that names an AutoGiro payer number (BT-89) whose
// mandate is active in the registry also gets a withdrawal in the tenant's
// next AutoGiro payment file, whatever channel carries the invoice.
func (d *Daemon) collection(tx store.Tx, t *tenantState, reg txRegistry, doc *store.Doc, body *formats.Document, now time.Time) (*store.Delivery, error) {
	payer := body.MandateReference()
	refund := body.Kind == formats.KindCreditNote
	if payer == "" || refund && (t.cfg.AutoGiro == nil || !t.cfg.AutoGiro.RefundCreditNotes) {
		return nil, nil
	}
	col := &store.Collection{Method: outbound.AutoGiro, Payer: payer, At: now}
	doc.Collection = col
	record := func() error {
		return tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: outbound.AutoGiro, Reason: "collection: " + col.Reason})
	}
	switch {
	case t.cfg.AutoGiro == nil:
		col.State, col.Reason = store.CollectionNone, "the invoice names AutoGiro payer "+payer+" but the tenant has no AutoGiro agreement configured"
		return nil, record()
	case body.Totals.Payable == 0 || body.Totals.Payable < 0 && !refund:
		col.State, col.Reason = store.CollectionNone, "nothing to withdraw: the amount due is "+body.Totals.Payable.String()
		return nil, record()
	case d.lanes[outbound.AutoGiro] == nil:
		col.State, col.Reason = store.CollectionNone, "the autogiro channel is not available in this build"
		return nil, record()
	}
	mandate, err := reg.find(body, outbound.AutoGiro)
	if err != nil {
		return nil, err
	}
	if mandate == nil {
		col.State, col.Reason = store.CollectionNone, "no active AutoGiro mandate for payer "+payer+mandateHistory(tx, doc.Tenant, payer)
		return nil, record()
	}
	col.State, col.Reason = store.CollectionQueued, fmt.Sprintf("AutoGiro mandate of payer %s registered by %s; withdrawal on %s in the next payment file", payer, mandate.Source, dueOrNow(body))
	if refund {
		col.Reason = fmt.Sprintf("AutoGiro mandate of payer %s registered by %s; the credit note is paid back as a deposit in the next payment file", payer, mandate.Source)
	}
	dl := &store.Delivery{ID: store.DeliveryID(doc.ID, outbound.AutoGiro), DocID: doc.ID, Tenant: doc.Tenant, Channel: outbound.AutoGiro,
		To: payer, Collection: true, Batched: true, State: store.DeliveryQueued, Created: now, Updated: now}
	if err := tx.PutDelivery(dl); err != nil {
		return nil, err
	}
	if err := tx.PutCollectionRef(doc.Tenant, payerKey(payer), refKey(agchannel.Reference(body)), doc.ID); err != nil {
		return nil, err
	}
	return dl, record()
}

// payerKey and refKey are how bank files and our records meet: Bankgirot
// pads payer numbers with zeros and echoes references zero-filled.
func payerKey(payer string) string { return strings.TrimLeft(strings.TrimSpace(payer), "0") }
func refKey(ref string) string     { return strings.Trim(strings.TrimSpace(ref), "0 ") }

// mandateHistory explains why a payer has no active mandate, when the
// registry knows an earlier one.
func mandateHistory(tx store.Tx, tenant, payer string) string {
	key, err := recipients.NormaliseKey(store.KeyCustomer, payer, time.Now())
	if err != nil {
		return ""
	}
	regs, _ := tx.Registrations(tenant, store.RecipientKey{Type: store.KeyCustomer, Value: key})
	for i := len(regs) - 1; i >= 0; i-- {
		if r := regs[i]; r.Channel == outbound.AutoGiro && !r.RevokedAt.IsZero() {
			return fmt.Sprintf(" (the mandate was cancelled %s by %s)", r.RevokedAt.Format("2006-01-02"), r.RevokedBy)
		}
	}
	return ""
}

func dueOrNow(body *formats.Document) string {
	if body.DueDate.IsZero() {
		return "the next bank day (GENAST)"
	}
	return body.DueDate.String()
}

// followInvoice puts a credit note on the route of the invoice it credits:
// the buyer should find both in the same place. When that channel cannot
// reach the buyer now, the normal priority stands and the reason says so.
func followInvoice(tx store.Tx, doc *store.Doc, body *formats.Document) error {
	if body.Kind != formats.KindCreditNote || len(body.Preceding) == 0 || len(doc.Route) == 0 {
		return nil
	}
	number := body.Preceding[0].Number
	id, err := tx.NumberRef(doc.Tenant, number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	inv, err := tx.Doc(id)
	if err != nil || inv.Channel == "" {
		return err
	}
	for i, step := range doc.Route {
		if step.Channel != inv.Channel {
			continue
		}
		if !step.Eligible {
			doc.Route[i].Reason += fmt.Sprintf(" (invoice %s went by %s, but this credit note cannot)", number, inv.Channel)
			return nil
		}
		step.Reason = fmt.Sprintf("credit note follows invoice %s (%s), sent by %s; %s", number, inv.ID, inv.Channel, step.Reason)
		doc.Route = append([]store.RouteStep{step}, append(doc.Route[:i:i], doc.Route[i+1:]...)...)
		return nil
	}
	return nil
}

// decide asks every channel of the tenant's priority list (or only the
// forced one) whether it can reach the recipient.
func (d *Daemon) decide(t *tenantState, body *formats.Document, reg outbound.Registry) []store.RouteStep {
	channels := make(map[string]outbound.Channel, len(d.lanes))
	for name, l := range d.lanes {
		channels[name] = l.get().ch
	}
	return decideRoute(t.cfg.Priority, channels, reg, body)
}

// decideRoute is routing without a daemon, shared with `convert`.
func decideRoute(priority []string, channels map[string]outbound.Channel, reg outbound.Registry, body *formats.Document) []store.RouteStep {
	forced := strings.ToLower(strings.TrimSpace(body.ForcedChannel))
	if forced != "" {
		if _, ok := channels[forced]; !ok {
			return []store.RouteStep{{Channel: forced, Reason: fmt.Sprintf("forced channel %q is not a channel of this gateway", forced)}}
		}
		priority = []string{forced}
	}
	steps := make([]store.RouteStep, 0, len(priority))
	for _, name := range priority {
		ch, ok := channels[name]
		if !ok {
			steps = append(steps, store.RouteStep{Channel: name, Reason: "channel not configured"})
			continue
		}
		e := ch.Eligible(body, reg)
		reason := e.Reason
		if forced != "" {
			reason = "forced by the input; " + reason
		}
		steps = append(steps, store.RouteStep{Channel: name, Eligible: e.OK, Address: e.Address, Reason: reason})
	}
	return steps
}

// nextDelivery moves the document to the next eligible route step after the
// ones already tried, or marks it dead when none is left.
func (d *Daemon) nextDelivery(tx store.Tx, doc *store.Doc, now time.Time, why string) (*store.Delivery, error) {
	for doc.Tried < len(doc.Route) {
		step := doc.Route[doc.Tried]
		doc.Tried++
		if !step.Eligible {
			continue
		}
		l := d.lanes[step.Channel]
		dl := &store.Delivery{
			ID: store.DeliveryID(doc.ID, step.Channel), DocID: doc.ID, Tenant: doc.Tenant, Channel: step.Channel,
			To: step.Address, State: store.DeliveryQueued, Batched: l.get().batch != nil, Created: now, Updated: now,
		}
		if err := tx.PutDelivery(dl); err != nil {
			return nil, err
		}
		doc.Channel, doc.Address = step.Channel, step.Address
		doc.Reason = step.Channel + ": " + step.Reason
		if why != "" {
			doc.Reason = why + "; next: " + doc.Reason
		}
		doc.State, doc.Updated = store.DocQueued, now
		return dl, tx.AppendEvent(doc, store.Event{At: now, State: store.DocQueued, Channel: step.Channel, Reason: doc.Reason})
	}
	doc.Channel, doc.Address = "", ""
	doc.Reason = "no channel can reach the recipient: " + routeSummary(doc.Route)
	if why != "" {
		doc.Reason = why + "; no channel left: " + routeSummary(doc.Route)
	}
	doc.State, doc.Updated = store.DocDead, now
	return nil, tx.AppendEvent(doc, store.Event{At: now, State: store.DocDead, Reason: doc.Reason})
}

// routeSummary explains a route in one line: "peppol: no electronic address
// (BT-49) on the buyer; email: address in the invoice (buyer contact)".
func routeSummary(steps []store.RouteStep) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		mark := "skipped, "
		if s.Eligible {
			mark = ""
		}
		parts = append(parts, s.Channel+": "+mark+s.Reason)
	}
	return strings.Join(parts, "; ")
}

// held reports whether the document's recipient is on the do-not-send list,
// matching any of the recipient's keys.
func (t *tenantState) held(body *formats.Document) (string, bool) {
	if len(t.cfg.DoNotSend) == 0 {
		return "", false
	}
	b := body.Buyer
	keys := []string{b.CustomerNumber, b.PersonalID, b.LegalID.Value, b.Endpoint.Value, b.Contact.Email, body.MandateReference()}
	if m, ok := formats.SwedishMobile(b.Contact.Phone); ok {
		keys = append(keys, m)
	}
	for _, k := range keys {
		if k != "" && slices.Contains(t.cfg.DoNotSend, k) {
			return k, true
		}
	}
	return "", false
}
