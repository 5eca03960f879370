package efaktura

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func amount(s string) *formats.Amount { a := formats.MustAmount(s); return &a }

func date(y int, m time.Month, d int) formats.Date { return formats.Date{Year: y, Month: m, Day: d} }

var seller = formats.Party{
	Name:            "Kraftbolaget i Norr AB",
	LegalID:         formats.Identifier{Scheme: "0007", Value: "556677-8899"},
	VATID:           "SE556677889901",
	TaxRegistration: "Godkänd för F-skatt",
	Address:         formats.Address{Street: "Storgatan 1", City: "Umeå", PostalCode: "903 25", Country: "SE"},
	Contact:         formats.Contact{Phone: "090-12 34 56", Email: "kundtjanst@kraftbolaget.se"},
}

// electricity is a monthly invoice with two VAT rates, payable to a
// bankgiro with an OCR number.
func electricity() *formats.Document {
	return &formats.Document{
		Kind: formats.KindInvoice, Number: "2024-0001", IssueDate: date(2024, 4, 2), DueDate: date(2024, 4, 30),
		Currency: "SEK", Notes: []string{"Tack för att du är kund hos oss!"},
		Period: &formats.Period{Start: date(2024, 3, 1), End: date(2024, 3, 31)},
		Seller: seller,
		Buyer: formats.Party{Name: "Anna Andersson", PersonalID: "198112189876",
			Address: formats.Address{Street: "Björkvägen 7", Additional: "lgh 1102", City: "Umeå", PostalCode: "903 40", Country: "SE"}},
		PaymentMeans: []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, PaymentID: "202400011237", Account: "5050-1055", AccountScheme: formats.AccountBankgiro}},
		PaymentTerms: "30 dagar netto",
		VAT: []formats.VATBreakdown{
			{Category: "S", Rate: "25", TaxableAmount: formats.MustAmount("800.00"), TaxAmount: formats.MustAmount("200.00")},
			{Category: "S", Rate: "12", TaxableAmount: formats.MustAmount("100.00"), TaxAmount: formats.MustAmount("12.00")},
		},
		Totals: formats.Totals{LineExtension: formats.MustAmount("900.00"), TaxExclusive: formats.MustAmount("900.00"),
			TaxTotal: amount("212.00"), TaxInclusive: formats.MustAmount("1112.00"), Payable: formats.MustAmount("1112.00")},
		Lines: []formats.Line{
			{ID: "1", Quantity: "640", Unit: "KWH", NetAmount: formats.MustAmount("800.00"), Note: "Mätare 735999",
				Item: formats.LineItem{Name: "Elenergi mars", SellerID: "EL-01", VATCategory: "S", VATRate: "25"}, Price: formats.Price{Amount: "1.25"}},
			{ID: "2", Quantity: "1", Unit: "C62", NetAmount: formats.MustAmount("100.00"),
				Item: formats.LineItem{Name: "Tidning <Kraft & Kultur>", VATCategory: "S", VATRate: "12"}, Price: formats.Price{Amount: "100"}},
		},
	}
}

// water is paid to a plusgiro, with öresavrundning and a delivery date, for
// a consumer registered by customer number.
func water() *formats.Document {
	return &formats.Document{
		Kind: formats.KindInvoice, Number: "2024-0002", IssueDate: date(2024, 4, 2), DueDate: date(2024, 5, 2),
		Currency: "SEK", BuyerReference: "Bertil B",
		Seller:       seller,
		Buyer:        formats.Party{Name: "Bertil Berg", CustomerNumber: "10053"},
		Delivery:     &formats.Delivery{Date: date(2024, 3, 31)},
		PaymentMeans: []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, PaymentID: "202400021236", Account: "4 41 09-7", AccountScheme: formats.AccountPlusgiro}},
		VAT:          []formats.VATBreakdown{{Category: "S", Rate: "25", TaxableAmount: formats.MustAmount("99.50"), TaxAmount: formats.MustAmount("24.88")}},
		Totals: formats.Totals{LineExtension: formats.MustAmount("99.50"), TaxExclusive: formats.MustAmount("99.50"),
			TaxTotal: amount("24.88"), TaxInclusive: formats.MustAmount("124.38"), Rounding: amount("-0.38"), Payable: formats.MustAmount("124.00")},
		Lines: []formats.Line{{ID: "1", Quantity: "1", NetAmount: formats.MustAmount("99.50"),
			Item: formats.LineItem{Name: "Vatten, fast avgift", VATCategory: "S", VATRate: "25"}, Price: formats.Price{Amount: "99.50"}}},
	}
}

// refund credits part of the electricity invoice.
func refund() *formats.Document {
	return &formats.Document{
		Kind: formats.KindCreditNote, Number: "2024-0003", IssueDate: date(2024, 4, 10), TypeCode: "381",
		Currency: "SEK", Preceding: []formats.PrecedingInvoice{{Number: "2024-0001", IssueDate: date(2024, 4, 2)}},
		Seller:       seller,
		Buyer:        formats.Party{Name: "Anna Andersson", PersonalID: "198112189876"},
		PaymentMeans: []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, Account: "5050-1055", AccountScheme: formats.AccountBankgiro}},
		VAT:          []formats.VATBreakdown{{Category: "S", Rate: "25", TaxableAmount: formats.MustAmount("80.00"), TaxAmount: formats.MustAmount("20.00")}},
		Totals: formats.Totals{LineExtension: formats.MustAmount("80.00"), TaxExclusive: formats.MustAmount("80.00"),
			TaxTotal: amount("20.00"), TaxInclusive: formats.MustAmount("100.00"), Payable: formats.MustAmount("100.00")},
		Lines: []formats.Line{{ID: "1", Quantity: "64", Unit: "KWH", NetAmount: formats.MustAmount("80.00"),
			Item: formats.LineItem{Name: "Felaktigt avläst mätare", VATCategory: "S", VATRate: "25"}, Price: formats.Price{Amount: "1.25"}}},
	}
}

func testBatch() Batch {
	return Batch{
		ID:      "B20240410-0001",
		Created: time.Date(2024, 4, 10, 6, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		Biller:  Biller{Name: "Kraftbolaget i Norr AB", Orgnr: "556677-8899", Bankgiro: "5050-1055"},
		Items: []Item{
			{Recipient: "19811218-9876", Doc: electricity()},
			{Recipient: "10053", Doc: water()},
			{Recipient: "198112189876", Doc: refund()},
		},
	}
}

func write(t *testing.T, b Batch) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteBatch(&buf, b); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	return buf.Bytes()
}

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
		t.Errorf("WriteBatch differs from %s (go test -update rewrites it after review):\n%s", golden, got)
	}
}

// TestWriteBatchDeterministic: a retried batch must be the same file, even
// when its creation time comes back from the store in another location.
func TestWriteBatchDeterministic(t *testing.T) {
	b := testBatch()
	first := write(t, b)
	b.Created = b.Created.UTC()
	if second := write(t, b); !bytes.Equal(first, second) {
		t.Errorf("the same batch gave different bytes")
	}
}

func TestWriteBatchRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Batch)
		item   int
		rule   Rule
		msg    string
	}{
		{"no id", func(b *Batch) { b.ID = "" }, 0, RuleBatch, "no id"},
		{"no time", func(b *Batch) { b.Created = time.Time{} }, 0, RuleBatch, "no creation time"},
		{"empty", func(b *Batch) { b.Items = nil }, 0, RuleBatch, "no invoice"},
		{"biller bankgiro", func(b *Batch) { b.Biller.Bankgiro = "5050-1056" }, 0, RuleBatch, "check digit is wrong, expected 5"},
		{"biller orgnr", func(b *Batch) { b.Biller.Orgnr = "556677-8898" }, 0, RuleBatch, "organisationsnummer"},
		{"no recipient", func(b *Batch) { b.Items[0].Recipient = " " }, 1, RuleRecipient, "no e-faktura registration"},
		{"bad personnummer", func(b *Batch) { b.Items[2].Recipient = "198112189877" }, 3, RuleRecipient, "check digit is wrong"},
		{"long customer number", func(b *Batch) { b.Items[1].Recipient = strings.Repeat("9", 36) }, 2, RuleRecipient, "longer than 35"},
		{"no number", func(b *Batch) { b.Items[1].Doc.Number = "" }, 2, RuleNumber, "BT-1"},
		{"no issue date", func(b *Batch) { b.Items[0].Doc.IssueDate = formats.Date{} }, 1, RuleDate, "BT-2"},
		{"euro", func(b *Batch) { b.Items[0].Doc.Currency = "EUR" }, 1, RuleCurrency, "SEK invoices only"},
		{"no buyer name", func(b *Batch) { b.Items[0].Doc.Buyer.Name = "" }, 1, RuleParty, "BT-44"},
		{"no lines", func(b *Batch) { b.Items[1].Doc.Lines = nil }, 2, RuleLines, "InvoiceLine"},
		{"prepaid", func(b *Batch) { b.Items[0].Doc.Totals.Prepaid = amount("100") }, 1, RuleTotals, "BT-113"},
		{"payable", func(b *Batch) { b.Items[0].Doc.Totals.Payable = formats.MustAmount("1000") }, 1, RuleTotals, "BT-115"},
		{"no account", func(b *Batch) { b.Items[0].Doc.PaymentMeans[0].AccountScheme = formats.AccountIBAN }, 1, RulePayment, "no bankgiro or plusgiro"},
		{"bad plusgiro", func(b *Batch) { b.Items[1].Doc.PaymentMeans[0].Account = "4 41 09-8" }, 2, RulePayment, "plusgiro"},
		{"bad ocr", func(b *Batch) { b.Items[0].Doc.PaymentMeans[0].PaymentID = "202400011238" }, 1, RulePayment, "check digit is wrong, expected 7"},
		{"text reference", func(b *Batch) { b.Items[0].Doc.PaymentMeans[0].PaymentID = "Faktura 2024-0001" }, 1, RulePayment, "OCR"},
		{"no due date", func(b *Batch) { b.Items[0].Doc.DueDate = formats.Date{} }, 1, RuleDate, "BT-9"},
		{"due before issue", func(b *Batch) { b.Items[0].Doc.DueDate = date(2024, 4, 1) }, 1, RuleDate, "before the issue date"},
		{"nothing to pay", func(b *Batch) {
			d := b.Items[0].Doc
			d.Totals.TaxInclusive, d.Totals.Payable = 0, 0
		}, 1, RulePayment, "positive amount"},
		{"credit without invoice", func(b *Batch) { b.Items[2].Doc.Preceding = nil }, 3, RuleCredit, "BG-3"},
		{"no document", func(b *Batch) { b.Items[1].Doc = nil }, 2, RuleBatch, "no document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBatch()
			tt.change(&b)
			var buf bytes.Buffer
			err := WriteBatch(&buf, b)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("WriteBatch = %v, want an *Error", err)
			}
			if e.Item != tt.item || e.Rule != tt.rule || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("WriteBatch = %q (item %d, rule %s), want item %d, rule %s, containing %q", err, e.Item, e.Rule, tt.item, tt.rule, tt.msg)
			}
			if e.Item > 0 && b.Items[e.Item-1].Doc != nil && !strings.Contains(err.Error(), b.Items[e.Item-1].Doc.Label()) {
				t.Errorf("%q does not name %s", err, b.Items[e.Item-1].Doc.Label())
			}
			if buf.Len() != 0 {
				t.Errorf("WriteBatch wrote %d bytes of a batch it refused", buf.Len())
			}
			if e.Item > 0 {
				if err := CheckItem(b.Items[e.Item-1]); err == nil {
					t.Errorf("CheckItem accepts the item WriteBatch refused")
				}
			}
		})
	}
}

func TestParseRecipient(t *testing.T) {
	tests := []struct{ in, scheme, value, err string }{
		{"198112189876", SchemePersonnummer, "198112189876", ""},
		{"19811218-9876", SchemePersonnummer, "198112189876", ""},
		{" 10053 ", SchemeCustomerNumber, "10053", ""},
		{"KUND-77/A", SchemeCustomerNumber, "KUND-77/A", ""},
		{"8112189876", SchemeCustomerNumber, "8112189876", ""}, // 10 digits: a customer number, see the doc
		{"198113189876", "", "", "not a date"},
		{"", "", "", "no e-faktura registration"},
		{"a\tb", "", "", "control character"},
	}
	for _, tt := range tests {
		scheme, value, err := ParseRecipient(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRecipient(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || scheme != tt.scheme || value != tt.value {
			t.Errorf("ParseRecipient(%q) = %q, %q, %v; want %q, %q", tt.in, scheme, value, err, tt.scheme, tt.value)
		}
	}
}

// svInvoice is the part of a Svefaktura 1.0 Invoice the round trip reads
// back. encoding/xml applies a tag's namespace to every step of a path, so
// paths crossing namespaces go without one; TestSchema checks namespaces.
type svInvoice struct {
	ID        string `xml:"urn:sfti:documents:BasicInvoice:1:0 ID"`
	IssueDate string `xml:"urn:oasis:names:tc:ubl:CommonBasicComponents:1:0 IssueDate"`
	TypeCode  string `xml:"urn:sfti:documents:BasicInvoice:1:0 InvoiceTypeCode"`
	Currency  string `xml:"urn:sfti:documents:BasicInvoice:1:0 InvoiceCurrencyCode"`
	LineCount int    `xml:"urn:sfti:documents:BasicInvoice:1:0 LineItemCountNumeric"`
	Buyer     string `xml:"urn:sfti:CommonAggregateComponents:1:0 BuyerParty>Party>PartyIdentification>ID"`
	BuyerName string `xml:"BuyerParty>Party>PartyName>Name"`
	Seller    struct {
		Name    string `xml:"Party>PartyName>Name"`
		Schemes []struct {
			CompanyID string `xml:"urn:sfti:CommonAggregateComponents:1:0 CompanyID"`
			Scheme    string `xml:"urn:sfti:CommonAggregateComponents:1:0 TaxScheme>ID"`
		} `xml:"urn:sfti:CommonAggregateComponents:1:0 Party>PartyTaxScheme"`
	} `xml:"urn:sfti:CommonAggregateComponents:1:0 SellerParty"`
	Payments []struct {
		Due         string `xml:"urn:oasis:names:tc:ubl:CommonBasicComponents:1:0 DuePaymentDate"`
		Account     string `xml:"urn:sfti:CommonAggregateComponents:1:0 PayeeFinancialAccount>ID"`
		Institution string `xml:"urn:sfti:CommonAggregateComponents:1:0 PayeeFinancialAccount>FinancialInstitutionBranch>FinancialInstitution>ID"`
		OCR         string `xml:"urn:sfti:CommonAggregateComponents:1:0 PayeeFinancialAccount>PaymentInstructionID"`
	} `xml:"urn:sfti:CommonAggregateComponents:1:0 PaymentMeans"`
	TaxTotal string `xml:"TaxTotal>TotalTaxAmount"`
	ToPay    string `xml:"LegalTotal>TaxInclusiveTotalAmount"`
	Lines    []struct {
		Net string `xml:"urn:oasis:names:tc:ubl:CommonBasicComponents:1:0 LineExtensionAmount"`
	} `xml:"urn:sfti:CommonAggregateComponents:1:0 InvoiceLine"`
	Requisitionist []string `xml:"RequisitionistDocumentReference>ID"`
	Credited       []string `xml:"InitialInvoiceDocumentReference>ID"`
}

type svBatch struct {
	XMLName xml.Name `xml:"urn:multikanal:efaktura:batch:1 InvoiceBatch"`
	BatchID string   `xml:"Start>BatchID"`
	Created string   `xml:"Start>Created"`
	Sender  string   `xml:"Start>Sender>Bankgiro"`
	Items   []struct {
		Recipient struct {
			Scheme string `xml:"scheme,attr"`
			Value  string `xml:",chardata"`
		} `xml:"Recipient"`
		Invoice svInvoice `xml:"urn:sfti:documents:BasicInvoice:1:0 Invoice"`
	} `xml:"Item"`
	Count int    `xml:"End>Count"`
	Total string `xml:"End>Total"`
}

// TestRoundTrip reads the batch back and checks that what the bank acts on
// (who, what number, how much, to which account, by when, with which OCR)
// is what the documents say.
func TestRoundTrip(t *testing.T) {
	b := testBatch()
	var got svBatch
	if err := xml.Unmarshal(write(t, b), &got); err != nil {
		t.Fatal(err)
	}
	if got.BatchID != b.ID || got.Created != "2024-04-10T04:00:00Z" || got.Sender != "50501055" {
		t.Errorf("envelope start = %q %q %q", got.BatchID, got.Created, got.Sender)
	}
	if got.Count != 3 || got.Total != "1136.00" { // 1112 + 124 - 100
		t.Errorf("envelope end = %d %s, want 3 1136.00", got.Count, got.Total)
	}
	if len(got.Items) != len(b.Items) {
		t.Fatalf("%d items read back, wrote %d", len(got.Items), len(b.Items))
	}
	wantRecipients := [][2]string{{SchemePersonnummer, "198112189876"}, {SchemeCustomerNumber, "10053"}, {SchemePersonnummer, "198112189876"}}
	for i, it := range got.Items {
		doc, inv := b.Items[i].Doc, it.Invoice
		if r := [2]string{it.Recipient.Scheme, it.Recipient.Value}; r != wantRecipients[i] || inv.Buyer != wantRecipients[i][1] {
			t.Errorf("item %d: recipient %v, buyer id %q; want %v", i+1, r, inv.Buyer, wantRecipients[i])
		}
		wantType := map[formats.Kind]string{formats.KindInvoice: "380", formats.KindCreditNote: "381"}[doc.Kind]
		if inv.ID != doc.Number || inv.IssueDate != doc.IssueDate.String() || inv.TypeCode != wantType || inv.Currency != "SEK" {
			t.Errorf("item %d: header %q %q %q %q", i+1, inv.ID, inv.IssueDate, inv.TypeCode, inv.Currency)
		}
		if inv.BuyerName != doc.Buyer.Name || inv.Seller.Name != doc.Seller.Name {
			t.Errorf("item %d: parties %q, %q", i+1, inv.BuyerName, inv.Seller.Name)
		}
		if len(inv.Seller.Schemes) != 2 || inv.Seller.Schemes[0] != struct {
			CompanyID string `xml:"urn:sfti:CommonAggregateComponents:1:0 CompanyID"`
			Scheme    string `xml:"urn:sfti:CommonAggregateComponents:1:0 TaxScheme>ID"`
		}{"5566778899", "SWT"} || inv.Seller.Schemes[1].CompanyID != doc.Seller.VATID {
			t.Errorf("item %d: seller tax schemes %+v", i+1, inv.Seller.Schemes)
		}
		if inv.LineCount != len(doc.Lines) || len(inv.Lines) != len(doc.Lines) {
			t.Errorf("item %d: %d lines counted, %d written, want %d", i+1, inv.LineCount, len(inv.Lines), len(doc.Lines))
		}
		for j, l := range inv.Lines {
			if l.Net != doc.Lines[j].NetAmount.String() {
				t.Errorf("item %d line %d: net %s, want %s", i+1, j+1, l.Net, doc.Lines[j].NetAmount)
			}
		}
		if inv.ToPay != doc.Totals.Payable.String() || inv.TaxTotal != doc.Totals.TaxTotal.String() {
			t.Errorf("item %d: to pay %s, VAT %s", i+1, inv.ToPay, inv.TaxTotal)
		}
		if len(inv.Payments) != 1 {
			t.Fatalf("item %d: %d payment means", i+1, len(inv.Payments))
		}
		p := inv.Payments[0]
		wantInst := institutionBG
		if doc.Plusgiro() != "" {
			wantInst = institutionPG
		}
		if p.Due != doc.DueDate.String() || p.OCR != doc.PaymentReference() || p.Institution != wantInst ||
			p.Account != formats.OnlyDigits(doc.Bankgiro()+doc.Plusgiro()) {
			t.Errorf("item %d: payment %+v", i+1, p)
		}
		if len(inv.Requisitionist) != 1 || inv.Requisitionist[0] == "" {
			t.Errorf("item %d: RequisitionistDocumentReference %q", i+1, inv.Requisitionist)
		}
		if doc.Kind == formats.KindCreditNote && (len(inv.Credited) != 1 || inv.Credited[0] != "2024-0001") {
			t.Errorf("item %d: credits %q, want 2024-0001", i+1, inv.Credited)
		}
	}
}
