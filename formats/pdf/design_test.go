package pdf

import (
	"bytes"
	"compress/zlib"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// zbar decodes the QR codes on the first page of a PDF, as a phone's
// camera would read the printed page: pdftoppm rasterises it at 150 dpi
// and zbarimg (Debian zbar-tools) reads every code it finds.
func zbar(t *testing.T, pdf []byte) []string {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (poppler-utils, zbar-tools): the Swish code cannot be scanned back", tool)
		}
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pages) != 1 {
		t.Fatalf("pdftoppm made %d pages", len(pages))
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", pages[0]).Output()
	if err != nil && len(out) == 0 {
		return nil // zbarimg exits 4 when it finds no code
	}
	return strings.Fields(strings.TrimSpace(string(out)))
}

// The Swish QR code on the PDF scans back, with zbar, to the payee's
// Swish number, the amount due and the OCR reference: what the Swish app
// prefills. An invoice collected by AutoGiro has no code at all.
func TestSwishQRScansBack(t *testing.T) {
	r, err := NewRenderer(Options{Look: &formats.Look{Colour: "#0B5CAD"}})
	if err != nil {
		t.Fatal(err)
	}
	d := swedishInvoice(2)
	pay := d.OwnPayment()
	pay.Swish = "1231181189"
	d.Payment = &pay
	codes := zbar(t, render(t, r, d))
	amount := strings.Replace(d.Totals.Payable.String(), ".", ",", 1)
	want := "C1231181189;" + amount + ";" + d.PaymentReference() + ";0"
	if len(codes) != 1 || codes[0] != want {
		t.Fatalf("zbar reads %q, want one code %q", codes, want)
	}

	d.Payment = &formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "101", Reference: d.PaymentReference(), Swish: "1231181189"}
	if codes := zbar(t, render(t, r, d)); len(codes) != 0 {
		t.Fatalf("an invoice collected by AutoGiro shows a code: %q", codes)
	}
}

// The biller's design reaches the PDF: its logo (the image is there), its
// contact block and footer, its message, and the letter's language.
func TestBillerDesign(t *testing.T) {
	look := &formats.Look{LogoPNG: testLogo(), Colour: "#0B5CAD", Phone: "08-123 456 78", Email: "kund@demo.example",
		Web: "https://demo.example", Footer: "Demo AB · styrelsens säte Stockholm"}
	r, err := NewRenderer(Options{Look: look})
	if err != nil {
		t.Fatal(err)
	}
	d := swedishInvoice(2)
	d.Letter = &formats.Letter{Language: "sv", Message: "Byt till e-faktura i din internetbank: det är enklare och billigare."}
	pdf := render(t, r, d)
	content := pageContent(t, pdf)
	if !bytes.Contains(content, []byte("/Im1 Do")) {
		t.Error("the logo is not drawn")
	}
	if !bytes.Contains(content, []byte("0.043 0.361 0.678 rg")) {
		t.Error("the accent colour #0B5CAD is not used")
	}
	text := pdftotext(t, pdf)
	wantText(t, text, "Faktura", "08-123 456 78", "kund@demo.example", "https://demo.example", "styrelsens säte Stockholm",
		"Byt till e-faktura i din internetbank", "Förfallodatum")

	d.Letter = &formats.Letter{Language: "en", Message: "Switch to e-invoicing."}
	text = pdftotext(t, render(t, r, d))
	wantText(t, text, "Invoice", "Invoice number", "Due date", "Amount due", "VAT breakdown", "Switch to e-invoicing.")
	for _, sv := range []string{"Fakturanummer", "Förfallodatum", "Att betala", "Momsspecifikation"} {
		if strings.Contains(text, sv) {
			t.Errorf("the English invoice says %q", sv)
		}
	}
}

// pageContent is every compressed stream of a PDF, inflated: the page
// contents among them.
func pageContent(t *testing.T, pdf []byte) []byte {
	t.Helper()
	var all []byte
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte(">>\nstream\n"))
		if i < 0 {
			return all
		}
		rest = rest[i+len(">>\nstream\n"):]
		j := bytes.Index(rest, []byte("\nendstream"))
		if j < 0 {
			t.Fatal("a stream without its end")
		}
		if z, err := zlib.NewReader(bytes.NewReader(rest[:j])); err == nil {
			b, _ := io.ReadAll(z)
			all = append(all, b...)
		}
		rest = rest[j:]
	}
}

// Every family renders the whole repertoire (Swedish, Finnish, Polish
// and Romanian names among them) and embeds its own faces.
func TestFontFamilies(t *testing.T) {
	for family := range Families {
		r, err := NewRenderer(Options{Look: &formats.Look{Font: family}})
		if err != nil {
			t.Fatalf("%s: %v", family, err)
		}
		d := swedishInvoice(1)
		d.Buyer.Name = "Åsa Öberg-Łukasiewicz Ștefănescu"
		pdf := render(t, r, d)
		name := "+" + Families[family][0].name + "/" // after the subset tag
		if !bytes.Contains(pdf, []byte(name)) {
			t.Errorf("%s: the PDF does not embed %s", family, name)
		}
		wantText(t, pdftotext(t, pdf), "Åsa Öberg-Łukasiewicz Ștefănescu")
	}
	if _, err := NewRenderer(Options{Look: &formats.Look{Font: "comic"}}); err == nil {
		t.Error("an unknown font family was accepted")
	}
}

// A paper invoice sent with a link prints the page's URL and a QR code of
// it, which zbar reads back beside the Swish code.
func TestLinkOnPaper(t *testing.T) {
	r, err := NewRenderer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := swedishInvoice(2)
	pay := d.OwnPayment()
	pay.Swish = "1231181189"
	d.Payment = &pay
	link := "https://faktura.demo.example/i/F0000001-0000001.print/tb8qqo/Xc2k7vQ4p1Lr9sZbW3yT0g"
	d.Letter = &formats.Letter{Language: "sv", Link: link}
	pdf := render(t, r, d)
	wantText(t, pdftotext(t, pdf), "Se och betala fakturan på webben", link)
	codes := zbar(t, pdf)
	if len(codes) != 2 || !slices.Contains(codes, link) {
		t.Fatalf("zbar reads %q, want the Swish code and %s", codes, link)
	}
}
