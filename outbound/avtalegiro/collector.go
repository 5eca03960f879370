package avtalegiro

import (
	"errors"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// What routing asks the channel about each invoice (outbound.Collector).

// Terms are AvtaleGiro's: Norwegian kroner, payers known by the KID of
// their mandate, one claim file per cut-off.
func (*Channel) Terms() outbound.CollectionTerms {
	return outbound.CollectionTerms{Title: "AvtaleGiro", Currency: Currency, Payer: "KID", File: "claim file"}
}

// Payer is the KID the invoice names: its payment mandate reference
// (BT-89) when it carries one, else its payment reference (BT-83), which
// on a Norwegian invoice is the KID the payer pays with and the claim
// carries. Routing looks it up among the registry's AvtaleGiro mandates.
func (*Channel) Payer(doc *formats.Document) string {
	if m := doc.MandateReference(); m != "" {
		return m
	}
	return doc.PaymentReference()
}

// Refunds is false: AvtaleGiro only withdraws, a credit note is paid back
// by transfer.
func (*Channel) Refunds(string) bool { return false }

// CheckOrder is CheckOrder under the tenant's agreement.
func (c *Channel) CheckOrder(doc *formats.Document, kid, tenant string, now time.Time) error {
	a, ok := c.agreements[tenant]
	if !ok {
		return errors.New("the tenant has no AvtaleGiro agreement configured ([tenant.avtalegiro])")
	}
	return CheckOrder(doc, kid, a, now)
}

// Words are how every channel says the amount is withdrawn, in Norwegian:
// "Trekkes via AvtaleGiro 31.03.2026" (WithdrawalText).
func (*Channel) Words(doc *formats.Document, _ time.Time) formats.DebitWords {
	return formats.DebitWords{Text: WithdrawalText(doc.DueDate), Label: "Trekkes via AvtaleGiro", Payer: "KID", When: norwegianDate(doc.DueDate), On: doc.DueDate}
}

// Reference is Reference: the end of the invoice number, the claim's
// external reference.
func (*Channel) Reference(doc *formats.Document) string { return Reference(doc) }

var _ outbound.Collector = (*Channel)(nil)
