package pdf

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// A document embeds the core subset of a face unless it draws a character
// beyond the core with it: Swedish text gets the smaller files, a Polish or
// Romanian name the full file of the face that draws it. Whichever is
// embedded, the PDF is well-formed, its text reads back and its pages look
// pixel for pixel as with the full subsets of both faces.
func TestCoreSubsets(t *testing.T) {
	fonts, err := loadFontSet("")
	if err != nil {
		t.Fatal(err)
	}
	_, r := renderers(t)
	var coreWords, allWords []string // every character, in words of 8
	for cid, ch := range repertoire {
		if ch == ' ' || ch == '\u00a0' {
			continue
		}
		if inCore(uint16(cid)) {
			coreWords = appendToWord(coreWords, ch)
		}
		allWords = appendToWord(allWords, ch)
	}
	itemNames := func(words []string) func(d *formats.Document) {
		return func(d *formats.Document) {
			for i := range d.Lines {
				d.Lines[i].Item.Name = strings.Join(words[min(3*i, len(words)):min(3*i+3, len(words))], " ")
			}
		}
	}
	for _, tc := range []struct {
		name string
		d    *formats.Document
		edit func(d *formats.Document)
		full int // the faces with their full subset: bit 0 regular, bit 1 bold
		text []string
	}{
		{"Swedish", swedishInvoice(10), nil, 0, []string{"Göran Älvström", "Krukväxt nr 3, ädelgran på åkerjord"}},
		{"every core character", swedishInvoice(len(coreWords)/3 + 1), itemNames(coreWords), 0, coreWords},
		{"Romanian item", swedishInvoice(10), func(d *formats.Document) { d.Lines[2].Item.Name = "Ștefan cel Mare" }, 1, []string{"Ștefan cel Mare"}},
		{"Polish buyer", swedishInvoice(10), func(d *formats.Document) { d.Buyer.Name = "Łukasz Wróbel" }, 2, []string{"Łukasz Wróbel"}},
		{"every character", swedishInvoice(len(allWords)/3 + 1), func(d *formats.Document) {
			itemNames(allWords)(d)
			d.Buyer.Name = "Ștefan Łukasz"
		}, 3, allWords},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			if tc.edit != nil {
				tc.edit(d)
			}
			pdf := render(t, r, d)
			full := renderFull(t, r, d)
			for i, f := range fonts.faces {
				sub := tc.full >> i & 1
				embeds := func(sub int) bool {
					return bytes.Contains(pdf, []byte("/BaseFont/"+f.subsets[sub].name+"/")) &&
						bytes.Contains(pdf, fonts.objs[i][sub].file)
				}
				if !embeds(sub) || embeds(1-sub) {
					t.Errorf("%s: the PDF does not embed the %s subset, and only it", f.name, [2]string{"core", "full"}[sub])
				}
			}
			switch tc.full {
			case 0:
				// Each face's core file is 4.4 KB smaller compressed.
				if len(pdf) > len(full)-8000 {
					t.Errorf("the PDF is %d bytes, %d with the full subsets", len(pdf), len(full))
				}
				t.Logf("%d bytes, %d with the full subsets", len(pdf), len(full))
			case 3:
				if !bytes.Equal(pdf, full) {
					t.Error("the PDF with both faces' full subsets is not the one that embeds them whatever it draws")
				}
			}
			checkXref(t, tc.name, pdf)
			qpdfCheck(t, pdf)
			pdffontsCheck(t, pdf)
			text := pdftotext(t, pdf)
			wantText(t, text, tc.text...)
			if fullText := pdftotext(t, full); text != fullText {
				t.Errorf("the text differs from the one with the full subsets:\n%s\nwith the full subsets:\n%s", text, fullText)
			}
			samePixels(t, pdf, full)
		})
	}
}

func appendToWord(words []string, ch rune) []string {
	if len(words) == 0 || len([]rune(words[len(words)-1])) == 8 {
		return append(words, string(ch))
	}
	words[len(words)-1] += string(ch)
	return words
}

// renderFull renders d as Render does but with the full subset of both
// faces, what every PDF embedded before the core subsets.
func renderFull(t *testing.T, r *Renderer, d *formats.Document) []byte {
	t.Helper()
	var created time.Time
	if !d.IssueDate.IsZero() {
		created = d.IssueDate.Time()
	}
	c := r.tmpl.newCanvas(created)
	if err := r.layout(c, d); err != nil {
		t.Fatal(err)
	}
	c.full = 1<<regular | 1<<bold
	var b bytes.Buffer
	if err := c.finish(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func qpdfCheck(t *testing.T, pdf []byte) {
	t.Helper()
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Skip("qpdf is not installed (apt-get install qpdf); skipping the structural check of the PDFs")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("qpdf", "--check", path).CombinedOutput()
	if err != nil || bytes.Contains(bytes.ToLower(out), []byte("warning")) {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

// pdffontsCheck has poppler list the fonts: two, each an embedded subset
// with a ToUnicode map, and nothing to complain about.
func pdffontsCheck(t *testing.T, pdf []byte) {
	t.Helper()
	if _, err := exec.LookPath("pdffonts"); err != nil {
		t.Skip("pdffonts (poppler-utils) is not installed; install it to check the fonts")
	}
	cmd := exec.Command("pdffonts", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("pdffonts: %v: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 4 {
		t.Fatalf("pdffonts lists %d fonts, want 2:\n%s", len(lines)-2, out)
	}
	for _, l := range lines[2:] {
		if f := strings.Fields(l); len(f) < 8 || strings.Join(f[len(f)-5:len(f)-2], " ") != "yes yes yes" || !strings.Contains(l, "CID TrueType") {
			t.Errorf("pdffonts: not an embedded CID TrueType subset with ToUnicode: %s", l)
		}
	}
}

// samePixels rasterises every page of both PDFs at 100 dpi and wants the
// same pixels.
func samePixels(t *testing.T, a, b []byte) {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed; install it to compare the renderings")
	}
	var pages [2][]string
	for i, pdf := range [][]byte{a, b} {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.pdf")
		if err := os.WriteFile(in, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("pdftoppm", "-r", "100", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v: %s", err, out)
		}
		pages[i], _ = filepath.Glob(filepath.Join(dir, "page*.png"))
	}
	if len(pages[0]) == 0 || len(pages[0]) != len(pages[1]) {
		t.Fatalf("%d pages against %d", len(pages[0]), len(pages[1]))
	}
	for p := range pages[0] {
		var n, total int
		var img [2]image.Image
		for i := range img {
			f, err := os.Open(pages[i][p])
			if err != nil {
				t.Fatal(err)
			}
			img[i], err = png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		if img[0].Bounds() != img[1].Bounds() {
			t.Fatalf("page %d: %v against %v", p+1, img[0].Bounds(), img[1].Bounds())
		}
		bb := img[0].Bounds()
		for y := bb.Min.Y; y < bb.Max.Y; y++ {
			for x := bb.Min.X; x < bb.Max.X; x++ {
				total++
				r0, g0, b0, _ := img[0].At(x, y).RGBA()
				r1, g1, b1, _ := img[1].At(x, y).RGBA()
				if r0 != r1 || g0 != g1 || b0 != b1 {
					n++
				}
			}
		}
		if n > 0 {
			t.Errorf("page %d: %d of %d pixels differ from the rendering with the full subsets", p+1, n, total)
		}
	}
}
