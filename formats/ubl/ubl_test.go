package ubl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// dataDir holds the shared Peppol examples; tests read them in place.
const dataDir = "../../../shared/testdata/peppol"

// examples returns the example files of the given sets, skipping the test
// when the shared test data is not there.
func examples(t testing.TB, sets ...string) []string {
	t.Helper()
	var files []string
	for _, set := range sets {
		dir := filepath.Join(dataDir, set)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Skipf("shared test data %s is absent (%v); it lives next to the project in shared/testdata", dir, err)
		}
		for _, e := range entries {
			if strings.EqualFold(filepath.Ext(e.Name()), ".xml") {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	return files
}

var allSets = []string{"openpeppol-examples", "en16931-ubl-examples"}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readBytes runs Format.Read over b and returns every item.
func readBytes(t testing.TB, b []byte) []formats.Item {
	t.Helper()
	var items []formats.Item
	err := Format{}.Read(formats.Input{Name: "test", R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
		items = append(items, it)
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return items
}

// readOne reads a single-document file and fails the test on any error.
func readOne(t testing.TB, b []byte) *formats.Document {
	t.Helper()
	items := readBytes(t, b)
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	if items[0].Err != nil {
		t.Fatalf("Read: %v", items[0].Err)
	}
	return items[0].Doc
}

// rawTotal reads an amount from the raw XML with a regexp, independently of
// the parser under test.
func rawTotal(t *testing.T, xml []byte, elem string) formats.Amount {
	t.Helper()
	block := regexp.MustCompile(`(?s)<cac:LegalMonetaryTotal>.*</cac:LegalMonetaryTotal>`).Find(xml)
	m := regexp.MustCompile(`<cbc:` + elem + `[^>]*>\s*([-0-9.]+)\s*<`).FindSubmatch(block)
	if m == nil {
		t.Fatalf("no %s in the raw XML", elem)
	}
	return formats.MustAmount(string(m[1]))
}

func TestExamples(t *testing.T) {
	lineRE := regexp.MustCompile(`<cac:(Invoice|CreditNote)Line>`)
	rootRE := regexp.MustCompile(`(?m)^<(\w+:)?(Invoice|CreditNote)\b`)
	kinds := map[formats.Kind]int{}
	for _, name := range examples(t, allSets...) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			raw := readFile(t, name)
			doc := readOne(t, raw)
			for _, c := range []struct {
				elem string
				got  formats.Amount
			}{
				{"PayableAmount", doc.Totals.Payable},
				{"TaxExclusiveAmount", doc.Totals.TaxExclusive},
				{"TaxInclusiveAmount", doc.Totals.TaxInclusive},
				{"LineExtensionAmount", doc.Totals.LineExtension},
			} {
				if want := rawTotal(t, raw, c.elem); c.got != want {
					t.Errorf("%s = %s, the XML says %s", c.elem, c.got, want)
				}
			}
			var sum formats.Amount
			for _, l := range doc.Lines {
				sum += l.NetAmount
			}
			if sum != doc.Totals.LineExtension {
				t.Errorf("sum of line net amounts %s != LineExtensionAmount %s", sum, doc.Totals.LineExtension)
			}
			if want := len(lineRE.FindAll(raw, -1)); len(doc.Lines) != want {
				t.Errorf("%d lines, the XML has %d", len(doc.Lines), want)
			}
			wantKind := formats.KindInvoice
			if m := rootRE.FindSubmatch(raw); m != nil && string(m[2]) == "CreditNote" {
				wantKind = formats.KindCreditNote
			}
			if doc.Kind != wantKind {
				t.Errorf("Kind = %s, want %s", doc.Kind, wantKind)
			}
			kinds[doc.Kind]++
			if doc.Number == "" || doc.IssueDate.IsZero() || doc.Currency == "" || doc.Seller.Name == "" || doc.Buyer.Name == "" {
				t.Errorf("a mandatory term is empty: number %q, date %v, currency %q, seller %q, buyer %q",
					doc.Number, doc.IssueDate, doc.Currency, doc.Seller.Name, doc.Buyer.Name)
			}
		})
	}
	if kinds[formats.KindCreditNote] == 0 {
		t.Error("no example was read as a credit note")
	}
}

// TestBaseExample pins the mapping of the Peppol base example term by term.
func TestBaseExample(t *testing.T) {
	files := examples(t, "openpeppol-examples")
	doc := readOne(t, readFile(t, filepath.Join(filepath.Dir(files[0]), "base-example.xml")))
	d := func(s string) formats.Date { v, _ := formats.ParseDate(s); return v }
	checks := []struct {
		name      string
		got, want any
	}{
		{"number", doc.Number, "Snippet1"},
		{"due date", doc.DueDate, d("2017-12-01")},
		{"type", doc.TypeCode, "380"},
		{"buyer reference", doc.BuyerReference, "0150abc"},
		{"seller name", doc.Seller.Name, "SupplierOfficialName Ltd"},
		{"seller trading name", doc.Seller.TradingName, "SupplierTradingName Ltd."},
		{"seller endpoint", doc.Seller.Endpoint, formats.Identifier{Scheme: "0088", Value: "9482348239847239874"}},
		{"seller VAT", doc.Seller.VATID, "GB1232434"},
		{"buyer legal id", doc.Buyer.LegalID, formats.Identifier{Scheme: "0183", Value: "39937423947"}},
		{"buyer email", doc.Buyer.Contact.Email, "lj@buyer.se"},
		{"buyer country", doc.Buyer.Address.Country, "SE"},
		{"delivery location", doc.Delivery.LocationID, formats.Identifier{Scheme: "0088", Value: "9483759475923478"}},
		{"payment id", doc.PaymentReference(), "Snippet1"},
		{"account", doc.PaymentMeans[0].Account, "IBAN32423940"},
		{"account fails the IBAN checksum, so no scheme", doc.PaymentMeans[0].AccountScheme, ""},
		{"BIC", doc.PaymentMeans[0].ServiceID, "BIC324098"},
		{"means name", doc.PaymentMeans[0].Text, "Credit transfer"},
		{"payment terms", doc.PaymentTerms, "Payment within 10 days, 2% discount"},
		{"VAT total", *doc.Totals.TaxTotal, formats.MustAmount("331.25")},
		{"VAT categories", len(doc.VAT), 1},
		{"charge total", *doc.Totals.ChargeTotal, formats.MustAmount("25")},
		{"line 1 unit", doc.Lines[0].Unit, "DAY"},
		{"line 1 price", doc.Lines[0].Price.Amount, formats.Decimal("400")},
		{"line 1 VAT", doc.Lines[0].Item.VATCategory, "S"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestRoundTrip writes every example and reads it back: the model must
// survive unchanged, so Write holds every term the reader maps.
func TestRoundTrip(t *testing.T) {
	for _, name := range examples(t, allSets...) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			doc := readOne(t, readFile(t, name))
			var buf bytes.Buffer
			if err := Write(&buf, doc); err != nil {
				t.Fatal(err)
			}
			again := readOne(t, buf.Bytes())
			if doc.Kind == formats.KindCreditNote && len(doc.PaymentMeans) == 0 {
				doc.DueDate = formats.Date{} // a CreditNote keeps BT-9 in PaymentMeans only
			}
			doc.CustomizationID = or(doc.CustomizationID, DefaultCustomizationID)
			doc.ProfileID = or(doc.ProfileID, DefaultProfileID)
			if diff := jsonDiff(doc, again); diff != "" {
				t.Errorf("document changed in Write→Read: %s", diff)
			}
		})
	}
}

// jsonDiff names the first JSON line where two documents differ.
func jsonDiff(a, b *formats.Document) string {
	ja, _ := json.MarshalIndent(a, "", " ")
	jb, _ := json.MarshalIndent(b, "", " ")
	la, lb := strings.Split(string(ja), "\n"), strings.Split(string(jb), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d: %s became %s", i+1, strings.TrimSpace(la[i]), strings.TrimSpace(lb[i]))
		}
	}
	if len(la) != len(lb) {
		return fmt.Sprintf("%d JSON lines became %d", len(la), len(lb))
	}
	return ""
}

// embedded cuts the UBL documents out of a vefa testSet file; each carries
// its own namespace declarations.
func embedded(b []byte) [][]byte {
	re := regexp.MustCompile(`(?s)<(Invoice|CreditNote)\s.*?</(Invoice|CreditNote)>`)
	return re.FindAll(b, -1)
}

func TestSwedishUnitTests(t *testing.T) {
	n := 0
	for _, name := range examples(t, "openpeppol-unit-se") {
		for i, doc := range embedded(readFile(t, name)) {
			items := readBytes(t, doc)
			if len(items) != 1 || items[0].Err != nil {
				t.Errorf("%s #%d: %+v", filepath.Base(name), i, items)
				continue
			}
			n++
			d := items[0].Doc
			if strings.Contains(string(doc), ">SE:BANKGIRO<") && d.Bankgiro() == "" {
				t.Errorf("%s #%d: bankgiro not recognised in %+v", filepath.Base(name), i, d.PaymentMeans)
			}
			if strings.Contains(string(doc), ">SE:PLUSGIRO<") && d.Plusgiro() == "" {
				t.Errorf("%s #%d: plusgiro not recognised in %+v", filepath.Base(name), i, d.PaymentMeans)
			}
			if strings.Contains(string(doc), "Godkänd för F-skatt") && d.Seller.TaxRegistration != "Godkänd för F-skatt" {
				t.Errorf("%s #%d: tax registration = %q", filepath.Base(name), i, d.Seller.TaxRegistration)
			}
		}
	}
	t.Logf("%d Swedish unit-test documents read", n)
}

// swedishXML uses unusual prefixes and a default namespace on cbc to show
// that elements are matched by namespace, not prefix.
const swedishXML = `<?xml version="1.0" encoding="UTF-8"?>
<!-- written by an ERP -->
<inv:Invoice xmlns:inv="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:a="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <ID>1001</ID><IssueDate>2024-03-01</IssueDate><DueDate>2024-03-31</DueDate>
 <InvoiceTypeCode>380</InvoiceTypeCode><DocumentCurrencyCode>SEK</DocumentCurrencyCode>
 <a:AccountingSupplierParty><a:Party>
  <EndpointID schemeID="0007">5560000001</EndpointID>
  <a:PostalAddress><StreetName>Storgatan 1</StreetName><CityName>Stockholm</CityName><PostalZone>111 22</PostalZone>
   <a:AddressLine><Line>Plan 3</Line></a:AddressLine><a:Country><IdentificationCode>SE</IdentificationCode></a:Country></a:PostalAddress>
  <a:PartyTaxScheme><CompanyID>SE556000000101</CompanyID><a:TaxScheme><ID>VAT</ID></a:TaxScheme></a:PartyTaxScheme>
  <a:PartyTaxScheme><CompanyID>Godkänd för F-skatt</CompanyID><a:TaxScheme><ID>TAX</ID></a:TaxScheme></a:PartyTaxScheme>
  <a:PartyLegalEntity><RegistrationName>Energi AB</RegistrationName><CompanyID schemeID="0007">5560000001</CompanyID><CompanyLegalForm>Säte: Stockholm</CompanyLegalForm></a:PartyLegalEntity>
 </a:Party></a:AccountingSupplierParty>
 <a:AccountingCustomerParty><a:Party>
  <EndpointID schemeID="EM">anna@example.se</EndpointID>
  <a:PartyIdentification><ID>471117-0042</ID></a:PartyIdentification>
  <a:PartyName><Name>Anna Andersson</Name></a:PartyName>
  <a:PostalAddress><CityName>Uppsala</CityName><a:Country><IdentificationCode>SE</IdentificationCode></a:Country></a:PostalAddress>
 </a:Party></a:AccountingCustomerParty>
 <a:PaymentMeans><PaymentMeansCode name="Bankgiro">30</PaymentMeansCode><PaymentID>1234567897</PaymentID>
  <a:PayeeFinancialAccount><ID>5050-1055</ID><a:FinancialInstitutionBranch><ID>SE:BANKGIRO</ID></a:FinancialInstitutionBranch></a:PayeeFinancialAccount></a:PaymentMeans>
 <a:PaymentMeans><PaymentMeansCode>30</PaymentMeansCode>
  <a:PayeeFinancialAccount><ID schemeID="SE:PLUSGIRO">4410097</ID></a:PayeeFinancialAccount></a:PaymentMeans>
 <a:PaymentMeans><PaymentMeansCode>30</PaymentMeansCode>
  <a:PayeeFinancialAccount><ID>12345678</ID></a:PayeeFinancialAccount></a:PaymentMeans>
 <a:PaymentMeans><PaymentMeansCode>49</PaymentMeansCode><a:PaymentMandate><ID>4711170042</ID>
  <a:PayerFinancialAccount><ID>8327-9 123456789</ID></a:PayerFinancialAccount></a:PaymentMandate></a:PaymentMeans>
 <a:TaxTotal><TaxAmount currencyID="SEK">25.00</TaxAmount>
  <a:TaxSubtotal><TaxableAmount currencyID="SEK">100.00</TaxableAmount><TaxAmount currencyID="SEK">25.00</TaxAmount>
   <a:TaxCategory><ID>S</ID><Percent>25</Percent><a:TaxScheme><ID>VAT</ID></a:TaxScheme></a:TaxCategory></a:TaxSubtotal></a:TaxTotal>
 <a:LegalMonetaryTotal><LineExtensionAmount currencyID="SEK">100</LineExtensionAmount><TaxExclusiveAmount currencyID="SEK">100.00</TaxExclusiveAmount>
  <TaxInclusiveAmount currencyID="SEK">125.00</TaxInclusiveAmount><PayableAmount currencyID="SEK">125.00</PayableAmount></a:LegalMonetaryTotal>
 <a:InvoiceLine><ID>1</ID><InvoicedQuantity unitCode="KWH">400.5</InvoicedQuantity><LineExtensionAmount currencyID="SEK">100.00</LineExtensionAmount>
  <a:Item><Name>El</Name><a:ClassifiedTaxCategory><ID>S</ID><Percent>25</Percent><a:TaxScheme><ID>VAT</ID></a:TaxScheme></a:ClassifiedTaxCategory></a:Item>
  <a:Price><PriceAmount currencyID="SEK">0.24969</PriceAmount></a:Price></a:InvoiceLine>
</inv:Invoice>`

func TestSwedishConventions(t *testing.T) {
	doc := readOne(t, []byte(swedishXML))
	checks := []struct {
		name      string
		got, want any
	}{
		{"bankgiro", doc.Bankgiro(), "5050-1055"},
		{"plusgiro (schemeID)", doc.Plusgiro(), "4410097"},
		{"unmarked account has no scheme", doc.PaymentMeans[2].AccountScheme, ""},
		{"OCR", doc.PaymentReference(), "1234567897"},
		{"means text", doc.PaymentMeans[0].Text, "Bankgiro"},
		{"AutoGiro payer number", doc.MandateReference(), "4711170042"},
		{"debited account", doc.PaymentMeans[3].DebitedAccount, "8327-9 123456789"},
		{"F-skatt", doc.Seller.TaxRegistration, "Godkänd för F-skatt"},
		{"legal info", doc.Seller.LegalInfo, "Säte: Stockholm"},
		{"address line 3", doc.Seller.Address.Line3, "Plan 3"},
		{"customer number", doc.Buyer.CustomerNumber, "471117-0042"},
		{"buyer name from PartyName", doc.Buyer.Name, "Anna Andersson"},
		{"buyer e-mail endpoint", doc.Buyer.Endpoint, formats.Identifier{Scheme: "EM", Value: "anna@example.se"}},
		{"quantity", doc.Lines[0].Quantity, formats.Decimal("400.5")},
		{"unit price keeps its decimals", doc.Lines[0].Price.Amount, formats.Decimal("0.24969")},
		{"line extension", doc.Totals.LineExtension, formats.MustAmount("100")},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	out := regexp.MustCompile(`>\s+<`).ReplaceAllString(buf.String(), "><")
	for _, want := range []string{
		"<cbc:CustomizationID>" + DefaultCustomizationID + "<",
		"<cbc:ProfileID>" + DefaultProfileID + "<",
		"<cbc:ID>5050-1055</cbc:ID><cac:FinancialInstitutionBranch><cbc:ID>SE:BANKGIRO</cbc:ID>",
		`<cbc:ID>4410097</cbc:ID><cac:FinancialInstitutionBranch><cbc:ID>SE:PLUSGIRO</cbc:ID>`,
		"<cbc:PaymentMeansCode>49</cbc:PaymentMeansCode><cac:PaymentMandate><cbc:ID>4711170042</cbc:ID>",
		"<cbc:CompanyID>Godkänd för F-skatt</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID>",
		`<cbc:PaymentMeansCode name="Bankgiro">30</cbc:PaymentMeansCode>`,
		`<cbc:LineExtensionAmount currencyID="SEK">100.00</cbc:LineExtensionAmount>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("written UBL lacks %q:\n%s", want, out)
		}
	}
	doc.CustomizationID, doc.ProfileID = DefaultCustomizationID, DefaultProfileID
	if again := readOne(t, buf.Bytes()); !reflect.DeepEqual(doc, again) {
		t.Errorf("round trip changed the document:\n%+v\n%+v", doc, again)
	}
}

func TestWriteCreditNote(t *testing.T) {
	doc := readOne(t, []byte(swedishXML))
	doc.Kind = formats.KindCreditNote
	doc.TypeCode = ""
	doc.ProjectReference = "P-7"
	var buf bytes.Buffer
	if err := Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"<CreditNote xmlns=", "<cbc:CreditNoteTypeCode>381<", "<cac:CreditNoteLine>", "<cbc:CreditedQuantity", "<cbc:PaymentDueDate>2024-03-31<", "<cbc:DocumentTypeCode>50<"} {
		if !strings.Contains(out, want) {
			t.Errorf("credit note lacks %q", want)
		}
	}
	if strings.Contains(out, "<cbc:DueDate>") || strings.Contains(out, "ProjectReference") {
		t.Error("credit note carries elements UBL 2.1 CreditNote does not have")
	}
	again := readOne(t, buf.Bytes())
	if again.Kind != formats.KindCreditNote || again.DueDate != doc.DueDate || again.ProjectReference != "P-7" {
		t.Errorf("read back kind %s, due %v, project %q", again.Kind, again.DueDate, again.ProjectReference)
	}
}
