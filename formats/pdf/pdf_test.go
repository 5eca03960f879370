package pdf

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/ubl"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs under testdata/golden")

const peppolDir = "../../../shared/testdata/peppol/openpeppol-examples"

func amt(s string) formats.Amount { return formats.MustAmount(s) }

func ptr(a formats.Amount) *formats.Amount { return &a }

// swedishInvoice builds a consumer invoice with n lines over three VAT
// rates, payable to bankgiro 991-2346 with a Luhn-valid OCR number.
func swedishInvoice(n int) *formats.Document {
	ocr := "1234567890"
	ocr += string(formats.LuhnDigit(ocr))
	d := &formats.Document{
		Kind:           formats.KindInvoice,
		Number:         "2026-00417",
		TypeCode:       "380",
		IssueDate:      formats.Date{Year: 2026, Month: 3, Day: 2},
		DueDate:        formats.Date{Year: 2026, Month: 4, Day: 1},
		Currency:       "SEK",
		BuyerReference: "Åsa Öberg",
		OrderReference: "PO-88812",
		Notes:          []string{"Tack för att ni handlar hos Ängsö Trädgård. Vid frågor om fakturan, ring 08-123 456 78."},
		PaymentTerms:   "30 dagar netto. Dröjsmålsränta enligt räntelagen.",
		Seller: formats.Party{
			Name:            "Ängsö Trädgård & Blomsterhandel AB",
			LegalID:         formats.Identifier{Scheme: "0007", Value: "5560360793"},
			VATID:           "SE556036079301",
			TaxRegistration: "Godkänd för F-skatt",
			Address:         formats.Address{Street: "Storgatan 12", PostalCode: "72211", City: "Västerås", Country: "SE"},
			Contact:         formats.Contact{Name: "Björn Åkesson", Phone: "021-12 34 56", Email: "faktura@angso.example"},
		},
		Buyer: formats.Party{
			Name:           "Göran Älvström",
			CustomerNumber: "10077",
			Address:        formats.Address{Street: "Östra Ringvägen 5 B", Additional: "Lgh 1102", PostalCode: "11422", City: "Stockholm", Country: "SE"},
		},
		PaymentMeans: []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, PaymentID: ocr, Account: "9912346", AccountScheme: formats.AccountBankgiro}},
	}
	rates := []struct {
		rate formats.Decimal
		pct  int64
	}{{"25", 25}, {"12", 12}, {"6", 6}}
	base := map[formats.Decimal]formats.Amount{}
	var sum formats.Amount
	for i := 0; i < n; i++ {
		r := rates[i%3]
		qty := int64(i%7 + 1)
		price := formats.Amount(1995 + int64(i)*4711%100000)
		net := price * formats.Amount(qty)
		name := fmt.Sprintf("Krukväxt nr %d, ädelgran på åkerjord", i+1)
		if i == 3 {
			name = "Säsongsskötsel av trädgård med beskärning av fruktträd, gräsklippning och lövräfsning under hela hösten"
		}
		d.Lines = append(d.Lines, formats.Line{
			ID: fmt.Sprint(i + 1), Quantity: formats.Decimal(fmt.Sprint(qty)), Unit: "C62", NetAmount: net,
			Item:  formats.LineItem{Name: name, VATCategory: "S", VATRate: r.rate},
			Price: formats.Price{Amount: formats.Decimal(price.String())},
		})
		base[r.rate] += net
		sum += net
	}
	var tax formats.Amount
	for _, r := range rates {
		if base[r.rate] == 0 {
			continue
		}
		t := formats.RatAmount(new(big.Rat).Mul(base[r.rate].Rat(), big.NewRat(r.pct, 100)))
		d.VAT = append(d.VAT, formats.VATBreakdown{Category: "S", Rate: r.rate, TaxableAmount: base[r.rate], TaxAmount: t})
		tax += t
	}
	d.Totals = formats.Totals{LineExtension: sum, TaxExclusive: sum, TaxTotal: ptr(tax), TaxInclusive: sum + tax, Payable: sum + tax}
	return d
}

// creditNote credits part of the Swedish invoice.
func creditNote() *formats.Document {
	d := swedishInvoice(3)
	d.Kind = formats.KindCreditNote
	d.TypeCode = "381"
	d.Number = "K-2026-0012"
	d.Notes = []string{"Kredit för skadade växter vid leverans."}
	d.Preceding = []formats.PrecedingInvoice{{Number: "2026-00417", IssueDate: formats.Date{Year: 2026, Month: 3, Day: 2}}}
	d.DueDate = formats.Date{}
	d.PaymentMeans = nil
	d.PaymentTerms = ""
	return d
}

// testLogo is a small PNG drawn in code, so the golden files do not depend
// on an image file.
func testLogo() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 120, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 120; x++ {
			c := uint8(40 + x)
			if (x/20+y/20)%2 == 0 {
				img.Pix[img.PixOffset(x, y)+0] = 20
				img.Pix[img.PixOffset(x, y)+1] = c
				img.Pix[img.PixOffset(x, y)+2] = 60
			} else {
				img.Pix[img.PixOffset(x, y)+0] = 240
				img.Pix[img.PixOffset(x, y)+1] = 240
				img.Pix[img.PixOffset(x, y)+2] = 230
			}
			img.Pix[img.PixOffset(x, y)+3] = 255
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

var (
	rendererOnce sync.Once
	testR        *Renderer
	testRSwish   *Renderer
)

func renderers(t testing.TB) (*Renderer, *Renderer) {
	rendererOnce.Do(func() {
		var err error
		if testR, err = NewRenderer(Options{}); err != nil {
			t.Fatal(err)
		}
		if testRSwish, err = NewRenderer(Options{Logo: testLogo(), SwishPayee: "123 456 78 90"}); err != nil {
			t.Fatal(err)
		}
	})
	return testR, testRSwish
}

func render(t testing.TB, r *Renderer, d *formats.Document) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := r.Render(&b, d); err != nil {
		t.Fatalf("render %s: %v", d.Label(), err)
	}
	return b.Bytes()
}

// pdftotext returns the text of a PDF with no-break spaces made plain.
func pdftotext(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed; install it to check the rendered text")
	}
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("pdftotext complains: %s", stderr.String())
	}
	return plain(string(out))
}

func plain(s string) string { return strings.ReplaceAll(s, nbsp, " ") }

// wantText checks that every string appears in the text.
func wantText(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, plain(w)) {
			t.Errorf("pdftotext does not find %q", plain(w))
		}
	}
}

// amounts lists every figure the PDF must show: each line amount, each VAT
// base and amount, and the amount to pay.
func amounts(d *formats.Document) []string {
	var out []string
	for _, l := range d.Lines {
		out = append(out, l.NetAmount.Swedish())
	}
	for _, v := range d.VAT {
		out = append(out, v.TaxableAmount.Swedish(), v.TaxAmount.Swedish())
	}
	return append(out, d.Totals.Payable.Swedish())
}

func TestSwedishInvoice(t *testing.T) {
	_, r := renderers(t)
	d := swedishInvoice(40)
	pdf := render(t, r, d)
	if n := PageCount(pdf); n != 2 {
		t.Errorf("PageCount = %d, want 2 (40 lines span two pages)", n)
	}
	text := pdftotext(t, pdf)
	wantText(t, text, amounts(d)...)
	wantText(t, text, "Faktura", "Sida 1 av 2", "Sida 2 av 2", d.PaymentReference(), "991-2346",
		"Att betala", d.Totals.Payable.Swedish()+" SEK", "2026-04-01", "Förfallodatum",
		"Göran Älvström", "Östra Ringvägen 5 B", "114 22 Stockholm", "Ängsö Trädgård & Blomsterhandel AB",
		"Org.nr 556036-0793", "Momsreg.nr SE556036079301", "Godkänd för F-skatt", "Åsa Öberg",
		"Krukväxt nr 40, ädelgran på åkerjord", "Moms 25 %", "Moms 12 %", "Moms 6 %", "Betala med Swish", "123 456 78 90")
	if strings.Contains(text, "Kreditnota") {
		t.Error("an invoice says Kreditnota")
	}
	golden(t, "invoice", pdf)
}

func TestCreditNote(t *testing.T) {
	r, _ := renderers(t)
	for _, tc := range []struct {
		name string
		kind formats.Kind
	}{{"kind", formats.KindCreditNote}, {"type code 381 only", formats.KindInvoice}} {
		t.Run(tc.name, func(t *testing.T) {
			d := creditNote()
			d.Kind = tc.kind
			pdf := render(t, r, d)
			text := pdftotext(t, pdf)
			wantText(t, text, amounts(d)...)
			wantText(t, text, "Kreditnota", "Kreditnotanummer", "K-2026-0012", "Avser faktura", "2026-00417", "Er tillgodo", "betala inte")
			if strings.Contains(text, "OCR-nummer") {
				t.Error("a credit note has a payment box with an OCR number")
			}
			if tc.kind == formats.KindCreditNote {
				golden(t, "creditnote", pdf)
			}
		})
	}
}

func TestPeppolExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(peppolDir, "*.xml"))
	if len(files) == 0 {
		t.Skipf("no Peppol examples in %s: check out the shared test data to run this test", peppolDir)
	}
	r, _ := renderers(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var docs []*formats.Document
			err = ubl.Format{}.Read(formats.Input{Name: filepath.Base(f), R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
				if it.Err != nil {
					return it.Err
				}
				docs = append(docs, it.Doc)
				return nil
			})
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			for _, d := range docs {
				pdf := render(t, r, d)
				if PageCount(pdf) < 1 {
					t.Errorf("PageCount = %d", PageCount(pdf))
				}
				text := pdftotext(t, pdf)
				wantText(t, text, amounts(d)...)
				if d.Number != "" {
					wantText(t, text, d.Number)
				}
				if d.Kind == formats.KindCreditNote || d.TypeCode == "381" {
					wantText(t, text, "Kreditnota")
				}
				if ref := d.PaymentReference(); ref != "" && d.Kind != formats.KindCreditNote {
					wantText(t, text, ref)
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	_, r := renderers(t)
	d := swedishInvoice(12)
	a, b := render(t, r, d), render(t, r, d)
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same document differ")
	}
	if !bytes.Contains(a, []byte("/CreationDate(D:20260302")) {
		t.Error("the creation date is not the invoice date")
	}
}

// TestConcurrent renders from many goroutines with one Renderer; run it with
// -race to check that the shared parsed fonts are only read.
func TestConcurrent(t *testing.T) {
	_, r := renderers(t)
	want := render(t, r, swedishInvoice(5))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				var b bytes.Buffer
				if err := r.Render(&b, swedishInvoice(5)); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Error("concurrent rendering differs")
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestNeverPanics renders documents no parser would produce.
func TestNeverPanics(t *testing.T) {
	_, r := renderers(t)
	long := strings.Repeat("Långt ord utan slut ", 2000)
	word := strings.Repeat("ÅÄÖ", 5000)
	huge := formats.Amount(1<<63 - 1)
	neg := formats.Amount(-1 << 63)
	many := swedishInvoice(3)
	for i := 0; i < 60; i++ {
		many.VAT = append(many.VAT, formats.VATBreakdown{Category: "E", ExemptionReason: long, TaxableAmount: huge})
	}
	weird := swedishInvoice(2)
	weird.Lines[0].Quantity = "not a number"
	weird.Lines[0].Price.Amount = "1e9999"
	weird.Lines[1].Item.VATRate = "-0.000000000000000000000000001"
	weird.PaymentMeans = []formats.PaymentMeans{{AccountScheme: formats.AccountIBAN, Account: word, ServiceID: long, PaymentID: long}}
	weird.Totals.Rounding = ptr(neg)
	weird.Totals.Prepaid = ptr(huge)
	weird.Totals.AllowanceTotal = ptr(neg)
	weird.Currency = word
	docs := map[string]*formats.Document{
		"empty":      {},
		"many VAT":   many,
		"weird":      weird,
		"1000 lines": swedishInvoice(1000),
	}
	longText := swedishInvoice(2)
	longText.Seller.Name, longText.Buyer.Name, longText.Number = long, word, long
	longText.Buyer.Address.Street, longText.Notes = word, []string{long, word}
	longText.Lines[0].Item.Name, longText.Lines[0].Item.Description, longText.Lines[1].Item.Name = long, word, word
	longText.Totals.Payable = huge
	docs["long texts"] = longText
	for name, d := range docs {
		t.Run(name, func(t *testing.T) {
			pdf := render(t, r, d)
			if PageCount(pdf) < 1 {
				t.Errorf("PageCount = %d", PageCount(pdf))
			}
		})
	}
	if err := r.Render(&bytes.Buffer{}, nil); err == nil {
		t.Error("a nil document renders without error")
	}
}

func TestSwishPayload(t *testing.T) {
	d := swedishInvoice(1)
	d.Totals.Payable = amt("1234.50")
	tests := []struct {
		name   string
		edit   func(d *formats.Document)
		credit bool
		want   string
	}{
		{"OCR as message", nil, false, "C1234567890;1234,50;" + d.PaymentReference() + ";0"},
		{"invoice number without OCR", func(d *formats.Document) { d.PaymentMeans = nil }, false, "C1234567890;1234,50;2026-00417;0"},
		{"message URL-encoded", func(d *formats.Document) { d.PaymentMeans = nil; d.Number = "Nr 5/å" }, false, "C1234567890;1234,50;Nr%205%2F%C3%A5;0"},
		{"not SEK", func(d *formats.Document) { d.Currency = "EUR" }, false, ""},
		{"nothing to pay", func(d *formats.Document) { d.Totals.Payable = 0 }, false, ""},
		{"credit note", nil, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := *d
			if tc.edit != nil {
				tc.edit(&c)
			}
			if got := swishPayload("1234567890", &c, tc.credit); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := NewRenderer(Options{SwishPayee: "12345"}); err == nil {
		t.Error("a 5-digit Swish number is accepted")
	}
	if _, err := NewRenderer(Options{Logo: []byte("GIF89a")}); err == nil {
		t.Error("a logo that is no PNG is accepted")
	}
}

func TestAttached(t *testing.T) {
	own := []byte("%PDF-1.7 the invoice")
	other := []byte("%PDF-1.4 a timesheet")
	tests := []struct {
		name string
		att  []formats.Attachment
		want []byte
	}{
		{"none", nil, nil},
		{"not a PDF", []formats.Attachment{{MimeCode: "image/png", Data: []byte("\x89PNG")}}, nil},
		{"says PDF, is not", []formats.Attachment{{MimeCode: "application/pdf", Data: []byte("<html>")}}, nil},
		{"by URI only", []formats.Attachment{{MimeCode: "application/pdf", URI: "https://example.com/a.pdf"}}, nil},
		{"the only PDF", []formats.Attachment{{MimeCode: "application/pdf", Data: other}}, other},
		{"named for the invoice wins", []formats.Attachment{{MimeCode: "application/pdf", Data: other, Description: "Timesheet"}, {MimeCode: "Application/PDF", Data: own, Filename: "Faktura 2026-00417.pdf"}}, own},
		{"id is the invoice number", []formats.Attachment{{MimeCode: "application/pdf", Data: other}, {ID: "2026-00417", MimeCode: "application/pdf", Data: own}}, own},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := swedishInvoice(1)
			d.Attachments = tc.att
			got, ok := Attached(d)
			if ok != (tc.want != nil) || !bytes.Equal(got, tc.want) {
				t.Errorf("Attached = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestPageCount(t *testing.T) {
	tests := []struct {
		pdf  string
		want int
	}{
		{"", 0},
		{"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> << /Type /Page >> << /Type/Page/Parent 2 0 R >>", 2},
		{"<</Type/Pages/Count 7/Kids[...]>> objects in a stream", 7},
		{"/Type /PageLabel /Type /Page", 1},
	}
	for _, tc := range tests {
		if got := PageCount([]byte(tc.pdf)); got != tc.want {
			t.Errorf("PageCount(%q) = %d, want %d", tc.pdf, got, tc.want)
		}
	}
}

// golden renders page 1 at 50 dpi and compares it with
// testdata/golden/<name>.png; -update rewrites the file.
func golden(t *testing.T, name string, pdf []byte) {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed; install it to compare the rendering")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", name+".png")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := pixelDiff(t, got, want); diff > 0.005 {
		os.WriteFile(filepath.Join("testdata", "golden", name+".got.png"), got, 0o644)
		t.Errorf("page 1 differs from %s in %.2f%% of its pixels (limit 0.5%%); see %s.got.png, run -update if the change is meant", path, diff*100, name)
	}
}

// pixelDiff is the fraction of pixels that differ visibly between two PNGs.
func pixelDiff(t *testing.T, a, b []byte) float64 {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		return 1
	}
	r := ia.Bounds()
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := ia.At(x, y).RGBA()
			r2, g2, b2, _ := ib.At(x, y).RGBA()
			if absDiff(r1, r2) > 0x1000 || absDiff(g1, g2) > 0x1000 || absDiff(b1, b2) > 0x1000 {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
