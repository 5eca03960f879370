package csv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"golang.org/x/text/encoding/charmap"
)

const examplePath = "../../examples/invoices.csv"

// read reads data with f and returns the items and Read's error.
func read(t testing.TB, f Format, data []byte) ([]formats.Item, error) {
	t.Helper()
	var items []formats.Item
	err := f.Read(formats.Input{Name: "test.csv", R: bytes.NewReader(data), Size: int64(len(data))}, func(it formats.Item) error {
		if it.Index != len(items) {
			t.Fatalf("item index %d, want %d", it.Index, len(items))
		}
		if (it.Doc == nil) == (it.Err == nil) {
			t.Fatalf("item %d: want exactly one of Doc and Err, got %v and %v", it.Index, it.Doc, it.Err)
		}
		items = append(items, it)
		return nil
	})
	return items, err
}

// docs reads data and fails the test on any error.
func docs(t testing.TB, data []byte) []*formats.Document {
	t.Helper()
	items, err := read(t, Format{}, data)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var out []*formats.Document
	for _, it := range items {
		if it.Err != nil {
			t.Fatalf("item %d (%s): %v", it.Index, it.Source, it.Err)
		}
		out = append(out, it.Doc)
	}
	return out
}

func example(t testing.TB) []byte {
	t.Helper()
	b, err := readExample()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readExample() ([]byte, error) { return os.ReadFile(examplePath) }

func TestExample(t *testing.T) {
	ds := docs(t, example(t))
	if len(ds) != 8 {
		t.Fatalf("got %d documents, want 8", len(ds))
	}
	tests := []struct {
		number, source  string
		kind            formats.Kind
		lines           int
		excl, vat, incl string
		ocr             string
		check           func(d *formats.Document) bool
		what            string
	}{
		{"2025-1001", "lines 2-3", formats.KindInvoice, 2, "12098.00", "2891.88", "14989.88", "2025100104",
			func(d *formats.Document) bool {
				return d.Buyer.Endpoint == formats.Identifier{Scheme: "0007", Value: "5567432108"} && len(d.VAT) == 2 && d.VAT[1].Rate == "6" && d.VAT[1].TaxAmount == formats.MustAmount("41.88") && d.BuyerReference == "Anna Berg"
			}, "Peppol id, two VAT rates"},
		{"2025-1002", "lines 4-5", formats.KindInvoice, 2, "1083.03", "270.76", "1353.79", "2025100203",
			func(d *formats.Document) bool {
				return d.Buyer.Contact.Email == "lisa.andersson@example.se" && d.Lines[0].Quantity == "843.5" && d.Lines[0].Price.Amount == "1.2375" && d.Lines[0].NetAmount == formats.MustAmount("1043.83")
			}, "e-mail, four-decimal price"},
		{"2025-1003", "line 6", formats.KindInvoice, 1, "407.88", "101.97", "509.85", "2025100302",
			func(d *formats.Document) bool {
				return d.Buyer.Contact.Phone == "070-123 45 67" && !d.Buyer.Address.Postal() && d.Buyer.Address.Country == "SE" && strings.Contains(d.Notes[0], "; betala")
			}, "mobile only, quoted note with ;"},
		{"2025-1004", "lines 7-9", formats.KindInvoice, 3, "1394.58", "348.65", "1743.23", "2025100401",
			func(d *formats.Document) bool { return d.Buyer.PersonalID == "198112189876" }, "personnummer"},
		{"2025-1005", "line 10", formats.KindInvoice, 1, "810.56", "202.64", "1013.20", "2025100500",
			func(d *formats.Document) bool {
				return d.MandateReference() == "10053" && d.PaymentMeans[0].Code == formats.MeansDirectDebit && d.Bankgiro() == "9912346"
			}, "AutoGiro"},
		{"2025-1006", "lines 11-12", formats.KindInvoice, 2, "4143.00", "1035.75", "5178.75", "2025100609",
			func(d *formats.Document) bool {
				return d.Buyer.Address.Postal() && d.Buyer.Address.City == "Göteborg" && d.Buyer.Address.Country == "SE" && d.Buyer.Contact == formats.Contact{}
			}, "postal address only"},
		{"2025-1007", "line 13", formats.KindCreditNote, 1, "1900.00", "475.00", "2375.00", "2025100708",
			func(d *formats.Document) bool {
				return d.TypeCode == "381" && len(d.Preceding) == 1 && d.Preceding[0].Number == "2025-1001" && d.DueDate.IsZero()
			}, "credit note"},
		{"2025-1008", "lines 14-15", formats.KindInvoice, 2, "684.88", "171.22", "856.10", "2025100807",
			func(d *formats.Document) bool { return d.ForcedChannel == "print" }, "forced channel"},
	}
	for i, tt := range tests {
		d := ds[i]
		t.Run(tt.number, func(t *testing.T) {
			if d.Number != tt.number || d.Source != tt.source || d.Kind != tt.kind || len(d.Lines) != tt.lines {
				t.Errorf("got %s %s at %s with %d lines, want %s %s at %s with %d", d.Kind, d.Number, d.Source, len(d.Lines), tt.kind, tt.number, tt.source, tt.lines)
			}
			if d.Totals.TaxExclusive.String() != tt.excl || d.Totals.TaxTotal.String() != tt.vat || d.Totals.Payable.String() != tt.incl {
				t.Errorf("totals %s + %s = %s, want %s + %s = %s", d.Totals.TaxExclusive, d.Totals.TaxTotal, d.Totals.Payable, tt.excl, tt.vat, tt.incl)
			}
			if d.PaymentReference() != tt.ocr || formats.CheckOCR(d.PaymentReference(), true) != nil {
				t.Errorf("OCR %q, want %q with valid check and length digits", d.PaymentReference(), tt.ocr)
			}
			if d.Seller.Name != "Multikanal Demo Energi AB" || d.Seller.LegalID.Value != "5566123450" || d.Bankgiro() != "9912346" || d.Currency != "SEK" || d.IssueDate.IsZero() {
				t.Errorf("seller, bankgiro, currency or date wrong: %+v %q %q", d.Seller, d.Bankgiro(), d.Currency)
			}
			if !tt.check(d) {
				t.Errorf("%s: unexpected document %+v", tt.what, d)
			}
		})
	}
}

// variant rewrites the example with another separator, decimal mark,
// encoding and byte order mark.
func variant(t testing.TB, src []byte, sep rune, mark byte, enc string) []byte {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(src))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = sep
	for n, rec := range recs {
		if n > 0 {
			for i, v := range rec {
				if columns[columnIndex[recs[0][i]]].numeric {
					rec[i] = strings.ReplaceAll(v, ",", string(mark))
				}
			}
		}
		w.Write(rec)
	}
	w.Flush()
	out := buf.Bytes()
	switch enc {
	case "utf-8-bom":
		out = append([]byte("\xef\xbb\xbf"), out...)
	case "windows-1252":
		out, err = charmap.Windows1252.NewEncoder().Bytes(out)
	case "iso-8859-1":
		out, err = charmap.ISO8859_1.NewEncoder().Bytes(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEncodingsSeparatorsDecimals(t *testing.T) {
	src := example(t)
	want := docs(t, src)
	for _, enc := range []string{"utf-8", "utf-8-bom", "windows-1252", "iso-8859-1"} {
		for _, sep := range []rune{';', ','} {
			for _, mark := range []byte{',', '.'} {
				name := enc + " " + string(sep) + " decimal " + markName(mark)
				t.Run(name, func(t *testing.T) {
					data := variant(t, src, sep, mark, enc)
					if enc != "utf-8" && enc != "utf-8-bom" && bytes.Contains(data, []byte("ö")) {
						t.Fatal("variant is still UTF-8")
					}
					if !(Format{}).Sniff(data[:min(len(data), formats.SniffSize)]) {
						t.Error("Sniff does not recognise it")
					}
					got := docs(t, data)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("documents differ from the UTF-8 ; decimal comma original")
					}
				})
			}
		}
	}
}

const mini = "invoice_number;issue_date;seller_name;buyer_name;line_description;line_quantity;line_price;line_vat_rate\n"

// Whole-file problems: Read returns an error and emits nothing.
func TestFileErrors(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		data string
		want string
	}{
		{"empty", Format{}, "", "empty"},
		{"blank", Format{}, "\n \n", "no header row"},
		{"no separator", Format{}, "invoice_number\n1\n", "has no ; or ,"},
		{"both separators", Format{}, "invoice_number;issue_date,seller_name\n", "both ; and ,"},
		{"unknown column", Format{}, strings.Replace(mini, "line_price", "line_prise", 1) + "1;2025-01-01;S;B;x;1;1;25\n", `line 1, column line_prise: unknown column (did you mean line_price?)`},
		{"duplicate column", Format{}, strings.TrimSuffix(mini, "\n") + ";seller_name\n", "column seller_name: appears twice in the header row, as column 3 and 9"},
		{"missing column", Format{}, "invoice_number;issue_date;seller_name\n1;2025-01-01;S\n", "lacks the required column(s) buyer_name, line_description, line_quantity, line_price, line_vat_rate"},
		{"empty column name", Format{}, strings.TrimSuffix(mini, "\n") + ";\n", "column 9 of the header row has no name"},
		{"header only", Format{}, mini, "not followed by any invoice rows"},
		{"field count", Format{}, mini + "1;2025-01-01;S;B;x;1;1\n", "line 2: the row has 7 values but the header row names 8 columns"},
		{"field count comma", Format{}, strings.ReplaceAll(mini, ";", ",") + "1,2025-01-01,S,B,x,1,12,50,25\n", `a decimal comma, must be quoted: "12,50"`},
		{"bare quote", Format{}, mini + "1;2025-01-01;S;B;x\"y;1;1;25\n", `line 2: bare " in non-quoted-field`},
		{"unclosed quote", Format{}, mini + "1;2025-01-01;S;B;\"x;1;1;25\n2;2025-01-01;S;B;x;1;1;25\n", "extraneous or missing"},
		{"row too long", Format{MaxRowBytes: 200}, mini + "1;2025-01-01;S;B;\"" + strings.Repeat("x\n", 150) + "\";1;1;25\n", "line 2: the row is longer than 200 bytes"},
		{"mixed marks", Format{}, mini + "1;2025-01-01;S;B;x;1,5;10;25\n2;2025-01-01;S;B;x;1;2.5;25\n", `mixes decimal marks, a comma at line 2, column line_quantity: "1,5" and a point at line 3, column line_price: "2.5"`},
		{"ambiguous mark", Format{}, mini + "1;2025-01-01;S;B;x;1,250;10;25\n", `decimal mark is ambiguous: at line 2, column line_quantity: "1,250"`},
		{"utf-16", Format{}, "\xff\xfei\x00n\x00", "UTF-16"},
		{"nul", Format{}, mini + "1;2025-01-01;S;B;x\x00;1;1;25\n", "line 2: the file has a NUL byte"},
		{"bom then latin1", Format{}, "\xef\xbb\xbf" + mini + "1;2025-01-01;S;B\xf6;x;1;1;25\n", "line 2: the file starts with a UTF-8 byte order mark but this line is not UTF-8"},
		{"undefined byte", Format{}, mini + "1;2025-01-01;S;B\xf6;x;1;1;25\n2;2025-01-01;S;B\x81;x;1;1;25\n", "line 3: byte 0x81 is neither UTF-8 nor"},
		{"header too long", Format{}, strings.Repeat("a", 70000), "header row is longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := read(t, tt.f, []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
			if len(items) != 0 {
				t.Errorf("emitted %d items before the error", len(items))
			}
		})
	}
}

// Per-invoice problems: the invoice becomes an Item.Err naming line,
// column, value and invoice; the invoices around it are read.
func TestInvoiceErrors(t *testing.T) {
	hdr := "type;invoice_number;issue_date;due_date;seller_name;buyer_name;buyer_email;channel;ocr;line_description;line_quantity;line_unit;line_price;line_vat_rate;line_vat_category;line_amount;total_excl_vat;total_vat;total_incl_vat;vat_exemption_reason;preceding_invoice_date\n"
	good := "invoice;%s;2025-03-01;2025-03-31;Säljare AB;Köpare;k@example.se;;;Vara;2;C62;10,00;25;;20,00;20,00;5,00;25,00;;\n"
	row := func(number string, edit func(f []string)) string {
		f := strings.Split(strings.TrimSuffix(strings.Replace(good, "%s", number, 1), "\n"), ";")
		if edit != nil {
			edit(f)
		}
		return strings.Join(f, ";") + "\n"
	}
	set := func(i int, v string) func(f []string) { return func(f []string) { f[i] = v } }
	tests := []struct {
		name string
		f    Format
		rows []string // the invoice under test, between two good ones
		want []string
	}{
		{"bad number", Format{}, []string{row("1003", set(12, "12,5,0"))}, []string{`line 3, column line_price: "12,5,0" is not a number (invoice 1003)`}},
		{"bad date", Format{}, []string{row("1003", set(2, "2025-02-30"))}, []string{`line 3, column issue_date: "2025-02-30" is not a date in the form YYYY-MM-DD (invoice 1003)`}},
		{"missing value", Format{}, []string{row("1003", set(10, ""))}, []string{`line 3, column line_quantity: is empty; every row is an invoice line`}},
		{"missing invoice value", Format{}, []string{row("1003", set(5, ""))}, []string{`line 3, column buyer_name: is empty on every row of the invoice`}},
		{"missing number", Format{}, []string{row("", nil)}, []string{`line 3, column invoice_number: is empty`}},
		{"invoice columns differ", Format{}, []string{row("1003", nil), row("1003", set(3, "2025-04-30"))}, []string{`line 4, column due_date: "2025-04-30" differs from "2025-03-31" on line 3`, "(invoice 1003)"}},
		{"too many decimals", Format{}, []string{row("1003", set(15, "20,001"))}, []string{`line 3, column line_amount: "20,001" has more than two decimals`}},
		{"thousand separator", Format{}, []string{row("1003", set(12, "1.000,00"))}, []string{`"1.000,00" has a thousands separator`}},
		{"other mark", Format{}, []string{row("1003", set(10, "1.250"))}, []string{`"1.250" has a decimal point, but this file writes decimals with a comma (see line 2, column line_price: "10,00")`}},
		{"line amount", Format{}, []string{row("1003", set(15, "21,00"))}, []string{`column line_amount: 21,00, but line_quantity × line_price is 2 × 10,00 = 20,00`}},
		{"total vat", Format{}, []string{row("1003", set(17, "5,01"))}, []string{`line 3, column total_vat: 5,01 in the file, but the lines add up to 5,00 (25 % of 20,00)`}},
		{"total incl", Format{}, []string{row("1003", set(18, "26,00"))}, []string{`column total_incl_vat: 26,00 in the file, but the lines add up to 25,00`}},
		{"bad type", Format{}, []string{row("1003", set(0, "debit"))}, []string{`column type: "debit" is not a document type`}},
		{"bad channel", Format{Channels: []string{"email", "print"}}, []string{row("1003", set(7, "fax"))}, []string{`column channel: "fax" is not a channel; write one of email, print`}},
		{"bad channel name", Format{}, []string{row("1003", set(7, "e-mail"))}, []string{`column channel: "e-mail" is not a channel name`}},
		{"bad email", Format{}, []string{row("1003", set(6, "k.example.se"))}, []string{`column buyer_email: "k.example.se" is not an e-mail address`}},
		{"bad unit", Format{}, []string{row("1003", set(11, "st"))}, []string{`column line_unit: "st" is not a UN/ECE Recommendation 20 unit code`}},
		{"bad category", Format{}, []string{row("1003", set(14, "X"))}, []string{`column line_vat_category: "X" is not a VAT category`}},
		{"rate over 100", Format{}, []string{row("1003", set(13, "250"))}, []string{`column line_vat_rate: 250 is not a VAT rate`}},
		{"exemption without category", Format{}, []string{row("1003", set(19, "Momsfri"))}, []string{`column vat_exemption_reason: is set but no line has VAT category E`}},
		{"preceding date alone", Format{}, []string{row("1003", set(20, "2025-01-01"))}, []string{`column preceding_invoice: is empty but preceding_invoice_date is set`}},
		{"too many rows", Format{MaxInvoiceRows: 2}, []string{row("1003", nil), row("1003", nil), row("1003", nil)}, []string{`line 5: the invoice has more than 2 rows`}},
		{"several problems", Format{}, []string{row("1003", func(f []string) { f[12] = "x"; f[13] = "y" })}, []string{`column line_price: "x" is not a number`, `column line_vat_rate: "y" is not a number`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := hdr + row("1001", nil) + strings.Join(tt.rows, "") + row("1005", nil)
			items, err := read(t, tt.f, []byte(data))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(items) != 3 {
				t.Fatalf("got %d items, want 3", len(items))
			}
			if items[0].Doc == nil || items[0].Doc.Number != "1001" || items[2].Doc == nil || items[2].Doc.Number != "1005" {
				t.Fatalf("the invoices around the bad one are not intact: %+v / %+v", items[0], items[2])
			}
			if items[1].Err == nil {
				t.Fatalf("no error for the bad invoice; got %+v", items[1].Doc)
			}
			for _, w := range tt.want {
				if !strings.Contains(items[1].Err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", items[1].Err, w)
				}
			}
			var ce *Error
			if !errors.As(items[1].Err, &ce) || ce.Line == 0 {
				t.Errorf("error is not a *csv.Error with a line: %#v", items[1].Err)
			}
			if !strings.HasPrefix(items[1].Source, "line") {
				t.Errorf("source %q", items[1].Source)
			}
		})
	}
}

func TestNotConsecutive(t *testing.T) {
	data := mini +
		"1;2025-01-01;S;B;x;1;1,00;25\n" +
		"2;2025-01-01;S;B;x;1;1,00;25\n" +
		"1;2025-01-01;S;B;y;1;1,00;25\n" +
		"3;2025-01-01;S;B;x;1;1,00;25\n"
	items, err := read(t, Format{}, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 || items[1].Doc == nil || items[3].Doc == nil {
		t.Fatalf("want 4 items, 2 and 3 good: %+v", items)
	}
	for _, i := range []int{0, 2} {
		if items[i].Err == nil || !strings.Contains(items[i].Err.Error(), "rows of this invoice are not consecutive") {
			t.Errorf("item %d: %v", i, items[i].Err)
		}
	}
	if !strings.Contains(items[0].Err.Error(), "comes again at line 4") || !strings.Contains(items[2].Err.Error(), "comes again at line 2") {
		t.Errorf("errors do not say where: %v / %v", items[0].Err, items[2].Err)
	}
}

func TestDefaults(t *testing.T) {
	data := "invoice_number,issue_date,seller_name,buyer_name,buyer_street,buyer_postal_code,buyer_city,line_description,line_quantity,line_price,line_vat_rate,line_vat_category,vat_exemption_reason\n" +
		"7,2025-01-01,S,B,Gatan 1,123 45,Ort,x,3,\"0,333\",25,,\n" +
		"7,2025-01-01,S,B,Gatan 1,123 45,Ort,y,1,\"1,5\",0,,\n" +
		"7,2025-01-01,S,B,Gatan 1,123 45,Ort,z,1,\"2,00\",0,E,Sjukvård\n" +
		"7,2025-01-01,S,B,Gatan 1,123 45,Ort,w,1,\"1,00\",,O,\n"
	d := docs(t, []byte(data))[0]
	if d.Kind != formats.KindInvoice || d.Currency != "SEK" || d.Buyer.Address.Country != "SE" || d.TypeCode != "380" {
		t.Errorf("defaults: %+v", d)
	}
	cats := []string{}
	for _, l := range d.Lines {
		cats = append(cats, l.Item.VATCategory+"/"+l.Unit)
	}
	if strings.Join(cats, " ") != "S/C62 Z/C62 E/C62 O/C62" {
		t.Errorf("categories and units %v", cats)
	}
	if d.Lines[0].NetAmount != formats.MustAmount("1.00") || d.Lines[0].Price.Amount != "0.333" {
		t.Errorf("3 × 0,333 = %s", d.Lines[0].NetAmount)
	}
	if len(d.VAT) != 4 || d.VAT[2].ExemptionReason != "Sjukvård" || d.VAT[3].ExemptionReason != "Sjukvård" || d.VAT[1].ExemptionReason != "" || d.VAT[3].Rate != "" {
		t.Errorf("breakdown %+v", d.VAT)
	}
	if d.Totals.Payable != formats.MustAmount("5.75") {
		t.Errorf("payable %s, want 5.75", d.Totals.Payable)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		head string
		want bool
	}{
		{mini, true},
		{"\xef\xbb\xbf\r\n\r\n" + strings.ReplaceAll(mini, ";", ","), true},
		{"\"invoice_number\";\"issue_date\";\"buyer_name\"\r\n", true},
		{"INVOICE_NUMBER;Issue_Date;buyer_name", true},
		{"invoice_number;foo;bar\n", false},
		{"issue_date;seller_name;buyer_name\n", false},
		{"<?xml version=\"1.0\"?><Invoice/>", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := (Format{}).Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	data := example(t)
	err := Format{}.Read(formats.Input{R: bytes.NewReader(data), Size: int64(len(data))}, func(formats.Item) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Read returned %v after %d items, want stop after 1", err, n)
	}
}

func TestRoundTrip(t *testing.T) {
	sets := map[string][]*formats.Document{"example": docs(t, example(t))}
	var gen []*formats.Document
	for i := range 60 {
		gen = append(gen, genDoc(i))
	}
	sets["generated"] = gen
	for name, want := range sets {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, want...); err != nil {
				t.Fatal(err)
			}
			got := docs(t, buf.Bytes())
			if len(got) != len(want) {
				t.Fatalf("got %d documents, want %d", len(got), len(want))
			}
			for i := range got {
				g, w := *got[i], *want[i]
				g.Source, w.Source = "", ""
				if !reflect.DeepEqual(g, w) {
					t.Errorf("document %d differs:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestWriteRefuses(t *testing.T) {
	d := genDoc(1)
	d.AllowanceCharges = []formats.AllowanceCharge{{Amount: 100}}
	if err := Write(&bytes.Buffer{}, d); err == nil || !strings.Contains(err.Error(), "allowances") {
		t.Errorf("got %v, want a refusal naming allowances", err)
	}
}

// TestOneEntryPerColumn: every column's one entry says how it is read (at
// its level) and how it is written, so the writer has no list of its own.
func TestOneEntryPerColumn(t *testing.T) {
	for _, c := range columns {
		if (c.inv != nil) != (c.level == invoiceLevel) || (c.line != nil) != (c.level == lineLevel) || c.out == nil {
			t.Errorf("column %s: read as invoice %v, as line %v, written %v; level %d", c.name, c.inv != nil, c.line != nil, c.out != nil, c.level)
		}
	}
}

func TestEveryColumnDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/formats/csv.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range columns {
		if !bytes.Contains(doc, []byte("`"+c.name+"`")) {
			t.Errorf("docs/formats/csv.md does not describe column %s", c.name)
		}
	}
}

// The resend column marks an invoice sent again on purpose; the writer
// writes it back.
func TestResendColumn(t *testing.T) {
	const hdr = "invoice_number;issue_date;seller_name;buyer_name;line_description;line_quantity;line_price;line_vat_rate;resend\n"
	items, err := read(t, Format{}, []byte(hdr+
		"1;2025-03-01;S;B;x;1;1;25;yes\n"+
		"2;2025-03-01;S;B;x;1;1;25;\n"+
		"3;2025-03-01;S;B;x;1;1;25;1\n"+
		"4;2025-03-01;S;B;x;1;1;25;nej\n"+
		"5;2025-03-01;S;B;x;1;1;25;maybe\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, true, false} {
		if d := items[i].Doc; d == nil || d.Resend != want {
			t.Errorf("invoice %d: %+v, want resend %v", i+1, items[i], want)
		}
	}
	if e := items[4].Err; e == nil || !strings.Contains(e.Error(), `line 6, column resend: "maybe" is not yes or no`) {
		t.Errorf("invoice 5: %v", e)
	}
	d := genDoc(1)
	d.Resend = true
	var buf bytes.Buffer
	if err := Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	if got := docs(t, buf.Bytes()); len(got) != 1 || !got[0].Resend {
		t.Errorf("resend is lost in writing: %+v", got)
	}
}
