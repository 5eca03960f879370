package logo

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

// A logo of shapes is drawn to fit the PDF's logo space, keeping its
// aspect, in its own colours, transparent around them.
func TestPNGDrawsTheLogo(t *testing.T) {
	svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100">
  <rect x="0" y="0" width="100" height="100" fill="#0b5cad"/>
  <path d="M150 10 L290 10 L290 90 L150 90 Z" fill="#cc0000"/>
</svg>`
	b, err := PNG([]byte(svg), MaxWidth, MaxHeight)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// 300×100 into 827×260: the height binds, 780×260.
	if got := img.Bounds().Size(); got.X != 780 || got.Y != 260 {
		t.Fatalf("size %v, want 780×260", got)
	}
	at := func(x, y int) [4]uint32 {
		r, g, b, a := img.At(x, y).RGBA()
		return [4]uint32{r >> 8, g >> 8, b >> 8, a >> 8}
	}
	if got := at(130, 130); got != [4]uint32{0x0b, 0x5c, 0xad, 0xff} {
		t.Errorf("the square's middle is %v, want #0b5cad opaque", got)
	}
	if got := at(650, 130); got != [4]uint32{0xcc, 0, 0, 0xff} {
		t.Errorf("the path's middle is %v, want #cc0000 opaque", got)
	}
	if got := at(325, 130); got[3] != 0 {
		t.Errorf("between the shapes is %v, want transparent", got)
	}
}

// What cannot be drawn is an error that says what to do, never a logo
// with a part missing.
func TestPNGRefusesWhatItCannotDraw(t *testing.T) {
	for _, tc := range []struct{ name, svg, want string }{
		{"text", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50"><rect width="10" height="10"/><text x="20" y="40">Acme</text></svg>`, "convert text to paths, or give logo_png"},
		{"no size", `<svg xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10"/></svg>`, "no viewBox"},
		{"nothing visible", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="none"/></svg>`, "draws nothing visible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PNG([]byte(tc.svg), MaxWidth, MaxHeight)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
