package gateway

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	agchannel "github.com/multikanal/multikanal/outbound/autogiro"
)

// autogiroChannel is the collection channel that the collection code
// (mandates, Bankgirot's files, payment states) is written for; it is the
// one name of a channel the gateway's own code holds.
const autogiroChannel = agchannel.Name

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
	if refused, err := duplicate(tx, t, doc, body, now); refused || err != nil {
		return nil, nil, err
	}
	reg := txRegistry{tx: tx, tenant: doc.Tenant, now: now, cfg: d.live.Load()}
	// How the customer pays is decided before the channels are asked:
	// what a channel can carry (Peppol's rules, e-faktura's) depends on it.
	collect, err := d.collection(tx, t, reg, doc, body, now)
	if p := (formats.Problem{}); errors.As(err, &p) {
		doc.Problems = append(doc.Problems, p)
		doc.Reason = p.Error()
		return nil, nil, event(store.DocRejected, "", doc.Reason)
	}
	if err != nil {
		return nil, nil, err
	}
	doc.Route = d.decide(t, body, reg)
	if err := followInvoice(tx, doc, body); err != nil {
		return nil, nil, err
	}
	if body.Kind == formats.KindInvoice && body.Number != "" {
		if err := tx.PutNumberRef(doc.Tenant, body.Number, doc.ID); err != nil {
			return nil, nil, err
		}
	}
	if err := indexPaymentRefs(tx, doc, body); err != nil {
		return nil, nil, err
	}
	doc.Tried = 0
	if err := event(store.DocRouted, "", routeSummary(doc.Route)); err != nil {
		return nil, nil, err
	}
	dl, err := d.nextDelivery(tx, doc, now, "")
	return dl, collect, err
}

// collection decides how the document is paid, which is separate from
// distribution: an invoice that names an AutoGiro payer number (BT-89)
// whose mandate is active in the registry also gets a withdrawal in the
// tenant's next AutoGiro payment file, whatever channel carries the
// invoice. Whatever it decides, it records the way to pay on the document
// (body.Payment), which every channel renders: AutoGiro exactly when a
// withdrawal is queued, otherwise a transfer (or nothing to pay). A
// document it refuses gets a formats.Problem as the error, naming the rule.
func (d *Daemon) collection(tx store.Tx, t *tenantState, reg txRegistry, doc *store.Doc, body *formats.Document, now time.Time) (withdrawal *store.Delivery, err error) {
	defer func() {
		if err != nil {
			return
		}
		why := "no AutoGiro collection"
		if c := doc.Collection; c != nil {
			why = "collection: " + c.Reason
		}
		payer := ""
		if withdrawal != nil {
			payer = withdrawal.To
		}
		var pay formats.Payment
		if pay, err = paymentFor(t.cfg, body, payer, why, now); err == nil {
			body.Payment = &pay
		}
	}()
	payer := body.MandateReference()
	refund := body.Kind == formats.KindCreditNote
	if payer == "" || refund && (t.cfg.AutoGiro == nil || !t.cfg.AutoGiro.RefundCreditNotes) {
		return nil, nil
	}
	col := &store.Collection{Method: autogiroChannel, Payer: payer, At: now}
	doc.Collection = col
	record := func() error {
		return tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: autogiroChannel, Reason: "collection: " + col.Reason})
	}
	switch {
	case t.cfg.AutoGiro == nil:
		col.State, col.Reason = store.PaymentOpen, "the invoice names AutoGiro payer "+payer+" but the tenant has no AutoGiro agreement configured"
		return nil, record()
	case body.Totals.Payable == 0 || body.Totals.Payable < 0 && !refund:
		col.State, col.Reason = store.PaymentOpen, "nothing to withdraw: the amount due is "+body.Totals.Payable.String()
		return nil, record()
	case d.lanes[autogiroChannel] == nil:
		col.State, col.Reason = store.PaymentOpen, "the autogiro channel is not available in this build"
		return nil, record()
	}
	mandate, err := payerMandate(tx, reg, body, payer)
	if p := (formats.Problem{}); errors.As(err, &p) {
		col.State, col.Reason = store.PaymentFailed, "refused: "+p.Error()
		if rerr := record(); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if mandate == nil {
		col.State, col.Reason = store.PaymentOpen, "no active AutoGiro mandate for payer "+payer+mandateHistory(tx, doc.Tenant, payer)
		return nil, record()
	}
	// The withdrawal goes out under the mandate's own payer number, the
	// one Bankgirot knows (BT-89 may carry leading zeros the mandate has
	// not): a TK82 under any other number is refused (code 01).
	payer = mandatePayer(mandate)
	col.Payer = payer
	col.State, col.Reason = store.PaymentScheduled, fmt.Sprintf("AutoGiro mandate of payer %s registered by %s; withdrawal on %s in the next payment file", payer, mandate.Source, dueOrNow(body))
	if refund {
		col.Reason = fmt.Sprintf("AutoGiro mandate of payer %s registered by %s; the credit note is paid back as a deposit in the next payment file", payer, mandate.Source)
	}
	// One order the payment file cannot hold is refused here, alone: in a
	// batch it would fail the file and every withdrawal beside it.
	if err := agchannel.CheckOrder(body, payer, now); err != nil {
		col.State, col.Reason = store.PaymentOpen, "not collected: "+err.Error()
		return nil, record()
	}
	dl := &store.Delivery{ID: store.DeliveryID(doc.ID, autogiroChannel), DocID: doc.ID, Tenant: doc.Tenant, Channel: autogiroChannel,
		To: payer, Collection: true, Batched: true, State: store.DeliveryQueued, Created: now, Updated: now}
	if err := tx.PutDelivery(dl); err != nil {
		return nil, err
	}
	if err := tx.PutCollectionRef(doc.Tenant, payerKey(payer), refKey(agchannel.Reference(body)), doc.ID); err != nil {
		return nil, err
	}
	return dl, record()
}

// Rules routing applies to the way to pay, beside formats/validate's.
const (
	// RulePayer: the AutoGiro payer number on the invoice (BT-89) is not
	// the payer of the mandate the buyer has.
	RulePayer = "MK-PAYER"
	// RulePayment: an amount is due and there is no way to pay it.
	RulePayment = "MK-PAYMENT"
)

// payerMandate finds the active AutoGiro mandate the invoice is collected
// under: the one registered for its payer number (BT-89). When that payer
// has none but the buyer has one under another payer number (found by
// any other key: customer number, personnummer), the invoice is refused:
// a biller's wrong payer number must neither charge another payer's
// account nor go out under a number Bankgirot rejects.
func payerMandate(tx store.Tx, reg txRegistry, body *formats.Document, payer string) (*store.Registration, error) {
	value, err := recipients.NormaliseKey(store.KeyCustomer, payer, reg.now)
	if err != nil {
		value = payerKey(payer)
	}
	regs, err := tx.Registrations(reg.tenant, store.RecipientKey{Type: store.KeyCustomer, Value: value})
	if err != nil {
		return nil, err
	}
	var own *store.Registration
	for _, r := range regs {
		if r.Channel == autogiroChannel && r.Active(reg.now) && (own == nil || r.ValidFrom.After(own.ValidFrom)) {
			own = r
		}
	}
	if own != nil {
		return own, nil
	}
	other, err := reg.find(body, autogiroChannel)
	if err != nil || other == nil {
		return nil, err
	}
	return nil, formats.Problem{Rule: RulePayer, Severity: formats.SeverityError, Message: fmt.Sprintf(
		"the invoice names AutoGiro payer number %s (BT-89), but the buyer's active AutoGiro mandate is for payer number %s (registered by %s); "+
			"correct the payer number on the invoice: a withdrawal is never made under another payer's number", payer, mandatePayer(other), other.Source)}
}

// mandatePayer is the payer number a mandate registration is for.
func mandatePayer(r *store.Registration) string {
	if r.Address != "" {
		return r.Address
	}
	for _, k := range r.Keys {
		if k.Type == store.KeyCustomer {
			return k.Value
		}
	}
	return ""
}

// paymentFor is how the customer settles the document, given the payer
// number a withdrawal is queued under ("" when none): AutoGiro with that
// payer on the due date (the next bank day when the due date is not
// after today, as the payment file says GENAST then); nothing for a
// credit note or nothing due; otherwise a transfer to the account the
// invoice names, or to the tenant's bankgiro or plusgiro when it names
// none. An amount due with no account at all is refused (RulePayment).
// why is the collection's reason, kept with the decision.
func paymentFor(t config.Tenant, body *formats.Document, payer, why string, now time.Time) (formats.Payment, error) {
	p := body.OwnPayment()
	switch {
	case p.Method == formats.PayNothing:
		p.Reason = "nothing to pay (" + why + ")"
		if body.Kind == formats.KindCreditNote {
			p.Reason = "a credit note: nothing to pay (" + why + ")"
		}
		return p, nil
	case payer != "":
		p = formats.Payment{Method: formats.PayAutoGiro, Payer: payer, Reference: p.Reference, Reason: why}
		if formats.DateOf(now).Before(body.DueDate) {
			p.Date = body.DueDate
		}
		return p, nil
	case p.HasAccount():
		p.Reason = why + "; paid by transfer to the account the invoice names"
		return withSwish(p, t, body), nil
	case t.Bankgiro != "" || t.Plusgiro != "" || t.IBAN != "":
		p.Bankgiro, p.Plusgiro, p.IBAN = t.Bankgiro, t.Plusgiro, t.IBAN
		p.Reason = why + "; the invoice names no account (BT-84), so it is paid to the tenant's " + tenantAccounts(t)
		return withSwish(p, t, body), nil
	}
	return p, formats.Problem{Rule: RulePayment, Severity: formats.SeverityError, Message: fmt.Sprintf(
		"%s %s is due but there is no way to pay it: the invoice names no bankgiro, plusgiro or IBAN (BT-84)%s and tenant %s has no bankgiro, plusgiro or IBAN configured; "+
			"put the account on the invoice or set bankgiro in the tenant's configuration", body.Totals.Payable, body.Currency, noCollection(why), t.ID)}
}

// noCollection adds why an invoice naming a payer number is not
// collected, to a refusal for want of an account.
func noCollection(why string) string {
	if strings.HasPrefix(why, "collection: ") {
		return " and it is not collected by AutoGiro (" + strings.TrimPrefix(why, "collection: ") + ")"
	}
	return ""
}

// withSwish offers the tenant's Swish number beside the account of a
// transfer, where the tenant has one: Swish pays Swedish kronor only, so
// an invoice in another currency does not get it. An invoice collected
// by AutoGiro never reaches here.
func withSwish(p formats.Payment, t config.Tenant, body *formats.Document) formats.Payment {
	if t.Swish != "" && (body.Currency == "" || strings.EqualFold(body.Currency, "SEK")) {
		p.Swish = t.Swish
	}
	return p
}

func tenantAccounts(t config.Tenant) string {
	var s []string
	if t.Bankgiro != "" {
		s = append(s, "bankgiro "+t.Bankgiro)
	}
	if t.Plusgiro != "" {
		s = append(s, "plusgiro "+t.Plusgiro)
	}
	if t.IBAN != "" {
		s = append(s, "IBAN "+t.IBAN)
	}
	return strings.Join(s, " and ")
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
		if r := regs[i]; r.Channel == autogiroChannel && !r.RevokedAt.IsZero() {
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
	return decideRoute(d.live.Load(), t.cfg.Priority, channels, reg, body)
}

// decideRoute is routing without a daemon, shared with `convert`. cfg
// holds the channels' descriptors.
func decideRoute(cfg *config.Config, priority []string, channels map[string]outbound.Channel, reg outbound.Registry, body *formats.Document) []store.RouteStep {
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
		if cc := cfg.ChannelConfig(name); cc != nil && !cc.Descriptor.CarriesKind(body.Kind) {
			steps = append(steps, store.RouteStep{Channel: name, Reason: fmt.Sprintf("the channel does not carry documents of kind %s", body.Kind)})
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
			ID: doc.DeliveryID(step.Channel), DocID: doc.ID, Tenant: doc.Tenant, Channel: step.Channel,
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
