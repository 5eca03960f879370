package finvoice

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	fv "github.com/multikanal/multikanal/formats/finvoice"
	"github.com/multikanal/multikanal/outbound"
)

func doc(number string) *formats.Document {
	a := formats.MustAmount
	tax := a("24")
	return &formats.Document{
		Kind: formats.KindInvoice, Number: number, Currency: "EUR",
		IssueDate: formats.Date{Year: 2024, Month: 4, Day: 2}, DueDate: formats.Date{Year: 2024, Month: 4, Day: 30},
		Seller: formats.Party{Name: "Saimaan Sähkö Oy", LegalID: formats.Identifier{Scheme: "0212", Value: "0199920-7"}},
		Buyer:  formats.Party{Name: "Matti Meikäläinen", CustomerNumber: "10053"},
		PaymentMeans: []formats.PaymentMeans{{Code: "58", PaymentID: "1234561", Account: "FI4819503000000010", AccountScheme: formats.AccountIBAN,
			ServiceID: "NDEAFIHH"}},
		VAT:    []formats.VATBreakdown{{Category: "S", Rate: "24", TaxableAmount: a("100"), TaxAmount: a("24")}},
		Totals: formats.Totals{LineExtension: a("100"), TaxExclusive: a("100"), TaxTotal: &tax, TaxInclusive: a("124"), Payable: a("124")},
		Lines: []formats.Line{{ID: "1", Quantity: "1", NetAmount: a("100"), Item: formats.LineItem{Name: "Sähkö", VATCategory: "S", VATRate: "24"},
			Price: formats.Price{Amount: "100"}}},
	}
}

// registry answers from a map of customer number to address.
type registry map[string]string

func (r registry) Lookup(d *formats.Document, channel string) (string, string, bool) {
	if channel != Name {
		return "", "", false
	}
	a, ok := r[d.Buyer.CustomerNumber]
	return a, "recipients.csv (valid from 2024-03-01)", ok
}

func channel(t *testing.T) *Channel {
	t.Helper()
	c, err := New(Settings{Intermediator: "OKOYFIHH"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDescription(t *testing.T) {
	c := channel(t)
	var _ outbound.BatchRenderer = c
	d := Descriptor
	if c.Name() != Name || d.Name != Name || d.Batch == nil || len(d.Transports) != 1 || d.Transports[0].Name != "sftp" {
		t.Errorf("the channel describes itself as %q (descriptor %q, batch %v, transports %v)", c.Name(), d.Name, d.Batch, d.Transports)
	}
	if d.CheckAddress("FI4819503000000010@NDEAFIHH") != nil || d.CheckAddress("no-intermediator") == nil {
		t.Errorf("the descriptor's address check does not take ADDRESS@INTERMEDIATOR alone")
	}
	ch, err := d.New(outbound.Env{Settings: outbound.Settings{"intermediator": "OKOYFIHH"}})
	if err != nil || ch.Name() != Name {
		t.Errorf("the descriptor builds %v, %v", ch, err)
	}
}

func TestNew(t *testing.T) {
	for _, inter := range []string{"", "X", "OKOY1IHH"} {
		if _, err := New(Settings{Intermediator: inter}); err == nil || !strings.Contains(err.Error(), "intermediator") {
			t.Errorf("New(%q) = %v, want an error about the intermediator", inter, err)
		}
	}
}

func TestEligible(t *testing.T) {
	reg := registry{"10053": "FI2112345600000785@NDEAFIHH", "10054": "FI2112345600000785"}
	tests := []struct {
		name   string
		change func(d *formats.Document)
		ok     bool
		says   []string
	}{
		{"registered consumer", func(*formats.Document) {}, true, []string{"registered by recipients.csv"}},
		{"not registered", func(d *formats.Document) { d.Buyer.CustomerNumber = "99" }, false, []string{"no Finvoice registration"}},
		{"OVT endpoint but no registration", func(d *formats.Document) {
			d.Buyer.CustomerNumber = "99"
			d.Buyer.Endpoint = formats.Identifier{Scheme: "0037", Value: "003713669598"}
		}, false, []string{"0037:003713669598", "intermediator", "003713669598@INTERMEDIATOR"}},
		{"registration without intermediator", func(d *formats.Document) { d.Buyer.CustomerNumber = "10054" }, false,
			[]string{"registered by", "ADDRESS@INTERMEDIATOR"}},
		{"collected by AutoGiro", func(d *formats.Document) {
			d.Payment = &formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "10053"}
		}, false, []string{"FI2112345600000785@NDEAFIHH", string(fv.RulePayment), "direct debit (autogiro"}},
		{"a Swedish OCR reference", func(d *formats.Document) { d.PaymentMeans[0].PaymentID = "12345674" }, false,
			[]string{string(fv.RuleReference)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := doc("1")
			tt.change(d)
			e := channel(t).Eligible(d, reg)
			if e.OK != tt.ok {
				t.Fatalf("Eligible = %+v, want OK=%v", e, tt.ok)
			}
			if tt.ok && e.Address != "FI2112345600000785@NDEAFIHH" {
				t.Errorf("address %q", e.Address)
			}
			for _, s := range tt.says {
				if !strings.Contains(e.Reason, s) {
					t.Errorf("reason %q does not say %q", e.Reason, s)
				}
			}
		})
	}
}

func batch() outbound.Batch {
	return outbound.Batch{
		Key:     "finvoice-acme-20240410-0600",
		Created: time.Date(2024, 4, 10, 6, 0, 0, 0, time.UTC),
		Biller:  outbound.Biller{ID: "acme", Name: "Saimaan Sähkö Oy"},
		Items: []outbound.BatchItem{
			{Key: "d1", To: "FI2112345600000785@NDEAFIHH", Doc: doc("1")},
			{Key: "d2", To: "003713669598@003721291126", Doc: doc("2")},
		},
	}
}

func TestRenderBatch(t *testing.T) {
	c := channel(t)
	m, err := c.RenderBatch(batch())
	if err != nil {
		t.Fatal(err)
	}
	if m.Key != "finvoice-acme-20240410-0600" || m.Name != m.Key+".xml" || m.ContentType != "application/xml" || m.To != "" {
		t.Errorf("message = %q %q %q %q", m.Key, m.Name, m.ContentType, m.To)
	}
	// The channel adds nothing of its own: the body is the format's file,
	// with the delivery keys as message ids and the configured intermediator.
	var want bytes.Buffer
	if err := fv.WriteBatch(&want, fv.Batch{Created: batch().Created, Intermediator: "OKOYFIHH", Items: []fv.Item{
		{ID: "d1", To: fv.Address{ID: "FI2112345600000785", Intermediator: "NDEAFIHH"}, Doc: doc("1")},
		{ID: "d2", To: fv.Address{ID: "003713669598", Intermediator: "003721291126"}, Doc: doc("2")}}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Body, want.Bytes()) {
		t.Errorf("body differs from formats/finvoice.WriteBatch")
	}
	again, _ := c.RenderBatch(batch())
	if !bytes.Equal(m.Body, again.Body) {
		t.Errorf("a retried batch rendered different bytes")
	}
	msgs, err := fv.Read(bytes.NewReader(m.Body))
	if err != nil || len(msgs) != 2 || msgs[1].ID != "d2" || msgs[1].To.ID != "003713669598" || msgs[0].From.Intermediator != "OKOYFIHH" {
		t.Errorf("the file reads back as %+v, %v", msgs, err)
	}
}

func TestRenderBatchErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*outbound.Batch)
		want   []string
	}{
		{"address no longer parses", func(b *outbound.Batch) { b.Items[1].To = "003713669598" }, []string{"batch finvoice-acme-20240410-0600", "delivery d2", "ADDRESS@INTERMEDIATOR"}},
		{"bad invoice", func(b *outbound.Batch) { b.Items[1].Doc.Currency = "SEK" },
			[]string{"batch finvoice-acme-20240410-0600", "delivery d2", "invoice 2", string(fv.RuleCurrency)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := batch()
			tt.change(&b)
			_, err := channel(t).RenderBatch(b)
			if err == nil || outbound.ClassOf(err) != outbound.ClassPermanent {
				t.Fatalf("RenderBatch = %v, want a permanent error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if tt.name == "bad invoice" && !errors.Is(err, fv.ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
		})
	}
}
