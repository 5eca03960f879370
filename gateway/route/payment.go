package route

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/store"
	agchannel "github.com/multikanal/multikanal/outbound/autogiro"
)

// AutoGiro is the collection channel that the collection code (mandates,
// Bankgirot's files, payment states) is written for; it is the one name
// of a channel the gateway's own code holds.
const AutoGiro = agchannel.Name

// collection decides how the document is paid, which is separate from
// distribution: an invoice that names an AutoGiro payer number (BT-89)
// whose mandate is active in the registry also gets a withdrawal in the
// tenant's next AutoGiro payment file, whatever channel carries the
// invoice. Whatever it decides, it records the way to pay on the document
// (body.Payment), which every channel renders: AutoGiro exactly when a
// withdrawal is queued, otherwise a transfer (or nothing to pay). A
// document it refuses gets a formats.Problem as the error, naming the rule.
func collection(tx Tx, chans Channels, t config.Tenant, reg registry.Lookup, doc *store.Doc, body *formats.Document, now time.Time) (withdrawal *store.Delivery, err error) {
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
		if pay, err = PaymentFor(t, body, payer, why, now); err == nil {
			body.Payment = &pay
		}
	}()
	payer := body.MandateReference()
	refund := body.Kind == formats.KindCreditNote
	if payer == "" || refund && (t.AutoGiro == nil || !t.AutoGiro.RefundCreditNotes) {
		return nil, nil
	}
	col := &store.Collection{Method: AutoGiro, Payer: payer, At: now}
	doc.Collection = col
	record := func() error {
		return tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: AutoGiro, Reason: "collection: " + col.Reason})
	}
	switch {
	case t.AutoGiro == nil:
		col.State, col.Reason = store.PaymentOpen, "the invoice names AutoGiro payer "+payer+" but the tenant has no AutoGiro agreement configured"
		return nil, record()
	case body.Totals.Payable == 0 || body.Totals.Payable < 0 && !refund:
		col.State, col.Reason = store.PaymentOpen, "nothing to withdraw: the amount due is "+body.Totals.Payable.String()
		return nil, record()
	case !hasChannel(chans, AutoGiro):
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
		col.State, col.Reason = store.PaymentOpen, "no active AutoGiro mandate for payer "+payer+MandateHistory(tx, doc.Tenant, payer)
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
	dl := &store.Delivery{ID: store.DeliveryID(doc.ID, AutoGiro), DocID: doc.ID, Tenant: doc.Tenant, Channel: AutoGiro,
		To: payer, Collection: true, Batched: true, State: store.DeliveryQueued, Created: now, Updated: now}
	if err := tx.PutDelivery(dl); err != nil {
		return nil, err
	}
	if err := tx.PutCollectionRef(doc.Tenant, PayerKey(payer), RefKey(agchannel.Reference(body)), doc.ID); err != nil {
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
func payerMandate(tx store.RegistryTx, reg registry.Lookup, body *formats.Document, payer string) (*store.Registration, error) {
	value, err := recipients.NormaliseKey(store.KeyCustomer, payer, reg.Now)
	if err != nil {
		value = PayerKey(payer)
	}
	regs, err := tx.Registrations(reg.Tenant, store.RecipientKey{Type: store.KeyCustomer, Value: value})
	if err != nil {
		return nil, err
	}
	var own *store.Registration
	for _, r := range regs {
		if r.Channel == AutoGiro && r.Active(reg.Now) && (own == nil || r.ValidFrom.After(own.ValidFrom)) {
			own = r
		}
	}
	if own != nil {
		return own, nil
	}
	other, err := reg.Find(body, AutoGiro)
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

// PaymentFor is how the customer settles the document, given the payer
// number a withdrawal is queued under ("" when none): AutoGiro with that
// payer on the due date (the next bank day when the due date is not
// after today, as the payment file says GENAST then); nothing for a
// credit note or nothing due; otherwise a transfer to the account the
// invoice names, or to the tenant's bankgiro or plusgiro when it names
// none. An amount due with no account at all is refused (RulePayment).
// why is the collection's reason, kept with the decision.
func PaymentFor(t config.Tenant, body *formats.Document, payer, why string, now time.Time) (formats.Payment, error) {
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
func PayerKey(payer string) string { return strings.TrimLeft(strings.TrimSpace(payer), "0") }

func RefKey(ref string) string { return strings.Trim(strings.TrimSpace(ref), "0 ") }

// MandateHistory explains why a payer has no active mandate, when the
// registry knows an earlier one: " (the mandate was cancelled DATE by
// SOURCE)", or "".
func MandateHistory(tx store.RegistryTx, tenant, payer string) string {
	key, err := recipients.NormaliseKey(store.KeyCustomer, payer, time.Now())
	if err != nil {
		return ""
	}
	regs, _ := tx.Registrations(tenant, store.RecipientKey{Type: store.KeyCustomer, Value: key})
	for i := len(regs) - 1; i >= 0; i-- {
		if r := regs[i]; r.Channel == AutoGiro && !r.RevokedAt.IsZero() {
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

// indexPaymentRefs indexes a routed invoice under the references a payment
// of it can carry: its OCR number, its invoice number, and the reference
// its AutoGiro withdrawal carries (the end of a long invoice number).
func indexPaymentRefs(tx store.CollectionTx, doc *store.Doc, body *formats.Document) error {
	if body.Kind != formats.KindInvoice || body.Totals.Payable <= 0 {
		return nil
	}
	var done []string
	for _, ref := range []string{body.PaymentReference(), body.Number, agchannel.Reference(body)} {
		if k := PaymentRefKey(ref); k != "" && !slices.Contains(done, k) {
			if err := tx.PutPaymentRef(doc.Tenant, k, doc.ID); err != nil {
				return err
			}
			done = append(done, k)
		}
	}
	return nil
}

// PaymentRefKey is how a reference in a bank's report meets the invoice's:
// Bg Max writes OCR numbers right-aligned or left-aligned, zero-filled or
// blank-filled, and people write references in either case.
func PaymentRefKey(ref string) string {
	return strings.TrimLeft(strings.ToUpper(strings.Join(strings.Fields(ref), "")), "0")
}

// hasChannel reports whether the gateway runs the channel.
func hasChannel(chans Channels, name string) bool {
	_, _, ok := chans.Channel(name)
	return ok
}
