package autogiro

import (
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// What routing asks the channel about each invoice (outbound.Collector).

// Currency is the only currency AutoGiro withdraws: Swedish kronor.
const Currency = "SEK"

// Terms are AutoGiro's: Swedish kronor, payers known by their payer
// number, one payment file per cut-off.
func (*Channel) Terms() outbound.CollectionTerms {
	return outbound.CollectionTerms{Title: "AutoGiro", Currency: Currency, Payer: "payer number", File: "payment file"}
}

// Payer is the payer number the invoice names: its payment mandate
// reference (BT-89), the CSV's autogiro_payer_number.
func (*Channel) Payer(doc *formats.Document) string { return doc.MandateReference() }

// Refunds reports whether the tenant's agreement pays credit notes back
// as deposits (refund_credit_notes).
func (c *Channel) Refunds(tenant string) bool {
	a, ok := c.agreements[tenant]
	return ok && a.RefundCreditNotes
}

// CheckOrder is CheckOrder for the channel: the order does not depend on
// the tenant's agreement beyond what the file's opening record holds.
func (*Channel) CheckOrder(doc *formats.Document, payer, _ string, now time.Time) error {
	return CheckOrder(doc, payer, now)
}

// Words are how every channel says the amount is withdrawn, in Swedish:
// "Dras via autogiro 2026-03-31", or "Dras via autogiro närmaste bankdag"
// when the due date is not after today and the order goes GENAST.
func (*Channel) Words(doc *formats.Document, now time.Time) formats.DebitWords {
	when, on := "närmaste bankdag", formats.Date{}
	if formats.DateOf(now.In(stockholm)).Before(doc.DueDate) {
		when, on = doc.DueDate.String(), doc.DueDate
	}
	return formats.DebitWords{Text: "Dras via autogiro " + when, Label: "Dras via autogiro", Payer: "Betalarnummer", When: when, On: on}
}

// Reference is Reference: the OCR number, or the end of the invoice
// number.
func (*Channel) Reference(doc *formats.Document) string { return Reference(doc) }

var _ outbound.Collector = (*Channel)(nil)
