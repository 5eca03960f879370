package collection

import (
	"errors"
	"fmt"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// What a clearing house reports about payments, applied to each invoice's
// payment state (store.Collection). A report on an order names it by payer
// and reference (the collection_refs index routing made), or selects
// among the payer's orders at the clearing house (outbound.Match); a
// payment the payer made himself carries no payer and names the invoice
// by the reference it was paid with (the payment_refs index).

// payment applies one payment report.
func (a *bankApply) payment(p outbound.PaymentReport) error {
	src := a.at(p.Line)
	switch {
	case p.Outcome == outbound.PaymentNotDone:
		a.sum.add(p.Tally)
		return nil
	case p.Outcome == outbound.PaymentPaidIn:
		return a.paidIn(p, src)
	case p.Match != nil:
		return a.matched(p, src)
	}
	docID, err := a.tx.CollectionRef(a.tenant, route.PayerKey(p.Payer), route.RefKey(p.Reference))
	if errors.Is(err, store.ErrNotFound) {
		a.sum.add(outbound.TallyUnmatched)
		return nil
	}
	if err != nil {
		return err
	}
	return a.update(docID, func(doc *store.Doc, c *store.Collection) bool { return a.apply(p, c, src) })
}

// apply moves a collection on as the report says; it reports whether it
// changed.
func (a *bankApply) apply(p outbound.PaymentReport, c *store.Collection, src string) bool {
	if p.Outcome == outbound.PaymentAtBank && c.State != store.PaymentScheduled && c.State != store.PaymentFailed {
		// A register extract may be older than the report that settled
		// the payment since; that report stands.
		return false
	}
	if p.Money != nil {
		addReceived(c, p.Money, src)
	}
	switch p.Outcome {
	case outbound.PaymentWithdrawn:
		c.State, c.AtBank = store.PaymentCollected, true
	case outbound.PaymentPaidBack:
		c.State, c.AtBank = store.PaymentRefunded, true
	case outbound.PaymentRetrying, outbound.PaymentAtBank:
		c.State, c.AtBank = store.PaymentScheduled, true
	case outbound.PaymentStopped:
		c.State, c.AtBank = store.PaymentFailed, true
	case outbound.PaymentRejected:
		c.State = store.PaymentFailed
	case outbound.PaymentCancelled:
		c.State = store.PaymentCancelled
	}
	if !p.Date.IsZero() {
		c.Date = p.Date
	}
	c.Reason = p.Reason + ", " + src
	a.sum.add(p.Tally)
	return true
}

// matched applies a report about the orders at the clearing house that
// its Match selects: of its payer (every payer's when it names none), of
// its reference (any when it names none). None matched is counted.
func (a *bankApply) matched(p outbound.PaymentReport, src string) error {
	var ids []string
	err := a.tx.ForEachCollectionRef(a.tenant, route.PayerKey(p.Payer), func(_, ref, docID string) error {
		if p.Reference == "" || ref == route.RefKey(p.Reference) {
			ids = append(ids, docID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	m, n := p.Match, 0
	for _, id := range ids {
		if m.First && n > 0 {
			break
		}
		err := a.update(id, func(doc *store.Doc, c *store.Collection) bool {
			switch {
			case c.Method != a.desc.Name || c.State != store.PaymentScheduled || !c.AtBank:
				return false
			case p.Payer != "" && a.key(c.Payer) != a.key(p.Payer):
				return false
			case m.Kind != "" && (m.Kind == formats.KindCreditNote) != (doc.Kind == formats.KindCreditNote):
				return false
			case m.Amount != 0 && m.Amount != absAmount(doc.Amount):
				return false
			case !m.Date.IsZero() && !onDate(doc, c, m.Date):
				return false
			}
			n++
			return a.apply(p, c, src)
		})
		if err != nil {
			return err
		}
	}
	if n == 0 {
		a.sum.add(outbound.TallyUnmatched)
	}
	return nil
}

// onDate reports whether a scheduled order falls on d: the date the
// clearing house last reported for it, else its due date; one sent at once
// (AutoGiro's GENAST: the due date had passed) falls on the first day
// after its file.
func onDate(doc *store.Doc, c *store.Collection, on formats.Date) bool {
	switch {
	case !c.Date.IsZero():
		return c.Date == on
	case !doc.DueDate.IsZero() && formats.DateOf(c.At).Before(doc.DueDate):
		return doc.DueDate == on
	}
	return !on.Before(formats.DateOf(c.At))
}

// paidIn applies a payment the payer made himself (Bg Max, OCR giro): its
// reference names the invoice; its amount makes the invoice paid or partly
// paid, or collects a withdrawal still scheduled (Bankgirot's Bg Max
// reports AutoGiro withdrawals made, §10).
func (a *bankApply) paidIn(p outbound.PaymentReport, src string) error {
	key := route.PaymentRefKey(p.Reference)
	docID, err := a.tx.PaymentRef(a.tenant, key)
	if key == "" || errors.Is(err, store.ErrNotFound) {
		a.sum.add(outbound.TallyUnmatched)
		return nil
	}
	if err != nil {
		return err
	}
	return a.update(docID, func(doc *store.Doc, c *store.Collection) bool {
		if p.Money == nil || !addReceived(c, p.Money, src) {
			return false // this report was applied before
		}
		due := doc.Amount
		switch {
		case formats.PayMethod(c.Method).DirectDebit() && c.State == store.PaymentScheduled:
			c.State, c.AtBank = store.PaymentCollected, true
			a.sum.add(outbound.TallyCollected)
		case c.Paid >= due:
			c.State = store.PaymentPaid
			a.sum.add(outbound.TallyPaid)
		default:
			c.State = store.PaymentPartlyPaid
			a.sum.add(outbound.TallyPartlyPaid)
		}
		c.Reason = fmt.Sprintf("%s of %s paid%s, %s", c.Paid, due, p.Reason, src)
		if c.Paid > due {
			c.Reason += fmt.Sprintf("; %s more than due", c.Paid-due)
		}
		return true
	})
}

// update changes a document's payment with fn and, when fn says it did,
// records it: the time, an event in the document's history, the receipt.
func (a *bankApply) update(docID string, fn func(doc *store.Doc, c *store.Collection) bool) error {
	doc, err := a.tx.Doc(docID)
	if err != nil {
		return err
	}
	c := doc.Collection
	if c == nil {
		c = &store.Collection{Method: store.MethodTransfer, State: store.PaymentOpen}
	}
	if !fn(doc, c) {
		return nil
	}
	c.At, doc.Collection = a.now, c
	a.sum.files[doc.FileID] = true
	if err := a.tx.AppendEvent(doc, store.Event{At: a.now, State: doc.State, Channel: c.Method, Reason: "payment " + string(c.State) + ": " + c.Reason}); err != nil {
		return err
	}
	return a.tx.PutDoc(doc)
}

// addReceived adds a reported payment to the collection unless the same
// report named it before; it reports whether it did.
func addReceived(c *store.Collection, m *outbound.Money, src string) bool {
	for _, r := range c.Payments {
		if r.Key == m.Key {
			return false
		}
	}
	c.Payments = append(c.Payments, store.Received{Key: m.Key, Amount: m.Amount, Date: m.Date, Source: src})
	c.Paid += m.Amount
	return true
}

func absAmount(a formats.Amount) formats.Amount {
	if a < 0 {
		return -a
	}
	return a
}
