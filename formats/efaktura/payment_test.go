package efaktura

import (
	"bytes"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// The e-invoice says what the payment decision says. Withdrawn by AutoGiro:
// no payment means (nothing the internet bank could offer for payment) and
// the withdrawal in the note and the payment terms, still valid against
// Svefaktura 1.0's content models. Not collected: the bankgiro and OCR, and
// never a word of AutoGiro, even when the invoice names a payer number.
func TestPaymentFollowsTheDecision(t *testing.T) {
	withPayer := func(p *formats.Payment) *formats.Document {
		d := electricity()
		d.PaymentMeans = append([]formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "4711", PaymentID: "202400011237"}}, d.PaymentMeans...)
		d.Payment = p
		return d
	}
	cases := []struct {
		name     string
		doc      *formats.Document
		want     []string
		mustNot  []string
		mustNotI []string
	}{
		{
			name: "collected by AutoGiro",
			doc:  withPayer(&formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "4711", Date: date(2024, 4, 30), Reference: "202400011237"}),
			want: []string{
				"<cbc:Note>Dras via autogiro 2024-04-30 från ditt konto. Betala inte den här fakturan.&#xA;Tack för att du är kund hos oss!</cbc:Note>",
				"<cac:PaymentTerms>\n\t\t\t\t<cbc:Note>Dras via autogiro 2024-04-30 från ditt konto. Betala inte den här fakturan. 30 dagar netto</cbc:Note>",
			},
			mustNot: []string{"PaymentMeans", "PayeeFinancialAccount", "PaymentInstructionID", "50501055"},
		},
		{
			name:     "a payer number, not collected",
			doc:      withPayer(&formats.Payment{Method: formats.PayTransfer, Bankgiro: "5050-1055", Reference: "202400011237"}),
			want:     []string{"<cac:ID>50501055</cac:ID>", "<cac:PaymentInstructionID>202400011237</cac:PaymentInstructionID>", "<cbc:Note>30 dagar netto</cbc:Note>"},
			mustNotI: []string{"autogiro"},
		},
		{
			name:     "a payer number, no decision",
			doc:      withPayer(nil),
			want:     []string{"<cac:ID>50501055</cac:ID>", "<cac:PaymentInstructionID>202400011237</cac:PaymentInstructionID>"},
			mustNotI: []string{"autogiro"},
		},
		{
			name: "the tenant's plusgiro, the invoice naming none",
			doc: func() *formats.Document {
				d := electricity()
				d.PaymentMeans = []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, PaymentID: "202400011237"}}
				d.Payment = &formats.Payment{Method: formats.PayTransfer, Plusgiro: "441097", Reference: "202400011237"}
				return d
			}(),
			want: []string{"<cac:ID>441097</cac:ID>", "<cac:ID>" + institutionPG + "</cac:ID>"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := Batch{ID: "B1", Created: testBatch().Created, Biller: testBatch().Biller, Items: []Item{{Recipient: "198112189876", Doc: c.doc}}}
			if err := CheckItem(b.Items[0]); err != nil {
				t.Fatalf("CheckItem: %v", err)
			}
			out := write(t, b)
			inv := out[bytes.Index(out, []byte("<Invoice ")):]
			for _, w := range c.want {
				if !bytes.Contains(inv, []byte(w)) {
					t.Errorf("the invoice lacks %q:\n%s", w, inv)
				}
			}
			for _, w := range c.mustNot {
				if bytes.Contains(inv, []byte(w)) {
					t.Errorf("the invoice has %q:\n%s", w, inv)
				}
			}
			for _, w := range c.mustNotI {
				if strings.Contains(strings.ToLower(string(out)), w) {
					t.Errorf("the file mentions %q:\n%s", w, out)
				}
			}
			root := parseTree(t, out)
			for _, p := range validate(root.kids[1].kids[1], "") {
				t.Errorf("Svefaktura 1.0: %s", p)
			}
		})
	}
	// Without a decision for AutoGiro, an invoice with no account to pay to
	// is still refused: a payer number alone is no way to pay.
	d := electricity()
	d.PaymentMeans = []formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "4711"}}
	if err := CheckItem(Item{Recipient: "198112189876", Doc: d}); err == nil || !strings.Contains(err.Error(), "no bankgiro or plusgiro") {
		t.Errorf("a payer number without a collection decision and without an account: %v", err)
	}
}
