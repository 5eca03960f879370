package ubl

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

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
