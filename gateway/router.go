package gateway

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// route validates a parsed document, decides its channel and creates its
// first delivery. It records every decision with its reason on doc and in
// its history. It returns the delivery to queue, or nil when the document
// ends here (rejected, held, or no channel reaches the recipient).
func (d *Daemon) route(tx store.Tx, t *tenantState, doc *store.Doc, body *formats.Document, now time.Time) (*store.Delivery, error) {
	event := func(state store.DocState, channel, reason string) error {
		doc.State, doc.Updated = state, now
		return tx.AppendEvent(doc, store.Event{At: now, State: state, Channel: channel, Reason: reason})
	}
	problems := validate.Document(body, validateOptions(t.cfg, now))
	doc.Problems = problems
	if errs := problems.Errors(); len(errs) > 0 {
		doc.Reason = errs.Error()
		return nil, event(store.DocRejected, "", doc.Reason)
	}
	if key, ok := t.held(body); ok {
		doc.Reason = "held: recipient " + key + " is on the tenant's do-not-send list"
		return nil, event(store.DocHeld, "", doc.Reason)
	}
	doc.Route = d.decide(t, body)
	doc.Tried = 0
	if err := event(store.DocRouted, "", routeSummary(doc.Route)); err != nil {
		return nil, err
	}
	return d.nextDelivery(tx, doc, now, "")
}

// decide asks every channel of the tenant's priority list (or only the
// forced one) whether it can reach the recipient.
func (d *Daemon) decide(t *tenantState, body *formats.Document) []store.RouteStep {
	channels := make(map[string]outbound.Channel, len(d.lanes))
	for name, l := range d.lanes {
		channels[name] = l.ch
	}
	return decideRoute(t.cfg.Priority, channels, d.registry, body)
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
			To: step.Address, State: store.DeliveryQueued, Batched: l.batch != nil, Created: now, Updated: now,
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
