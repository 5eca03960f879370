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
	"github.com/multikanal/multikanal/outbound"
)

// collection decides how the document is paid, which is separate from
// distribution: an invoice that names a payer of a collection channel
// (AutoGiro's payer number, AvtaleGiro's KID), in that channel's currency,
// whose mandate is active in the registry also gets an order in the
// tenant's next file of that channel, whatever channel carries the
// invoice. Whatever it decides, it records the way to pay on the document
// (body.Payment), which every channel renders: a direct debit, in the
// collection channel's words, exactly when an order is queued, otherwise a
// transfer (or nothing to pay). A document it refuses gets a
// formats.Problem as the error, naming the rule.
func collection(tx Tx, chans Channels, t config.Tenant, reg registry.Lookup, doc *store.Doc, body *formats.Document, now time.Time) (order *store.Delivery, err error) {
	var debit *formats.Payment
	defer func() {
		if err != nil {
			return
		}
		why := noDirectDebit
		if c := doc.Collection; c != nil {
			why = "collection: " + c.Reason
		}
		var pay formats.Payment
		if pay, err = PaymentFor(t, body, debit, why); err == nil {
			body.Payment = &pay
		}
	}()
	c, d, payer, other := collectorOf(chans, t, body)
	refund := body.Kind == formats.KindCreditNote
	if c == nil {
		if other == "" || refund {
			return nil, nil
		}
		// The invoice names a mandate no collection channel takes: say so,
		// rather than let it pass for an invoice without one.
		doc.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentOpen, At: now, Reason: other}
		return nil, tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Reason: "collection: " + other})
	}
	if refund && !c.Refunds(t.ID) {
		return nil, nil
	}
	terms := c.Terms()
	col := &store.Collection{Method: d.Name, Payer: payer, At: now}
	doc.Collection = col
	record := func() error {
		return tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: d.Name, Reason: "collection: " + col.Reason})
	}
	switch {
	case d.Agreement != nil && t.Agreements[d.Name] == nil:
		col.State, col.Reason = store.PaymentOpen, fmt.Sprintf("the invoice names %s %s %s but the tenant has no %s agreement configured ([tenant.%s])", terms.Title, terms.Payer, payer, terms.Title, d.Name)
		return nil, record()
	case body.Totals.Payable == 0 || body.Totals.Payable < 0 && !refund:
		col.State, col.Reason = store.PaymentOpen, "nothing to withdraw: the amount due is "+body.Totals.Payable.String()
		return nil, record()
	}
	mandate, err := payerMandate(tx, reg, d, terms, body, payer)
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
	key := MandateKey(d, payer, now)
	if mandate == nil {
		col.State, col.Reason = store.PaymentOpen, fmt.Sprintf("no active %s mandate for %s %s%s", terms.Title, terms.Payer, payer, MandateHistory(tx, doc.Tenant, d.Name, key))
		return nil, record()
	}
	// The order goes out under the mandate's own payer key, the one the
	// clearing house knows (BT-89 may carry leading zeros an AutoGiro
	// mandate has not): Bankgirot refuses a TK82 under any other number.
	payer = mandatePayer(mandate, d.Address)
	col.Payer = payer
	col.State, col.Reason = store.PaymentScheduled, fmt.Sprintf("%s mandate of %s %s registered by %s; withdrawal on %s in the next %s", terms.Title, terms.Payer, payer, mandate.Source, dueOrNow(body), terms.File)
	if refund {
		col.Reason = fmt.Sprintf("%s mandate of %s %s registered by %s; the credit note is paid back as a deposit in the next %s", terms.Title, terms.Payer, payer, mandate.Source, terms.File)
	}
	// One order the file cannot hold is refused here, alone: in a batch
	// it would fail the file and every order beside it.
	if err := c.CheckOrder(body, payer, t.ID, now); err != nil {
		col.State, col.Reason = store.PaymentOpen, "not collected: "+err.Error()
		return nil, record()
	}
	dl := &store.Delivery{ID: store.DeliveryID(doc.ID, d.Name), DocID: doc.ID, Tenant: doc.Tenant, Channel: d.Name,
		To: payer, Collection: true, Batched: true, State: store.DeliveryQueued, Created: now, Updated: now}
	if err := tx.PutDelivery(dl); err != nil {
		return nil, err
	}
	if err := tx.PutCollectionRef(doc.Tenant, PayerKey(payer), RefKey(c.Reference(body)), doc.ID); err != nil {
		return nil, err
	}
	debit = &formats.Payment{Method: formats.PayMethod(d.Name), Payer: payer, Debit: c.Words(body, now)}
	return dl, record()
}

// noDirectDebit is the reason of an invoice that names no mandate.
const noDirectDebit = "no collection by direct debit"

// collectorOf finds the collection channel that collects the document:
// the first the gateway runs whose currency is the invoice's and for
// which the invoice names a payer. A payer the invoice names only by its
// payment reference (AvtaleGiro's KID, BT-83) counts only when the tenant
// has the channel's agreement: a Norwegian invoice paid by KID is no
// failed collection. When none does, other says why a mandate reference
// the invoice names (BT-89) is not collected, or is "" when it names none.
func collectorOf(chans Channels, t config.Tenant, body *formats.Document) (c outbound.Collector, d outbound.Descriptor, payer, other string) {
	var currencies []string
	for _, name := range chans.Names() {
		d, ok := chans.Descriptor(name)
		if !ok || d.Role != outbound.Collection {
			continue
		}
		ch, _, _ := chans.Channel(name)
		col, ok := ch.(outbound.Collector)
		if !ok {
			continue
		}
		terms := col.Terms()
		p := col.Payer(body)
		explicit := p != "" && p == body.MandateReference()
		switch {
		case p == "", !explicit && d.Agreement != nil && t.Agreements[d.Name] == nil:
		case strings.EqualFold(terms.Currency, body.Currency):
			return col, d, p, ""
		case explicit:
			currencies = append(currencies, terms.Title+" withdraws "+terms.Currency+" only")
		}
	}
	if m := body.MandateReference(); m != "" {
		other = fmt.Sprintf("the invoice names mandate reference %s (BT-89), but no collection channel of this gateway takes it", m)
		if len(currencies) > 0 {
			other = fmt.Sprintf("the invoice names mandate reference %s (BT-89), but it is in %s: %s", m, body.Currency, strings.Join(currencies, ", "))
		}
	}
	return nil, outbound.Descriptor{}, "", other
}

// Rules routing applies to the way to pay, beside formats/validate's.
const (
	// RulePayer: the payer a collection channel knows the invoice's
	// payer by (BT-89, an AutoGiro payer number) is not the payer of the
	// mandate the buyer has.
	RulePayer = "MK-PAYER"
	// RulePayment: an amount is due and there is no way to pay it.
	RulePayment = "MK-PAYMENT"
)

// MandateKey is the registry key a collection channel's mandate of payer
// is registered under: the channel's address key type (AutoGiro's
// customer number, AvtaleGiro's KID), normalised as the registry keeps it.
func MandateKey(d outbound.Descriptor, payer string, now time.Time) store.RecipientKey {
	value, err := recipients.NormaliseKey(d.Address, payer, now)
	if err != nil {
		value = strings.TrimSpace(payer)
	}
	return store.RecipientKey{Type: d.Address, Value: value}
}

// payerMandate finds the active mandate of the collection channel that the
// invoice is collected under: the one registered for its payer. When that
// payer has none but the buyer has one under another payer key (found by
// any other key: customer number, personnummer), the invoice is refused:
// a biller's wrong payer number must neither charge another payer's
// account nor go out under a number the clearing house rejects.
func payerMandate(tx store.RegistryTx, reg registry.Lookup, d outbound.Descriptor, terms outbound.CollectionTerms, body *formats.Document, payer string) (*store.Registration, error) {
	regs, err := tx.Registrations(reg.Tenant, MandateKey(d, payer, reg.Now))
	if err != nil {
		return nil, err
	}
	var own *store.Registration
	for _, r := range regs {
		if r.Channel == d.Name && r.Active(reg.Now) && (own == nil || r.ValidFrom.After(own.ValidFrom)) {
			own = r
		}
	}
	if own != nil {
		return own, nil
	}
	other, err := reg.Find(body, d.Name)
	if err != nil || other == nil {
		return nil, err
	}
	bt := "BT-89"
	if payer != body.MandateReference() {
		bt = "BT-83"
	}
	return nil, formats.Problem{Rule: RulePayer, Severity: formats.SeverityError, Message: fmt.Sprintf(
		"the invoice names %s %s %s (%s), but the buyer's active %s mandate is for %s %s (registered by %s); "+
			"correct the %s on the invoice: a withdrawal is never made under another payer's mandate", terms.Title, terms.Payer, payer, bt, terms.Title,
		terms.Payer, mandatePayer(other, d.Address), other.Source, terms.Payer)}
}

// mandatePayer is the payer key a mandate registration is for.
func mandatePayer(r *store.Registration, keyType string) string {
	if r.Address != "" {
		return r.Address
	}
	for _, k := range r.Keys {
		if k.Type == keyType {
			return k.Value
		}
	}
	return ""
}

// PaymentFor is how the customer settles the document, given the direct
// debit an order is queued for (nil when none: its method, payer and
// words): withdrawn on the due date (the next bank day when the due date
// is not after today, as AutoGiro's payment file says GENAST then);
// nothing for a credit note or nothing due; otherwise a transfer to the
// account the invoice names, or to the tenant's bankgiro or plusgiro when
// it names none. An amount due with no account at all is refused
// (RulePayment). why is the collection's reason, kept with the decision.
func PaymentFor(t config.Tenant, body *formats.Document, debit *formats.Payment, why string) (formats.Payment, error) {
	p := body.OwnPayment()
	switch {
	case p.Method == formats.PayNothing:
		p.Reason = "nothing to pay (" + why + ")"
		if body.Kind == formats.KindCreditNote {
			p.Reason = "a credit note: nothing to pay (" + why + ")"
		}
		return p, nil
	case debit != nil:
		// The day is the collection channel's, decided in its clearing
		// house's time zone, as its file will say.
		p = formats.Payment{Method: debit.Method, Payer: debit.Payer, Debit: debit.Debit, Date: debit.Debit.On, Reference: p.Reference, Reason: why}
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

// noCollection adds why an invoice naming a payer is not collected, to a
// refusal for want of an account.
func noCollection(why string) string {
	if strings.HasPrefix(why, "collection: ") {
		return " and it is not collected by direct debit (" + strings.TrimPrefix(why, "collection: ") + ")"
	}
	return ""
}

// withSwish offers the tenant's Swish number beside the account of a
// transfer, where the tenant has one: Swish pays Swedish kronor only, so
// an invoice in another currency does not get it. An invoice collected
// by direct debit never reaches here.
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

// PayerKey and RefKey are how bank files and our records meet in the
// index of orders (collection refs): Bankgirot pads payer numbers with
// zeros and echoes references zero-filled. The index is a way in, not
// the truth: what it finds is checked against the document.
func PayerKey(payer string) string { return strings.TrimLeft(strings.TrimSpace(payer), "0") }

// RefKey: see PayerKey.
func RefKey(ref string) string { return strings.Trim(strings.TrimSpace(ref), "0 ") }

// MandateHistory explains why a payer has no active mandate on the
// collection channel, when the registry knows an earlier one under key:
// " (the mandate was cancelled DATE by SOURCE)", or "".
func MandateHistory(tx store.RegistryTx, tenant, channel string, key store.RecipientKey) string {
	regs, _ := tx.Registrations(tenant, key)
	for i := len(regs) - 1; i >= 0; i-- {
		if r := regs[i]; r.Channel == channel && !r.RevokedAt.IsZero() {
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
// of it can carry: its OCR number (or KID), its invoice number, and the
// reference an order of each collection channel would carry (AutoGiro's:
// the end of a long invoice number).
func indexPaymentRefs(tx store.CollectionTx, chans Channels, doc *store.Doc, body *formats.Document) error {
	if body.Kind != formats.KindInvoice || body.Totals.Payable <= 0 {
		return nil
	}
	refs := []string{body.PaymentReference(), body.Number}
	for _, name := range chans.Names() {
		if ch, _, _ := chans.Channel(name); ch != nil {
			if c, ok := ch.(outbound.Collector); ok {
				refs = append(refs, c.Reference(body))
			}
		}
	}
	var done []string
	for _, ref := range refs {
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
