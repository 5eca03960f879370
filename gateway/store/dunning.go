package store

import (
	"time"

	"github.com/multikanal/multikanal/formats"
)

// DunningTx is the aggregate of dunning: the index of the invoices a
// reminder may be due for, by the date their last step fell due (the
// invoice's due date, then each reminder's). A backend keeps it in PutDoc
// from DunningDate, so an invoice paid, credited, disputed, collected by
// direct debit or handed to debt collection leaves it by itself.
type DunningTx interface {
	// ForEachDunning calls fn for the tenant's invoices whose last step
	// fell due on or before until, oldest first.
	ForEachDunning(tenant string, until formats.Date, fn func(docID string, due formats.Date) error) error
	// DunningRun is the last day the tenant's reminders were made (zero
	// when never); SetDunningRun records a day's.
	DunningRun(tenant string) (formats.Date, error)
	SetDunningRun(tenant string, day formats.Date) error
}

// Dunning is what the gateway did about an invoice not paid on time: the
// reminders sent, and when it was handed to debt collection.
type Dunning struct {
	Reminders []SentReminder `json:"reminders,omitempty"`
	// Agency is when the invoice was handed to debt collection (inkasso):
	// its life state is then collection_agency, and no reminder follows.
	Agency time.Time `json:"agency,omitzero"`
	// Exported is when an inkasso export first listed it.
	Exported time.Time `json:"exported,omitzero"`
}

// SentReminder is one reminder about the invoice: its own document, its
// number, when it was made, by when it asks to be paid, and what it added.
type SentReminder struct {
	Doc      string         `json:"doc"`
	Number   string         `json:"number"`
	At       time.Time      `json:"at"`
	Due      formats.Date   `json:"due"`
	Fee      formats.Amount `json:"fee,omitempty"`
	Interest formats.Amount `json:"interest,omitempty"`
	// Source is "schedule" for the gateway's own, or the input file the
	// ERP sent it in.
	Source string `json:"source"`
}

// Reminded is how many reminders the invoice has had.
func (d *Doc) Reminded() int {
	if d.Dunning == nil {
		return 0
	}
	return len(d.Dunning.Reminders)
}

// Remindable says why no reminder may go out for the invoice, or "" when
// one may: it is delivered, payable, open or partly paid by the payer
// (never a direct debit that is still to collect it: one that failed or
// was cancelled leaves the invoice unpaid), and neither credited,
// disputed nor with debt collection.
func (d *Doc) Remindable() string {
	p := d.Payment()
	switch {
	case d.Kind != formats.KindInvoice:
		return "it is a " + string(d.Kind) + ", not an invoice"
	case d.State != DocDelivered:
		return "it was not delivered (" + string(d.State) + ")"
	case p == nil || d.Amount <= 0:
		return "nothing is due"
	case formats.PayMethod(p.Method).DirectDebit() && !p.Dropped():
		return "it is collected by " + p.Method
	case p.State != PaymentOpen && p.State != PaymentPartlyPaid && !p.Dropped():
		return "its payment is " + string(p.State)
	case d.CreditedBy != "":
		return "it was credited by " + d.CreditedBy
	case d.Disputed != nil:
		return "it is disputed (" + d.Disputed.Why + ")"
	case d.Dunning != nil && !d.Dunning.Agency.IsZero():
		return "it is with debt collection since " + d.Dunning.Agency.Format("2006-01-02")
	case d.DueDate.IsZero():
		return "it has no due date"
	}
	return ""
}

// DunningDate is the date the dunning index holds the document under:
// the due date of its last step (the invoice's, or its last reminder's);
// ok is false when no reminder may go out for it.
func (d *Doc) DunningDate() (formats.Date, bool) {
	// A summarised invoice's content is gone (retention.payloads), and a
	// reminder is built from it: the daemon reminds it no more, so it
	// leaves the index rather than be visited every day. The ERP may
	// still send its own reminder of it.
	if d.Remindable() != "" || !d.Summarised.IsZero() {
		return formats.Date{}, false
	}
	if n := d.Reminded(); n > 0 {
		last := d.Dunning.Reminders[n-1]
		if last.Due.IsZero() {
			// An ERP's reminder that named no due date: the next step
			// counts from the day it was sent, never from the year 1
			// (which would make the next reminder due at once).
			return formats.DateOf(last.At), true
		}
		return last.Due, true
	}
	return d.DueDate, true
}

// Life states: where an invoice stands in its life after delivery, as
// receipts, `docs show` and the status page show it (Doc.Life).
const (
	LifeOpened           = "opened"
	LifePaid             = "paid"
	LifePartlyPaid       = "partly_paid"
	LifeReminded         = "reminded"
	LifeCredited         = "credited"
	LifeCollectionAgency = "collection_agency"
	LifeDisputed         = "disputed"
)

// Life is where the document stands in its life: for a delivered
// invoice delivered → opened → paid / partly paid (by the payer, or
// collected by a direct debit) → reminded → credited or with debt
// collection (collection_agency); a dispute shows as disputed. Any other
// document's life is its state.
func (d *Doc) Life() string {
	if d.Kind != formats.KindInvoice || d.State != DocDelivered {
		return string(d.State)
	}
	p := d.Payment()
	switch {
	case d.CreditedBy != "":
		return LifeCredited
	case d.Dunning != nil && !d.Dunning.Agency.IsZero():
		return LifeCollectionAgency
	case p != nil && (p.State == PaymentPaid || p.State == PaymentCollected):
		return LifePaid
	case d.Disputed != nil:
		return LifeDisputed
	case p != nil && p.State == PaymentPartlyPaid:
		return LifePartlyPaid
	case d.Reminded() > 0:
		return LifeReminded
	case !d.Opened.IsZero():
		return LifeOpened
	}
	return string(DocDelivered)
}
