package efaktura

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	ef "github.com/multikanal/multikanal/formats/efaktura"
	"github.com/multikanal/multikanal/outbound"
)

func doc(number string) *formats.Document {
	a := func(s string) formats.Amount { return formats.MustAmount(s) }
	return &formats.Document{
		Kind: formats.KindInvoice, Number: number, Currency: "SEK",
		IssueDate: formats.Date{Year: 2024, Month: 4, Day: 2}, DueDate: formats.Date{Year: 2024, Month: 4, Day: 30},
		Seller:       formats.Party{Name: "Kraftbolaget i Norr AB"},
		Buyer:        formats.Party{Name: "Anna Andersson"},
		PaymentMeans: []formats.PaymentMeans{{Code: "30", PaymentID: "202400011237", Account: "5050-1055", AccountScheme: formats.AccountBankgiro}},
		VAT:          []formats.VATBreakdown{{Category: "S", Rate: "25", TaxableAmount: a("80"), TaxAmount: a("20")}},
		Totals:       formats.Totals{LineExtension: a("80"), TaxExclusive: a("80"), TaxInclusive: a("100"), Payable: a("100")},
		Lines:        []formats.Line{{ID: "1", Quantity: "1", NetAmount: a("80"), Item: formats.LineItem{Name: "El", VATCategory: "S", VATRate: "25"}, Price: formats.Price{Amount: "80"}}},
	}
}

func batch() outbound.Batch {
	return outbound.Batch{
		Key:     "efaktura-acme-20240410-0600",
		Created: time.Date(2024, 4, 10, 6, 0, 0, 0, time.UTC),
		Biller:  outbound.Biller{ID: "acme", Name: "Kraftbolaget i Norr AB", Orgnr: "556677-8899", Bankgiro: "5050-1055"},
		Items: []outbound.BatchItem{
			{Key: "d1", To: "198112189876", Doc: doc("1")},
			{Key: "d2", To: "10053", Doc: doc("2")},
		},
	}
}

func TestRenderBatch(t *testing.T) {
	c := New()
	var _ outbound.BatchRenderer = c
	m, err := c.RenderBatch(batch())
	if err != nil {
		t.Fatal(err)
	}
	if m.Key != "efaktura-acme-20240410-0600" || m.Name != m.Key+".xml" || m.ContentType != "application/xml" || m.To != "" {
		t.Errorf("message = %q %q %q %q", m.Key, m.Name, m.ContentType, m.To)
	}
	// The channel adds nothing of its own: the body is the format's file.
	var want bytes.Buffer
	if err := ef.WriteBatch(&want, ef.Batch{ID: m.Key, Created: batch().Created,
		Biller: ef.Biller{Name: "Kraftbolaget i Norr AB", Orgnr: "556677-8899", Bankgiro: "5050-1055"},
		Items:  []ef.Item{{Recipient: "198112189876", Doc: doc("1")}, {Recipient: "10053", Doc: doc("2")}}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Body, want.Bytes()) {
		t.Errorf("body differs from formats/efaktura.WriteBatch")
	}
	again, _ := c.RenderBatch(batch())
	if !bytes.Equal(m.Body, again.Body) {
		t.Errorf("a retried batch rendered different bytes")
	}
}

func TestRenderBatchErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*outbound.Batch)
		want   []string
	}{
		{"no bankgiro", func(b *outbound.Batch) { b.Biller.Bankgiro = "" }, []string{"tenant acme has no bankgiro"}},
		{"bad invoice", func(b *outbound.Batch) { b.Items[1].Doc.DueDate = formats.Date{} },
			[]string{"batch efaktura-acme-20240410-0600", "delivery d2", "invoice 2", string(ef.RuleDate)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := batch()
			tt.change(&b)
			_, err := New().RenderBatch(b)
			if err == nil || outbound.ClassOf(err) != outbound.ClassPermanent {
				t.Fatalf("RenderBatch = %v, want a permanent error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if tt.name == "bad invoice" && !errors.Is(err, ef.ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
		})
	}
}
