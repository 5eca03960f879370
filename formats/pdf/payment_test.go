package pdf

import (
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// The payment box shows the payment decision and nothing else: a document
// collected by AutoGiro says when it is withdrawn and offers no account,
// OCR number or Swish code to pay with; a document not collected never
// mentions AutoGiro, even when the invoice names a payer number.
func TestPaymentBoxFollowsTheDecision(t *testing.T) {
	plainR, swishR := renderers(t)
	ref := swedishInvoice(1).PaymentReference()
	withPayer := func() *formats.Document {
		d := swedishInvoice(3)
		d.PaymentMeans = append([]formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "101", PaymentID: d.PaymentReference()}}, d.PaymentMeans...)
		return d
	}
	cases := []struct {
		name     string
		r        *Renderer
		payment  *formats.Payment
		want     []string
		mustNot  []string
		mustNotI []string // case-insensitive
	}{
		{
			name:    "collected by AutoGiro",
			r:       swishR,
			payment: &formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "101", Date: formats.Date{Year: 2026, Month: 4, Day: 1}, Reference: ref},
			want:    []string{"Dras via autogiro 2026-04-01", "Betalarnummer", "101", "betala inte själv"},
			mustNot: []string{"OCR-nummer", "Bankgiro", "991-2346", "Betala med Swish", "123 456 78 90", "Förfallodatum 2026-04-01\nAtt betala"},
		},
		{
			name:    "AutoGiro at once (GENAST)",
			r:       plainR,
			payment: &formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "101"},
			want:    []string{"Dras via autogiro närmaste bankdag"},
			mustNot: []string{"OCR-nummer", "991-2346"},
		},
		{
			name:     "payer number but no mandate: a transfer, no word of AutoGiro",
			r:        swishR,
			payment:  &formats.Payment{Method: formats.PayTransfer, Bankgiro: "9912346", Reference: ref, Date: formats.Date{Year: 2026, Month: 4, Day: 1}},
			want:     []string{"Bankgiro", "991-2346", "OCR-nummer", ref, "Betala med Swish"},
			mustNotI: []string{"autogiro"},
		},
		{
			name:     "no decision (renderer on its own): the invoice's account, never AutoGiro",
			r:        plainR,
			want:     []string{"991-2346", "OCR-nummer"},
			mustNotI: []string{"autogiro"},
		},
		{
			name:    "the decision's Swish number",
			r:       plainR,
			payment: &formats.Payment{Method: formats.PayTransfer, Bankgiro: "9912346", Reference: ref, Swish: "123 987 65 43"},
			want:    []string{"Betala med Swish", "123 987 65 43", "991-2346"},
		},
		{
			name:    "the tenant's bankgiro when the invoice names none",
			r:       plainR,
			payment: &formats.Payment{Method: formats.PayTransfer, Plusgiro: "4410097", Reference: ref},
			want:    []string{"Plusgiro", "441009-7"},
			mustNot: []string{"991-2346"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := withPayer()
			d.Payment = c.payment
			text := pdftotext(t, render(t, c.r, d))
			wantText(t, text, c.want...)
			for _, w := range c.mustNot {
				if strings.Contains(text, plain(w)) {
					t.Errorf("the PDF shows %q:\n%s", w, text)
				}
			}
			for _, w := range c.mustNotI {
				if strings.Contains(strings.ToLower(text), w) {
					t.Errorf("the PDF mentions %q:\n%s", w, text)
				}
			}
		})
	}
}
