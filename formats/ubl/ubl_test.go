package ubl

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
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

// sbdh wraps a UBL document the way Peppol access points deliver it.
func sbdh(ubl []byte) []byte {
	ubl = regexp.MustCompile(`^\s*<\?xml[^>]*\?>`).ReplaceAll(ubl, nil)
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">
 <StandardBusinessDocumentHeader>
  <HeaderVersion>1.0</HeaderVersion>
  <Sender><Identifier Authority="iso6523-actorid-upis">0007:5560000001</Identifier></Sender>
  <Receiver><Identifier Authority="iso6523-actorid-upis">0007:5560000002</Identifier></Receiver>
  <DocumentIdentification><Standard>urn:oasis:names:specification:ubl:schema:xsd:Invoice-2</Standard>
   <TypeVersion>2.1</TypeVersion><InstanceIdentifier>x</InstanceIdentifier><Type>Invoice</Type>
   <CreationDateAndTime>2024-03-01T10:00:00Z</CreationDateAndTime></DocumentIdentification>
 </StandardBusinessDocumentHeader>
` + string(ubl) + "\n</StandardBusinessDocument>\n")
}

func TestSBDH(t *testing.T) {
	for _, name := range examples(t, "openpeppol-examples") {
		raw := readFile(t, name)
		wrapped := sbdh(raw)
		if !(Format{}).Sniff(wrapped[:min(len(wrapped), formats.SniffSize)]) {
			t.Errorf("%s: SBDH not sniffed", filepath.Base(name))
		}
		if got, want := readOne(t, wrapped), readOne(t, raw); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: SBDH-wrapped document differs", filepath.Base(name))
		}
	}
}

type zipEntry struct {
	name string
	data []byte
}

func makeZIP(t testing.TB, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Every entry of a ZIP archive is accounted for, in archive order: read as
// a document, rejected with why, or skipped with why. None passes unseen.
func TestZIP(t *testing.T) {
	files := examples(t, "openpeppol-examples")
	skipped := []zipEntry{{"invoices/", nil}, {"__MACOSX/._a.xml", []byte("junk")}, {"invoices/.DS_Store", []byte("junk")}}
	entries := slices.Clone(skipped)
	var want []*formats.Document
	for i, name := range files {
		raw := readFile(t, name)
		if i%2 == 1 {
			raw = sbdh(raw)
		}
		entries = append(entries, zipEntry{"invoices/" + filepath.Base(name), raw})
		d := readOne(t, raw)
		d.Source = "entry invoices/" + filepath.Base(name)
		want = append(want, d)
	}
	// A name that stays inside the archive for all its '..' is read.
	entries = append(entries, zipEntry{"invoices/../inside.xml", readFile(t, files[0])})
	inside := readOne(t, readFile(t, files[0]))
	inside.Source = "entry invoices/../inside.xml"
	want = append(want, inside)
	rejected := []struct {
		entry zipEntry
		msg   string
	}{
		{zipEntry{"scan.pdf", []byte("%PDF-1.7\n...")}, "entry scan.pdf: looks like PDF, not UBL"},
		{zipEntry{"inner.zip", makeZIP(t, []zipEntry{{"a.xml", readFile(t, files[0])}})}, "entry inner.zip: a ZIP archive inside a ZIP archive is not read"},
		{zipEntry{"order.xml", []byte(`<?xml version="1.0"?><Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>`)},
			"entry order.xml: looks like XML with root element <Order>, not UBL"},
		// Unsafe names, each holding a valid invoice that must not be read.
		{zipEntry{"../../x.xml", readFile(t, files[0])}, "entry ../../x.xml: not read: the name leaves the archive with '..'; an entry name must be a relative path"},
		{zipEntry{"a/../../y.xml", readFile(t, files[0])}, "entry a/../../y.xml: not read: the name leaves the archive with '..'"},
		{zipEntry{"..\\..\\w.xml", readFile(t, files[0])}, "entry ..\\..\\w.xml: not read: the name leaves the archive with '..'"},
		{zipEntry{"/etc/z.xml", readFile(t, files[0])}, "entry /etc/z.xml: not read: the name starts with '/'"},
		{zipEntry{"C:\\z.xml", readFile(t, files[0])}, "entry C:\\z.xml: not read: the name starts with a drive letter"},
	}
	for _, r := range rejected {
		entries = append(entries, r.entry)
	}
	b := makeZIP(t, entries)
	if !(Format{}).Sniff(b[:4]) {
		t.Fatal("ZIP not sniffed")
	}
	items := readBytes(t, b)
	if len(items) != len(entries) {
		t.Fatalf("%d items for %d entries: every entry must be accounted for", len(items), len(entries))
	}
	for i, it := range items {
		if it.Index != i || it.Source != "entry "+entries[i].name {
			t.Errorf("item %d has Index %d, source %q; want entry %s", i, it.Index, it.Source, entries[i].name)
		}
	}
	for i, e := range skipped {
		if it := items[i]; !errors.Is(it.Err, formats.ErrSkipped) || it.Doc != nil {
			t.Errorf("%s: err %v, want it skipped with a reason", e.name, it.Err)
		}
	}
	for i, w := range want {
		it := items[len(skipped)+i]
		if it.Err != nil || !reflect.DeepEqual(it.Doc, w) || it.Source != w.Source {
			t.Errorf("item %d (%s): err %v, document differs from the plain file", it.Index, it.Source, it.Err)
		}
	}
	for i, r := range rejected {
		it := items[len(skipped)+len(want)+i]
		if it.Err == nil || errors.Is(it.Err, formats.ErrSkipped) || !strings.HasPrefix(it.Err.Error(), r.msg) || it.Doc != nil {
			t.Errorf("item %d: err %v, want rejected with %q", it.Index, it.Err, r.msg)
		}
	}
}

func TestZIPBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bomb.xml", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`<?xml version="1.0"?><Invoice xmlns="` + nsInvoice + `">`))
	// Short elements, so no single token hits the text limit first; the
	// repetition deflates about 1000:1.
	zeros := bytes.Repeat([]byte("<Note>0</Note>\n"), 1<<16)
	for range 8 { // 8 MiB: the check fires after 1 MiB
		w.Write(zeros)
	}
	zw.Close()

	// A header that lies about the size: the data is 2 MiB, the header says 100 bytes.
	var lie bytes.Buffer
	var fw bytes.Buffer
	fl, _ := flate.NewWriter(&fw, flate.BestCompression)
	fl.Write([]byte(`<?xml version="1.0"?><Invoice xmlns="` + nsInvoice + `"><Note>`))
	for range 2 {
		fl.Write(zeros)
	}
	fl.Close()
	lz := zip.NewWriter(&lie)
	rw, err := lz.CreateRaw(&zip.FileHeader{Name: "liar.xml", Method: zip.Deflate, CompressedSize64: uint64(fw.Len()), UncompressedSize64: 100})
	if err != nil {
		t.Fatal(err)
	}
	rw.Write(fw.Bytes())
	lz.Close()

	for _, c := range []struct {
		name string
		zip  []byte
		want string
	}{
		{"ratio", buf.Bytes(), "looks like a zip bomb"},
		{"lying header", lie.Bytes(), "entry liar.xml"},
	} {
		items := readBytes(t, c.zip)
		if len(items) != 1 || items[0].Err == nil || !strings.Contains(items[0].Err.Error(), c.want) {
			t.Errorf("%s: %+v, want an error containing %q", c.name, items, c.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	base := swedishXML
	deep := `<Invoice xmlns="` + nsInvoice + `">` + strings.Repeat("<a>", 150) + strings.Repeat("</a>", 150) + `</Invoice>`
	cases := []struct {
		name  string
		input string
		want  string
		is    error
	}{
		{"truncated", base[:len(base)/2], "invoice 1001: not well-formed XML at line", nil},
		{"doctype", `<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><Invoice xmlns="` + nsInvoice + `"><ID>&b;</ID></Invoice>`, "DOCTYPE declarations are not allowed", ErrDoctype},
		{"undeclared entity", `<Invoice xmlns="` + nsInvoice + `"><Note xmlns="` + nsCBC + `">&x;</Note></Invoice>`, "not well-formed XML", nil},
		{"deep nesting", deep, "nested more than 100 deep", ErrLimit},
		{"three decimals", strings.Replace(base, `<PayableAmount currencyID="SEK">125.00`, `<PayableAmount currencyID="SEK">12.345`, 1),
			`invoice 1001: cac:LegalMonetaryTotal/cbc:PayableAmount "12.345": more than two decimals (BR-DEC-18)`, nil},
		{"line amount", strings.Replace(base, `<LineExtensionAmount currencyID="SEK">100.00`, `<LineExtensionAmount currencyID="SEK">1,00`, 1),
			`invoice 1001: cac:InvoiceLine/cbc:LineExtensionAmount "1,00": not a number`, nil},
		{"bad date", strings.Replace(base, "2024-03-31", "2024-02-31", 1), `invoice 1001: cbc:DueDate "2024-02-31": not a date`, nil},
		{"currency", strings.Replace(base, `<TaxInclusiveAmount currencyID="SEK">`, `<TaxInclusiveAmount currencyID="EUR">`, 1), "currencyID EUR differs from the document currency SEK", nil},
		{"long text", strings.Replace(base, "<ID>1001</ID>", "<ID>1001</ID><Note>"+strings.Repeat("x", 2<<20)+"</Note>", 1), "longer than", ErrLimit},
		{"bad base64", strings.Replace(base, "<a:AccountingSupplierParty>", `<a:AdditionalDocumentReference><ID>A</ID><a:Attachment><EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="a.pdf">!!!</EmbeddedDocumentBinaryObject></a:Attachment></a:AdditionalDocumentReference><a:AccountingSupplierParty>`, 1), "not valid base64", nil},
		{"empty SBDH", `<StandardBusinessDocument xmlns="` + nsSBDH + `"><X>` + nsInvoice + `</X></StandardBusinessDocument>`, "does not wrap a UBL Invoice", nil},
		{"latin1 undeclared", "<Invoice xmlns=\"" + nsInvoice + "\"><Note>\xe5</Note></Invoice>", "not well-formed XML", nil},
		{"unsupported encoding", `<?xml version="1.0" encoding="EBCDIC"?><Invoice xmlns="` + nsInvoice + `"/>`, "save the file as UTF-8", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := readBytes(t, []byte(c.input))
			if len(items) != 1 || items[0].Doc != nil || items[0].Err == nil {
				t.Fatalf("got %+v, want one item with an error", items)
			}
			err := items[0].Err
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %v", err, c.is)
			}
		})
	}
}

func TestLatin1(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<Invoice xmlns=\"" + nsInvoice + "\"><ID xmlns=\"" + nsCBC + "\">1</ID><Note xmlns=\"" + nsCBC + "\">R\xe4kning</Note></Invoice>"
	if doc := readOne(t, []byte(in)); len(doc.Notes) != 1 || doc.Notes[0] != "Räkning" {
		t.Errorf("notes = %q", doc.Notes)
	}
}

func TestSniff(t *testing.T) {
	inv := `<Invoice xmlns="` + nsInvoice + `"/>`
	cases := []struct {
		name string
		head string
		want bool
	}{
		{"invoice", inv, true},
		{"BOM and prolog", "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<?pi x?>" + inv, true},
		{"prefixed credit note", `<x:CreditNote xmlns:x="` + nsCreditNote + `"/>`, true},
		{"doctype is left to Read", `<!DOCTYPE Invoice>` + inv, true},
		{"SBDH", string(sbdh([]byte(inv))), true},
		{"long SBDH cut off", `<StandardBusinessDocument xmlns="` + nsSBDH + `"><H><Standard>` + nsInvoice + `</Standard>` + strings.Repeat(" ", 5000), true},
		{"SBDH with something else", `<StandardBusinessDocument xmlns="` + nsSBDH + `"><Order xmlns="urn:x"/></StandardBusinessDocument>`, false},
		{"ZIP", "PK\x03\x04rest", true},
		{"wrong namespace", `<Invoice xmlns="urn:other"/>`, false},
		{"no namespace", `<Invoice/>`, false},
		{"UBL order", `<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>`, false},
		{"PDF", "%PDF-1.7", false},
		{"CSV", "invoice;amount\n1;2\n", false},
		{"empty", "", false},
	}
	for _, c := range cases {
		head := []byte(c.head)
		if len(head) > formats.SniffSize {
			head = head[:formats.SniffSize]
		}
		if got := (Format{}).Sniff(head); got != c.want {
			t.Errorf("%s: Sniff = %v, want %v", c.name, got, c.want)
		}
	}
	if (Format{}).Name() != "ubl" {
		t.Error("Name is not ubl")
	}
}

// TestEmitError checks that an error from emit stops Read and is returned.
func TestEmitError(t *testing.T) {
	files := examples(t, "openpeppol-examples")
	b := makeZIP(t, []zipEntry{{"a.xml", readFile(t, files[0])}, {"b.xml", readFile(t, files[1])}})
	stop := errors.New("stop")
	calls := 0
	err := Format{}.Read(formats.Input{R: bytes.NewReader(b), Size: int64(len(b))}, func(formats.Item) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d calls, want stop after 1", err, calls)
	}
	if err := (Format{}).Read(formats.Input{R: bytes.NewReader(b[:100]), Size: 100}, func(formats.Item) error { return nil }); err == nil {
		t.Error("a truncated ZIP read without error")
	}
}

// TestMissingElements reads aggregates with their mandatory children left
// out: the reader must not panic (a PaymentMeans without code once did).
func TestMissingElements(t *testing.T) {
	in := strings.NewReplacer(
		`<PaymentMeansCode name="Bankgiro">30</PaymentMeansCode>`, "",
		`<a:TaxSubtotal>`, `<a:TaxSubtotal><a:TaxCategory/></a:TaxSubtotal><a:TaxSubtotal>`,
		`<a:Item><Name>El</Name>`, `<a:Item><a:CommodityClassification/><a:StandardItemIdentification/>`,
		`<PriceAmount currencyID="SEK">0.24969</PriceAmount>`, `<a:AllowanceCharge/>`,
	).Replace(swedishXML)
	doc := readOne(t, []byte(in))
	if doc.PaymentMeans[0].Code != "" || doc.PaymentMeans[0].Account != "5050-1055" || doc.Lines[0].Item.Name != "" {
		t.Errorf("payment means %+v, line %+v", doc.PaymentMeans[0], doc.Lines[0])
	}
	if err := Write(io.Discard, doc); err != nil {
		t.Fatal(err)
	}
}

// An ERP forces a channel with the note "#multikanal:channel=print"; the
// note is an instruction to the gateway and is not kept as invoice text.
func TestForcedChannelNote(t *testing.T) {
	b := readFile(t, filepath.Join(dataDir, "openpeppol-examples", "base-example.xml"))
	b = bytes.Replace(b, []byte("<cbc:BuyerReference>"), []byte("<cbc:Note>#multikanal:channel=Print</cbc:Note>\n<cbc:Note>Tack!</cbc:Note>\n<cbc:BuyerReference>"), 1)
	doc := readOne(t, b)
	if doc.ForcedChannel != "print" || len(doc.Notes) != 1 || doc.Notes[0] != "Tack!" {
		t.Errorf("forced channel %q, notes %q", doc.ForcedChannel, doc.Notes)
	}
}

// An ERP marks a deliberate resend with the note "#multikanal:resend=yes";
// the note is an instruction and is not kept as invoice text.
func TestResendNote(t *testing.T) {
	b := readFile(t, filepath.Join(dataDir, "openpeppol-examples", "base-example.xml"))
	for note, want := range map[string]bool{"#multikanal:resend=yes": true, "#Multikanal:resend= TRUE ": true, "#multikanal:resend=no": false} {
		doc := readOne(t, bytes.Replace(b, []byte("<cbc:BuyerReference>"), []byte("<cbc:Note>"+note+"</cbc:Note>\n<cbc:Note>Tack!</cbc:Note>\n<cbc:BuyerReference>"), 1))
		if doc.Resend != want || len(doc.Notes) != 1 || doc.Notes[0] != "Tack!" {
			t.Errorf("%q: resend %v, notes %q; want resend %v and the note taken out", note, doc.Resend, doc.Notes, want)
		}
	}
	if doc := readOne(t, b); doc.Resend {
		t.Error("a document without the note is a resend")
	}
}
