package route

import (
	"errors"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// markCredited records on the invoice a routed credit note credits (BT-25,
// found by its number) that it is credited: its life state becomes
// credited, an event says by which credit note, and no reminder goes out
// for it any more. A credit note for part of the invoice stops reminders
// too: what is left is the biller's to claim, not the gateway's to guess.
func markCredited(tx Tx, doc *store.Doc, body *formats.Document, now time.Time) error {
	if body.Kind != formats.KindCreditNote || len(body.Preceding) == 0 {
		return nil
	}
	id, err := tx.NumberRef(doc.Tenant, body.Preceding[0].Number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	inv, err := tx.Doc(id)
	if err != nil || inv.CreditedBy != "" || inv.Kind != formats.KindInvoice {
		return err
	}
	inv.CreditedBy, inv.Updated = doc.ID, now
	why := fmt.Sprintf("%scredit note %s (%s) of %s %s credits it", store.ReasonCredited, body.Number, doc.ID, body.Totals.Payable, body.Currency)
	if err := tx.AppendEvent(inv, store.Event{At: now, State: inv.State, Reason: why}); err != nil {
		return err
	}
	return tx.PutDoc(inv)
}

// fromTenant makes the tenant the sender of a letter, statement, contract
// or notice that names none: the ERP's index names the recipient, and the
// tenant sends in its own name (its seller, MK-SELLER).
func fromTenant(t config.Tenant, body *formats.Document) {
	if !body.Kind.Correspondence() || body.Seller.Name != "" {
		return
	}
	body.Seller = formats.Party{Name: t.Name, LegalID: formats.Identifier{Scheme: "0007", Value: t.SellerOrgnr}, VATID: t.VATID}
	if d := t.Design; d != nil {
		body.Seller.Contact = formats.Contact{Phone: d.Phone, Email: d.Email}
	}
}

// RuleRemind: a reminder in the input is about an invoice that must not
// be reminded (paid, collected by direct debit, credited, disputed, with
// debt collection).
const RuleRemind = "MK-REMIND"

// remindedInvoice finds the invoice a reminder from the input is about
// (by its number, Reminder.Invoice) and refuses the reminder with a
// formats.Problem (RuleRemind) when that invoice may not be reminded. A
// reminder of an invoice the gateway never sent goes out as the ERP says;
// one the dunning part made (doc.Reminds set) was checked already.
func remindedInvoice(tx Tx, doc *store.Doc, body *formats.Document) (*store.Doc, error) {
	if body.Kind != formats.KindReminder || body.Reminder == nil || doc.Reminds != "" {
		return nil, nil
	}
	id, err := tx.NumberRef(doc.Tenant, body.Reminder.Invoice)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	inv, err := tx.Doc(id)
	if err != nil {
		return nil, err
	}
	if why := inv.Remindable(); why != "" && inv.State == store.DocDelivered {
		return nil, formats.Problem{Rule: RuleRemind, Severity: formats.SeverityError, Message: fmt.Sprintf(
			"%s: not sent: invoice %s (%s) may not be reminded: %s", body.Label(), body.Reminder.Invoice, inv.ID, why)}
	}
	return inv, nil
}

// linkReminder records on the invoice that the ERP's reminder was sent.
func linkReminder(tx Tx, inv, doc *store.Doc, body *formats.Document, dl *store.Delivery, now time.Time) error {
	if inv == nil || dl == nil {
		return nil
	}
	doc.Reminds = inv.ID
	if inv.Dunning == nil {
		inv.Dunning = &store.Dunning{}
	}
	r := body.Reminder
	inv.Dunning.Reminders = append(inv.Dunning.Reminders, store.SentReminder{Doc: doc.ID, Number: body.Number, At: now, Due: body.DueDate,
		Fee: r.Fee, Interest: r.Interest, Source: "input file " + doc.FileID})
	inv.Updated = now
	why := fmt.Sprintf("%sthe ERP's reminder %s (%s), by %s: %s %s to pay by %s", store.ReasonReminded, body.Number, doc.ID, dl.Channel,
		body.Totals.Payable, body.Currency, body.DueDate)
	if err := tx.AppendEvent(inv, store.Event{At: now, State: inv.State, Channel: dl.Channel, Reason: why}); err != nil {
		return err
	}
	return tx.PutDoc(inv)
}
