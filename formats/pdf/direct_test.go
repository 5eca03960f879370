package pdf

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/multikanal/multikanal/formats"
)

// testDocs are the documents the structural tests render: one page, two
// pages, a credit note, an empty document and a long one.
func testDocs() map[string]*formats.Document {
	return map[string]*formats.Document{
		"1 line":      swedishInvoice(1),
		"40 lines":    swedishInvoice(40),
		"credit note": creditNote(),
		"empty":       {},
		"300 lines":   swedishInvoice(300),
	}
}

// TestQPDFCheck has qpdf check the structure of the PDFs: cross-reference
// table, objects, streams.
func TestQPDFCheck(t *testing.T) {
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Skip("qpdf is not installed (apt-get install qpdf); skipping the structural check of the PDFs")
	}
	plainR, swishR := renderers(t)
	rs := map[string]*Renderer{"plain": plainR, "logo+swish": swishR}
	for name, img := range map[string]image.Image{
		"gray logo":        image.NewGray(image.Rect(0, 0, 30, 10)),
		"transparent logo": image.NewNRGBA(image.Rect(0, 0, 10, 30)),
	} {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		r, err := NewRenderer(Options{Logo: b.Bytes()})
		if err != nil {
			t.Fatal(err)
		}
		rs[name] = r
	}
	for name, d := range testDocs() {
		for rname, r := range rs {
			t.Run(name+"/"+rname, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "doc.pdf")
				if err := os.WriteFile(path, render(t, r, d), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command("qpdf", "--check", path).CombinedOutput()
				if err != nil || bytes.Contains(bytes.ToLower(out), []byte("warning")) {
					t.Errorf("qpdf --check: %v\n%s", err, out)
				}
			})
		}
	}
}

// TestXref checks every cross-reference offset against the object it
// points to, without any outside tool.
func TestXref(t *testing.T) {
	plainR, swishR := renderers(t)
	for name, d := range testDocs() {
		for _, r := range []*Renderer{plainR, swishR} {
			checkXref(t, name, render(t, r, d))
		}
	}
}

func checkXref(t *testing.T, name string, pdf []byte) {
	t.Helper()
	i := bytes.LastIndex(pdf, []byte("startxref\n"))
	if i < 0 || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("%s: no startxref or %%%%EOF at the end", name)
	}
	at, err := strconv.Atoi(string(bytes.TrimSpace(pdf[i+len("startxref\n") : len(pdf)-len("%%EOF\n")])))
	if err != nil || at <= 0 || at >= len(pdf) || !bytes.HasPrefix(pdf[at:], []byte("xref\n0 ")) {
		t.Fatalf("%s: startxref %d does not point to the xref table (%v)", name, at, err)
	}
	lines := strings.Split(string(pdf[at:i]), "\n")
	size, err := strconv.Atoi(strings.TrimPrefix(lines[1], "0 "))
	if err != nil || len(lines) < size+3 {
		t.Fatalf("%s: bad xref header %q", name, lines[:2])
	}
	if lines[2] != "0000000000 65535 f " {
		t.Errorf("%s: object 0 entry %q", name, lines[2])
	}
	for n := 1; n < size; n++ {
		e := lines[2+n]
		if len(e) != 19 || !strings.HasSuffix(e, " 00000 n ") {
			t.Fatalf("%s: xref entry %d is %q", name, n, e)
		}
		off, _ := strconv.Atoi(e[:10])
		if !bytes.HasPrefix(pdf[off:], []byte(strconv.Itoa(n)+" 0 obj\n")) {
			t.Errorf("%s: xref offset %d of object %d points to %q", name, off, n, pdf[off:min(off+12, len(pdf))])
		}
	}
	if !strings.HasPrefix(lines[2+size], "trailer") || !bytes.Contains(pdf[at:], []byte("/Size "+strconv.Itoa(size)+"/")) {
		t.Errorf("%s: trailer does not follow the %d entries or has another /Size", name, size)
	}
}

// TestCharacters checks what pdftotext reads back: the repertoire as it is,
// decomposed letters composed, spaces as spaces, invisible characters
// dropped and anything else as '?'.
func TestCharacters(t *testing.T) {
	_, r := renderers(t)
	d := swedishInvoice(8)
	names := []string{
		"åäö ÅÄÖ é € Ærø Øst Ñandú",
		"Straße Łódź Dvořák Œuvre Ÿ Şahin Ștefan",
		"‘single’ “double” „low” • … – — ™ ‰",
		"HI|-()\\ parens and backslash",
		"Kanji 漢字 Omega Ω slut",
		"A\u030angström Mo\u0308ller", // decomposed, as a Mac may send it
		"zero\u200bwidth soft\u00adhyphen",
		"ad\u2010hoc",
	}
	for i, n := range names {
		d.Lines[i].Item.Name = n
	}
	d.Buyer.Address.Street = "Tab\there\u2003em space"
	text := pdftotext(t, render(t, r, d))
	wantText(t, text,
		"åäö ÅÄÖ é € Ærø Øst Ñandú",
		"Straße Łódź Dvořák Œuvre Ÿ Şahin Ștefan",
		"‘single’ “double” „low” • … – — ™ ‰",
		"HI|-()\\ parens and backslash",
		"Kanji ?? Omega ? slut",
		"Ångström Möller",
		"zerowidth softhyphen",
		"ad-hoc",
		"Tab here em space",
	)
}

// TestSameBytes renders documents in several orders, from several
// goroutines and with separate Renderers: each document always gives the
// same bytes, whatever a pooled canvas drew before.
func TestSameBytes(t *testing.T) {
	docs := []*formats.Document{swedishInvoice(1000), swedishInvoice(3), creditNote(), {}, swedishInvoice(40)}
	fresh, err := NewRenderer(Options{Logo: testLogo(), SwishPayee: "1234567890"})
	if err != nil {
		t.Fatal(err)
	}
	_, r := renderers(t)
	want := make([][]byte, len(docs))
	for i, d := range docs {
		want[i] = render(t, fresh, d)
	}
	if !bytes.Contains(want[1], []byte("/CreationDate(D:20260302000000Z)")) {
		t.Error("the creation date is not the invoice date")
	}
	if bytes.Contains(want[3], []byte("/CreationDate")) {
		t.Error("a document without a date has a creation date")
	}
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 3*len(docs); k++ {
				i := (g + k*(g+1)) % len(docs)
				var b bytes.Buffer
				if err := r.Render(&b, docs[i]); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(b.Bytes(), want[i]) {
					t.Errorf("document %d renders differently after others", i)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSubset checks the subset fonts: in the full subset every glyph of the
// repertoire, in the core subset every glyph of the core, has the outline it
// has in the original font; the core subset has none of the others, and a
// glyph outside the repertoire is in neither.
func TestSubset(t *testing.T) {
	fonts, err := loadFontSet("")
	if err != nil {
		t.Fatal(err)
	}
	for i, ttf := range [][]byte{regular: goregular.TTF, bold: gobold.TTF} {
		ff := fonts.faces[i]
		orig, err := sfnt.Parse(ttf)
		if err != nil {
			t.Fatal(err)
		}
		core, full := ff.subsets[0], ff.subsets[1]
		if len(full.file) > len(ttf)/2 || len(core.file) > len(full.file)*3/4 {
			t.Errorf("%s: the subsets are %d (core) and %d bytes of the font's %d", ff.name, len(core.file), len(full.file), len(ttf))
		}
		if core.name == full.name || !strings.HasSuffix(core.name, "+"+ff.name) || !strings.HasSuffix(full.name, "+"+ff.name) {
			t.Errorf("%s: the subsets are named %s and %s", ff.name, core.name, full.name)
		}
		for _, sub := range []struct {
			name string
			file []byte
			has  func(cid uint16) bool
		}{
			{"core", core.file, inCore},
			{"full", full.file, func(uint16) bool { return true }},
		} {
			f, err := sfnt.Parse(sub.file)
			if err != nil {
				t.Fatalf("%s: the %s subset does not parse: %v", ff.name, sub.name, err)
			}
			if f.NumGlyphs() != orig.NumGlyphs() {
				t.Errorf("%s: the %s subset has %d glyphs, the font %d: glyph ids moved", ff.name, sub.name, f.NumGlyphs(), orig.NumGlyphs())
			}
			var b1, b2 sfnt.Buffer
			ppem := fixed.I(2048)
			for cid, r := range repertoire {
				g := sfnt.GlyphIndex(ff.gids[cid])
				want, err := orig.LoadGlyph(&b1, g, ppem, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := f.LoadGlyph(&b2, g, ppem, nil)
				if err != nil {
					t.Fatalf("%s %s: %U: %v", ff.name, sub.name, r, err)
				}
				switch {
				case !sub.has(uint16(cid)):
					if len(got) != 0 {
						t.Errorf("%s %s: %U is beyond the core but still in the subset", ff.name, sub.name, r)
					}
				case len(got) == 0 && r != ' ' && r != '\u00a0' || !equalSegments(got, want):
					t.Errorf("%s %s: %U: the subset's outline differs from the font's", ff.name, sub.name, r)
				}
				if ff.widths[cid] == 0 {
					t.Errorf("%s: %U has no width", ff.name, r)
				}
			}
			g, _ := orig.GlyphIndex(&b1, 'Ж')
			if segs, err := f.LoadGlyph(&b2, g, ppem, nil); err != nil || len(segs) != 0 {
				t.Errorf("%s %s: Ж is still in the subset (%d segments, %v)", ff.name, sub.name, len(segs), err)
			}
		}
	}
}

// TestCore checks where the core ends: Latin-1 and the punctuation are in
// it, Latin Extended-A and the Romanian letters are not.
func TestCore(t *testing.T) {
	for _, r := range "Aåäöé ÅÄÖßæøÿ\u00a0€–—‘’“”„…•™‰−" {
		if !inCore(cidOf(r)) {
			t.Errorf("%U is not in the core", r)
		}
	}
	for _, r := range "ŁłŚśŞşȘșȚțŒœŠšŽžŸāčřőűı" {
		if inCore(cidOf(r)) {
			t.Errorf("%U is in the core", r)
		}
	}
}

func equalSegments(a, b sfnt.Segments) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzText renders whatever text a document may carry in its names and
// notes: nothing panics and the file stays well-formed.
func FuzzText(f *testing.F) {
	for _, s := range []string{"Åsa Öberg", "漢字", "\xff\xfe(", ")\\\r\n\t", "A\u030a", "\u200b\u00ad", strings.Repeat("W", 300)} {
		f.Add(s)
	}
	_, r := renderers(f)
	f.Fuzz(func(t *testing.T, s string) {
		d := swedishInvoice(2)
		d.Seller.Name, d.Buyer.Name, d.Lines[0].Item.Name, d.Notes = s, s, s, []string{s}
		d.Buyer.Address.Street, d.Number = s, s
		checkXref(t, "fuzz", render(t, r, d))
	})
}

// TestSwishQRScans renders the payment page and reads the QR code back
// with a barcode scanner, as a phone would read it off paper.
func TestSwishQRScans(t *testing.T) {
	for _, tool := range []string{"pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (poppler-utils, zbar-tools); skipping the QR scan", tool)
		}
	}
	_, r := renderers(t)
	d := swedishInvoice(10)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, render(t, r, d), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "150", "-png", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	out, err := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", filepath.Join(dir, "page.png")).Output()
	if err != nil {
		t.Fatalf("zbarimg finds no QR code: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), swishPayload("1234567890", d, false); got != want {
		t.Errorf("the QR code reads %q, want %q", got, want)
	}
}
