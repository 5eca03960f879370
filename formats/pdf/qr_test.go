package pdf

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"rsc.io/qr"
)

// qrModules caches rsc.io/qr's plans; the codes must be the ones its
// Encode makes, module for module, in every encoding and size. The
// canvas draws each row's bytes as they are, so the bytes are compared.
func TestQRModulesAsEncode(t *testing.T) {
	payloads := []string{"0", "12345678903", "HTTPS://A.EXAMPLE/P", benchPayload,
		"C1231181189;1656,25;4600263;0", "https://demo.example/i/F0000001-0000001.email/20260501/c2lnbmF0dXJl",
		strings.Repeat("å", 300), strings.Repeat("9", 2000)}
	for _, p := range payloads {
		code, err := qrModules(p)
		want, werr := qr.Encode(p, qr.M)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%.20q: error %v, Encode's %v", p, err, werr)
		}
		if err != nil {
			continue
		}
		n := code.Size
		if n != want.Size {
			t.Fatalf("%.20q: %d modules a side, Encode's %d", p, n, want.Size)
		}
		for y := range n {
			got, wrow := code.Bitmap[y*code.Stride:][:(n+7)/8], want.Bitmap[y*want.Stride:][:(n+7)/8]
			if !bytes.Equal(got, wrow) {
				t.Fatalf("%.20q: row %d is %x, Encode's %x", p, y, got, wrow)
			}
		}
	}
	if _, err := qrModules(strings.Repeat("å", 3000)); err == nil {
		t.Error("a payload too long for any QR code was encoded")
	}
}

// TestQRImage draws codes with the canvas, rasterises the page with
// poppler at 300 dpi (several pixels a module) and reads each module at
// its centre: every module is where the square puts it, dark where the
// code is dark, and nothing is painted in the quiet zone around it.
// Sizes 25 and 29 pad their rows with 7 and 3 bits.
func TestQRImage(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed; skipping the check of the QR images")
	}
	r, err := NewRenderer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	type code struct {
		x, y, side float64
		payload    string
		n          int
	}
	codes := []code{
		{31.3, 40.7, qrSide, "C1231181189;1656,25;4600263;0", 29},
		{101.9, 47.15, 20, "C1231181189;100;1;0", 25},
		{62.5, 120.35, linkQRSide, "https://faktura.demo.example/i/F0000001-0000001.print/tb8qqo/Xc2k7vQ4p1Lr9sZbW3yT0g", 37},
	}
	c := r.tmpl.newCanvas(time.Time{})
	c.addPage()
	c.fillGray(0)
	for _, k := range codes {
		code, err := qrModules(k.payload)
		if err != nil {
			t.Fatal(err)
		}
		if code.Size != k.n {
			t.Fatalf("%q: %d modules a side, want %d", k.payload, code.Size, k.n)
		}
		c.grid(k.x, k.y, k.side, code)
	}
	var pdf bytes.Buffer
	if err := c.finish(&pdf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	const dpi = 300
	if out, err := exec.Command("pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-png", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// at is the grey level (0 black, 255 white) of the pixel at x, y mm.
	at := func(x, y float64) uint8 {
		px := image.Pt(int(x*dpi/25.4), int(y*dpi/25.4))
		return color.GrayModel.Convert(page.At(px.X, px.Y)).(color.Gray).Y
	}
	for _, k := range codes {
		code, _ := qrModules(k.payload)
		n, m := code.Size, k.side/float64(code.Size)
		bad := 0
		for row := -1; row <= n; row++ {
			for col := -1; col <= n; col++ {
				g := at(k.x+(float64(col)+0.5)*m, k.y+(float64(row)+0.5)*m)
				if dark := code.Black(col, row); dark && g > 64 || !dark && g < 192 {
					bad++
					t.Errorf("%.20q: module %d,%d is %d grey, want it %s", k.payload, col, row, g, map[bool]string{true: "dark", false: "white"}[dark])
				}
				if bad > 5 {
					t.FailNow()
				}
			}
		}
	}
}
