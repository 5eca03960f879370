package finvoice

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func write(t *testing.T, b Batch) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := WriteBatch(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestWriteBatchGolden pins the whole file: frames, messages, encoding.
// Run with -update after a deliberate change and read the diff.
func TestWriteBatchGolden(t *testing.T) {
	got := write(t, testBatch())
	golden := filepath.Join("testdata", "batch.golden.xml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the batch differs from %s; run go test -update and review the diff", golden)
	}
	if again := write(t, testBatch()); !bytes.Equal(got, again) {
		t.Errorf("the same batch written twice differs: a retry would not be recognised")
	}
}

// TestLatin9 checks the bytes, not the declaration: the guidelines
// (section 9.3) want ISO-8859-15, and banks check it.
func TestLatin9(t *testing.T) {
	b := testBatch()
	b.Items[0].Doc.Notes = []string{"Hinta 12 € – Čapek’s “Sähkö”"}
	got := write(t, b)
	for _, c := range []struct {
		what  string
		bytes string
		want  bool
	}{
		{"ä as one byte 0xE4", "S\xe4hk\xf6", true},
		{"ä as UTF-8", "S\xc3\xa4hk", false},
		{"€ as 0xA4", "12 \xa4 ", true},
		{"the dash, the háček and the quotes folded", "- Capek&#39;s &#34;S\xe4hk\xf6&#34;", true},
	} {
		if bytes.Contains(got, []byte(c.bytes)) != c.want {
			t.Errorf("%s: found = %v, want %v", c.what, !c.want, c.want)
		}
	}
	b.Items[0].Doc.Notes = []string{"Kiitos 🙂"}
	err := WriteBatch(&bytes.Buffer{}, b)
	if err == nil || !strings.Contains(err.Error(), string(RuleText)) || !strings.Contains(err.Error(), "InvoiceFreeText") ||
		!strings.Contains(err.Error(), "message 1") || !strings.Contains(err.Error(), "invoice 2024-1001") {
		t.Errorf("an emoji in a note: %v; want %s naming the element, the message and the invoice", err, RuleText)
	}
}

// TestCheck lists the rules a document must pass before it may join a
// Finvoice batch, each with the change that breaks it.
func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		doc    func() *formats.Document
		change func(d *formats.Document)
		rule   Rule   // "" when the document passes
		says   string // part of the message
	}{
		{"consumer invoice", consumer, func(*formats.Document) {}, "", ""},
		{"business invoice with RF", business, func(*formats.Document) {}, "", ""},
		{"credit note without a reference", credit, func(*formats.Document) {}, "", ""},
		{"seller known by its OVT endpoint only", consumer, func(d *formats.Document) {
			d.Seller.LegalID, d.Seller.VATID = formats.Identifier{}, ""
			d.Seller.Endpoint = formats.Identifier{Scheme: "0216", Value: "003701999207"}
		}, "", ""},
		{"Swedish seller with its own Finvoice address", consumer, func(d *formats.Document) {
			d.Seller.LegalID, d.Seller.VATID = formats.Identifier{Scheme: "0007", Value: "5561234567"}, "SE556123456701"
			d.Seller.Endpoint = formats.Identifier{Scheme: "0216", Value: "003712345671"}
		}, "", ""},
		{"no number", consumer, func(d *formats.Document) { d.Number = " " }, RuleNumber, "no invoice number"},
		{"number too long", consumer, func(d *formats.Document) { d.Number = strings.Repeat("1", 21) }, RuleNumber, "20 characters"},
		{"no issue date", consumer, func(d *formats.Document) { d.IssueDate = formats.Date{} }, RuleDate, "issue date"},
		{"kronor", consumer, func(d *formats.Document) { d.Currency = "SEK" }, RuleCurrency, "euro"},
		{"no lines", consumer, func(d *formats.Document) { d.Lines = nil }, RuleLines, "InvoiceRow"},
		{"seller without Finnish address", consumer, func(d *formats.Document) { d.Seller.LegalID, d.Seller.VATID = formats.Identifier{}, "" },
			RuleAddress, "no Finnish e-invoice address"},
		{"seller Y-tunnus with a wrong check digit", consumer, func(d *formats.Document) {
			d.Seller.LegalID, d.Seller.VATID = formats.Identifier{Scheme: "0212", Value: "0199920-6"}, ""
		}, RuleAddress, "no Finnish e-invoice address"},
		{"buyer without name", consumer, func(d *formats.Document) { d.Buyer.Name = "" }, RuleParty, "BuyerOrganisationName"},
		{"collected by AutoGiro", consumer, func(d *formats.Document) {
			d.Payment = &formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "10053", Reference: "1234561"}
		}, RulePayment, "direct debit (autogiro"},
		{"bankgiro only", consumer, func(d *formats.Document) {
			d.PaymentMeans = []formats.PaymentMeans{{Code: "30", PaymentID: "1234561", Account: "5050-1055", AccountScheme: formats.AccountBankgiro}}
		}, RulePayment, "no IBAN"},
		{"IBAN with a wrong check", consumer, func(d *formats.Document) { d.PaymentMeans[0].Account = "FI4919503000000010" }, RulePayment, "check digits"},
		{"BIC malformed", consumer, func(d *formats.Document) { d.PaymentMeans[0].ServiceID = "NDEA-FI" }, RulePayment, "BIC"},
		{"no reference", consumer, func(d *formats.Document) { d.PaymentMeans[0].PaymentID = "" }, RuleReference, "no payment reference"},
		{"Finnish reference with a wrong check digit", consumer, func(d *formats.Document) { d.PaymentMeans[0].PaymentID = "1234562" },
			RuleReference, "check digit is 2, expected 1"},
		{"RF reference with wrong check digits", consumer, func(d *formats.Document) { d.PaymentMeans[0].PaymentID = "RF17539007547034" },
			RuleReference, "expected 18"},
		{"Swedish OCR number", consumer, func(d *formats.Document) { d.PaymentMeans[0].PaymentID = "12345674" }, RuleReference, "Finnish reference"},
		{"no due date", consumer, func(d *formats.Document) { d.DueDate = formats.Date{} }, RuleDate, "no due date"},
		{"due before issue", consumer, func(d *formats.Document) { d.DueDate = formats.Date{Year: 2024, Month: 4, Day: 1} }, RuleDate, "before the issue date"},
		{"nothing due on an invoice", consumer, func(d *formats.Document) {
			d.Totals.Payable = 0
			d.Payment = &formats.Payment{Method: formats.PayTransfer, IBAN: "FI4819503000000010", Reference: "1234561", Date: d.DueDate}
		}, RulePayment, "positive amount"},
		{"a rate the schema cannot hold", consumer, func(d *formats.Document) { d.VAT[0].Rate = "24.1234" }, RuleText, "three decimals"},
		{"Finland's 25.5 % rate", consumer, func(d *formats.Document) {
			d.VAT[0].Rate, d.Lines[0].Item.VATRate, d.Lines[1].Item.VATRate = "25.5", "25.50", "25.5"
			d.VAT[0].TaxAmount, d.Totals.TaxTotal, d.Totals.TaxInclusive, d.Totals.Payable = amt("25.50"), amtp("25.50"), amt("125.50"), amt("125.50")
		}, "", ""},
		{"contact name too long", consumer, func(d *formats.Document) { d.Buyer.Contact.Name = strings.Repeat("x", 71) }, RuleText, "BuyerContactPersonName"},
		{"street too long for three lines", consumer, func(d *formats.Document) {
			d.Buyer.Address.Street = strings.Repeat("Pitkäkatu ", 12)
		}, RuleParty, "three 35-character lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.doc()
			tt.change(d)
			err := Check(d)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Rule != tt.rule || !strings.Contains(err.Error(), tt.says) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Check = %v, want %s saying %q", err, tt.rule, tt.says)
			}
			if e.Invoice != d.Label() {
				t.Errorf("the error names %q, not the invoice %q", e.Invoice, d.Label())
			}
		})
	}
}

// TestPaymentDecision: EpiDetails says what routing decided (HowToPay),
// not what the payment means of the input say.
func TestPaymentDecision(t *testing.T) {
	b := testBatch()
	d := b.Items[0].Doc
	d.Payment = &formats.Payment{Method: formats.PayTransfer, IBAN: "FI3329501800008512", BIC: "OKOYFIHH", Reference: "RF332348236",
		Date: formats.Date{Year: 2024, Month: 5, Day: 15}}
	b.Items = b.Items[:1]
	got := string(mustUTF8(t, write(t, b)))
	for _, want := range []string{
		`<EpiAccountID IdentificationSchemeName="IBAN">FI3329501800008512</EpiAccountID>`,
		`<EpiBfiIdentifier IdentificationSchemeName="BIC">OKOYFIHH</EpiBfiIdentifier>`,
		`<EpiRemittanceInfoIdentifier IdentificationSchemeName="ISO">RF332348236</EpiRemittanceInfoIdentifier>`,
		`<EpiDateOptionDate Format="CCYYMMDD">20240515</EpiDateOptionDate>`,
		`<SellerAccountID IdentificationSchemeName="IBAN">FI3329501800008512</SellerAccountID>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the message lacks %s", want)
		}
	}
	if strings.Contains(got, "FI4819503000000010") || strings.Contains(got, "1234561") {
		t.Errorf("the message still names the input's own account or reference, which routing replaced")
	}
}

func TestWriteBatchRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(b *Batch)
		rule   Rule
		says   string
	}{
		{"no time", func(b *Batch) { b.Created = time.Time{} }, RuleBatch, "creation time"},
		{"no items", func(b *Batch) { b.Items = nil }, RuleBatch, "no message"},
		{"no intermediator", func(b *Batch) { b.Intermediator = "" }, RuleBatch, "FromIntermediator"},
		{"a BIC typo as intermediator", func(b *Batch) { b.Intermediator = "OKOY1IHH" }, RuleBatch, "BIC"},
		{"duplicate ids", func(b *Batch) { b.Items[2].ID = b.Items[0].ID }, RuleBatch, "occurs twice"},
		{"id too long", func(b *Batch) { b.Items[1].ID = strings.Repeat("x", 49) }, RuleBatch, "2 to 48"},
		{"recipient without intermediator", func(b *Batch) { b.Items[1].To.Intermediator = "" }, RuleAddress, "intermediator"},
		{"recipient OVT with a wrong Y-tunnus", func(b *Batch) { b.Items[1].To.ID = "003713669597" }, RuleAddress, "check digit"},
		{"a bad document", func(b *Batch) { b.Items[2].Doc.Currency = "SEK" }, RuleCurrency, "message 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBatch()
			tt.change(&b)
			var out bytes.Buffer
			err := WriteBatch(&out, b)
			var e *Error
			if !errors.As(err, &e) || e.Rule != tt.rule || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("WriteBatch = %v, want %s saying %q", err, tt.rule, tt.says)
			}
			if out.Len() != 0 {
				t.Errorf("a refused batch wrote %d bytes", out.Len())
			}
		})
	}
}

func TestParseAddress(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "003713669598@003721291126", want: "003713669598@003721291126"},
		{in: " FI4819503000000010 @ ndeafihh ", want: "FI4819503000000010@NDEAFIHH"},
		{in: "0037136695981@OKOYFIHH", want: "0037136695981@OKOYFIHH"},
		{in: "003713669598", err: "ADDRESS@INTERMEDIATOR"},
		{in: "003713669597@OKOYFIHH", err: "check digit"},
		{in: "003713669598@OKOY1IHH", err: "BIC"},
		{in: "a@OKOYFIHH", err: "2 to 35"},
		{in: "x@y@z", err: "ADDRESS@INTERMEDIATOR"},
		{in: "FI48 1950@OKOYFIHH", err: "without spaces"},
	} {
		got, err := ParseAddress(c.in)
		switch {
		case c.err == "" && (err != nil || got.String() != c.want):
			t.Errorf("ParseAddress(%q) = %v, %v; want %s", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseAddress(%q) = %v; want an error saying %q", c.in, err, c.err)
		}
	}
}
