package collection

import (
	"errors"
	"fmt"
	"slices"

	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
)

// What Bankgirot reports about payments, applied to each invoice's payment
// state (store.Collection). An AutoGiro report names a payment by payer
// number and reference (the collection_refs index); Bg Max has no payer
// number and names it by reference alone (the payment_refs index).

// payment applies a TK82 or TK32 of a payment specification (§8.2.2, status
// codes §8.2.3), a rejected payment (§8.4.2) or a payment register extract
// (§8.7).
func (a *bankApply) payment(s ag.Section, p *ag.Payment, src string) error {
	docID, ok, err := a.withdrawal(p.PayerNumber, p.Reference)
	if err != nil || !ok {
		return err
	}
	what := map[ag.PaymentType]string{ag.Withdrawal: "withdrawal", ag.Deposit: "deposit"}[p.Type]
	return a.update(docID, func(doc *store.Doc, c *store.Collection) bool {
		switch {
		case s.Kind == ag.KindRejectedPayments:
			c.State, c.Reason = store.PaymentFailed, fmt.Sprintf("Bankgirot rejected the %s (comment code %s: %s), %s", what, p.Rejection, p.Rejection.Meaning().Sv, src)
			a.sum.rejected++
		case s.Kind == ag.KindPaymentRegister:
			// An extract lists what awaits its date: still scheduled, never
			// "stopped". It may be older than a report that settled the
			// payment since; that report stands.
			if c.State != store.PaymentScheduled && c.State != store.PaymentFailed {
				return false
			}
			c.State, c.AtBank, c.Date = store.PaymentScheduled, true, formatsDate(p.Date)
			c.Reason = fmt.Sprintf("at Bankgirot, awaiting its payment date %s (payment register extract of %s), %s", p.Date, s.WriteDate.Format("2006-01-02"), src)
			a.sum.scheduled++
		case p.Status == ag.StatusApproved && p.Type == ag.Withdrawal:
			c.State, c.AtBank, c.Date = store.PaymentCollected, true, formatsDate(p.Date)
			addReceived(c, fmt.Sprintf("autogiro %s %s", p.Type, p.Date), p.Amount, p.Date, src)
			c.Reason = fmt.Sprintf("withdrawn %s on %s, %s", p.Amount, p.Date, src)
			a.sum.collected++
		case p.Status == ag.StatusApproved:
			c.State, c.AtBank, c.Date = store.PaymentRefunded, true, formatsDate(p.Date)
			addReceived(c, fmt.Sprintf("autogiro %s %s", p.Type, p.Date), -p.Amount, p.Date, src)
			c.Reason = fmt.Sprintf("paid back %s by AutoGiro deposit on %s, %s", p.Amount, p.Date, src)
			a.sum.deposits++
		case p.Status == ag.StatusRenewedFundsCheck:
			// Status 9, "förnyad täckning" (§8.2.3): not withdrawn yet for
			// lack of funds; Bankgirot tries again.
			c.State, c.AtBank, c.Date = store.PaymentScheduled, true, formatsDate(p.Date)
			c.Reason = fmt.Sprintf("not withdrawn on %s for lack of funds; Bankgirot tries again (status 9: %s), %s", p.Date, p.Status.Meaning().Sv, src)
			a.sum.retried++
		default:
			c.State, c.AtBank, c.Date = store.PaymentFailed, true, formatsDate(p.Date)
			c.Reason = fmt.Sprintf("%s of %s not made (status %s: %s), %s", what, p.Date, p.Status, p.Status.Meaning().Sv, src)
			a.sum.stopped++
		}
		return true
	})
}

// refund applies a TK77 (§8.2.2, refund codes §8.2.3): the payer's bank
// took a withdrawal back.
func (a *bankApply) refund(x *ag.Refund, src string) error {
	docID, ok, err := a.withdrawal(x.PayerNumber, x.Reference)
	if err != nil || !ok {
		return err
	}
	return a.update(docID, func(doc *store.Doc, c *store.Collection) bool {
		c.State = store.PaymentRefunded
		addReceived(c, fmt.Sprintf("autogiro 77 %s %s", x.Date, x.RefundDate), -x.Amount, x.RefundDate, src)
		c.Reason = fmt.Sprintf("the payer's bank took back %s withdrawn on %s, on %s (refund code %s: %s), %s", x.Amount, x.Date, x.RefundDate, x.Reason, x.Reason.Meaning().Sv, src)
		a.sum.refunded++
		return true
	})
}

// amendment applies a cancellation (TK03, TK11, TK21–TK25) or date change
// (TK26–TK29) Bankgirot reports (§8.5.2, codes §8.5.3) to every scheduled
// withdrawal it covers: by payer number (all of the bankgiro's when the
// record names none), payment date, payment type, and for a single payment
// its amount and reference. Only comments 12, 14 and 18 say it was carried
// out.
func (a *bankApply) amendment(x *ag.Amendment, src string) error {
	if !x.Comment.Done() {
		a.sum.notDone++
		return nil
	}
	single := slices.Contains([]string{"03", "11", "25", "29"}, x.TK)
	var ids []string
	err := a.tx.ForEachCollectionRef(a.tenant, route.PayerKey(x.PayerNumber), func(_, ref, docID string) error {
		if x.Reference == "" || ref == route.RefKey(x.Reference) {
			ids = append(ids, docID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	matched := 0
	for _, id := range ids {
		err := a.update(id, func(doc *store.Doc, c *store.Collection) bool {
			switch {
			case c.Method != route.AutoGiro || c.State != store.PaymentScheduled || !c.AtBank:
				return false
			case x.PaymentType != "" && (x.PaymentType == ag.Deposit) != (doc.Kind == formats.KindCreditNote):
				return false
			case single && x.Amount != 0 && x.Amount != absAmount(doc.Amount):
				return false
			case !x.Date.IsZero() && !onDate(doc, c, x.Date):
				return false
			}
			matched++
			what := fmt.Sprintf("TK%s %s, comment %s: %s", x.TK, x.Meaning().Sv, x.Comment, x.Comment.Meaning().Sv)
			if x.Cancels() {
				c.State, c.Reason = store.PaymentCancelled, fmt.Sprintf("cancelled at Bankgirot (%s), %s", what, src)
				a.sum.cancelledPayments++
				return true
			}
			c.Date = formatsDate(x.NewDate)
			c.Reason = fmt.Sprintf("at Bankgirot, moved to payment date %s (%s), %s", x.NewDate, what, src)
			a.sum.moved++
			return true
		})
		if err != nil {
			return err
		}
	}
	if matched == 0 {
		a.sum.unmatched++
	}
	return nil
}

// onDate reports whether a scheduled withdrawal falls on d: the date
// Bankgirot last reported for it, else its due date; one sent GENAST (the
// due date had passed) falls on the first bank day after its file.
func onDate(doc *store.Doc, c *store.Collection, d ag.Date) bool {
	on := formatsDate(d)
	switch {
	case !c.Date.IsZero():
		return c.Date == on
	case !doc.DueDate.IsZero() && formats.DateOf(c.At).Before(doc.DueDate):
		return doc.DueDate == on
	}
	return !on.Before(formats.DateOf(c.At))
}

// bgMax applies a Bg Max section (§10): each payment's reference names the
// invoice; its amount makes the invoice paid or partly paid. Bg Max
// carries no payer number, which is why references are indexed alone.
func (a *bankApply) bgMax(s ag.Section) error {
	var deposit *ag.Settlement
	if n := len(s.Records); n > 0 {
		deposit, _ = s.Records[n-1].(*ag.Settlement)
	}
	if deposit == nil {
		return fmt.Errorf("line %d: a Bg Max section without its deposit record TK15", s.LineNo)
	}
	for i, r := range s.Records {
		p, ok := r.(*ag.BgMaxPayment)
		if !ok {
			continue
		}
		src := a.at(p.LineNo)
		key := route.PaymentRefKey(p.Reference)
		docID, err := a.tx.PaymentRef(a.tenant, key)
		if key == "" || errors.Is(err, store.ErrNotFound) {
			a.sum.unmatched++
			continue
		}
		if err != nil {
			return err
		}
		err = a.update(docID, func(doc *store.Doc, c *store.Collection) bool {
			if !addReceived(c, fmt.Sprintf("bgmax %s %05d %d", deposit.Date, deposit.Serial, i), p.Amount, deposit.Date, src) {
				return false // this report was applied before
			}
			from := ""
			if p.PayerBankgiro != "" {
				from = " from bankgiro " + p.PayerBankgiro
			}
			due := doc.Amount
			switch {
			case c.Method == route.AutoGiro && c.State == store.PaymentScheduled:
				// AutoGiro's Bg Max reports only withdrawals made (§10).
				c.State, c.AtBank = store.PaymentCollected, true
				a.sum.collected++
			case c.Paid >= due:
				c.State = store.PaymentPaid
				a.sum.paid++
			default:
				c.State = store.PaymentPartlyPaid
				a.sum.partlyPaid++
			}
			c.Reason = fmt.Sprintf("%s of %s paid%s on %s (Bg Max, deposit %d), %s", c.Paid, due, from, deposit.Date, deposit.Serial, src)
			if c.Paid > due {
				c.Reason += fmt.Sprintf("; %s more than due", c.Paid-due)
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// withdrawal finds the document of an AutoGiro payment Bankgirot names by
// payer number and reference; ok is false (and counted) when no invoice
// sent through this gateway has them.
func (a *bankApply) withdrawal(payer, ref string) (docID string, ok bool, err error) {
	docID, err = a.tx.CollectionRef(a.tenant, route.PayerKey(payer), route.RefKey(ref))
	if errors.Is(err, store.ErrNotFound) {
		a.sum.unmatched++
		return "", false, nil
	}
	return docID, err == nil, err
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

// dropQueued drops the payer's withdrawals that still wait for the next
// payment file: the mandate they need is gone. A withdrawal already in a
// payment file is Bankgirot's to cancel (TK03 in its report of
// cancellations, §8.5.3).
func (a *bankApply) dropQueued(payer, why, src string) error {
	var ids []string
	if err := a.tx.ForEachCollectionRef(a.tenant, payer, func(_, _, docID string) error {
		ids = append(ids, docID)
		return nil
	}); err != nil {
		return err
	}
	for _, id := range ids {
		dl, err := a.tx.Delivery(store.DeliveryID(id, route.AutoGiro))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if dl.State != store.DeliveryQueued {
			continue
		}
		dropped := false
		err = a.update(id, func(doc *store.Doc, c *store.Collection) bool {
			if c.Method != route.AutoGiro || c.State != store.PaymentScheduled || c.AtBank {
				return false
			}
			c.State, c.Reason = store.PaymentCancelled, fmt.Sprintf("withdrawal dropped before it went to Bankgirot: %s, %s", why, src)
			dropped = true
			return true
		})
		if err != nil || !dropped {
			return err
		}
		dl.State, dl.LastError, dl.Updated = store.DeliveryFailed, "dropped: "+why+", "+src, a.now
		if err := a.tx.PutDelivery(dl); err != nil {
			return err
		}
		a.sum.dropped++
	}
	return nil
}

// addReceived adds a reported payment to the collection unless the same
// report named it before; it reports whether it did.
func addReceived(c *store.Collection, key string, amount formats.Amount, d ag.Date, src string) bool {
	for _, r := range c.Payments {
		if r.Key == key {
			return false
		}
	}
	c.Payments = append(c.Payments, store.Received{Key: key, Amount: amount, Date: formatsDate(d), Source: src})
	c.Paid += amount
	return true
}

func formatsDate(d ag.Date) formats.Date {
	if !d.Valid() {
		return formats.Date{}
	}
	return formats.DateOf(d.Time())
}

func absAmount(a formats.Amount) formats.Amount {
	if a < 0 {
		return -a
	}
	return a
}
