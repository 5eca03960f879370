// Package logo turns a biller's SVG logo into the PNG image the PDF and
// the e-mail carry, for a tenant that gives only an SVG (docs/design.md).
//
// The SVG is drawn by github.com/srwiley/oksvg in its strict mode: an
// element it cannot draw (text, filters, embedded images) is an error,
// never a logo with a part silently missing. A logo with text needs its
// text converted to paths, or a PNG beside it.
package logo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"

	"github.com/srwiley/oksvg"
	"github.com/srwiley/rasterx"
)

// PDF's logo space is 70 × 22 mm; at 300 dpi that is these pixels.
const (
	MaxWidth  = 827
	MaxHeight = 260
)

// PNG draws svg scaled to fit maxW × maxH pixels, keeping its aspect, on
// a transparent background, and returns it as a PNG.
func PNG(svg []byte, maxW, maxH int) ([]byte, error) {
	icon, err := oksvg.ReadIconStream(bytes.NewReader(svg), oksvg.StrictErrorMode)
	if err != nil {
		return nil, fmt.Errorf("cannot be drawn on the PDF (%v): convert text to paths, or give logo_png as well", err)
	}
	vw, vh := icon.ViewBox.W, icon.ViewBox.H
	if vw <= 0 || vh <= 0 {
		return nil, errors.New("has no viewBox with a width and a height, so it has no size to draw at: add viewBox=\"0 0 W H\"")
	}
	scale := math.Min(float64(maxW)/vw, float64(maxH)/vh)
	w, h := max(1, int(math.Round(vw*scale))), max(1, int(math.Round(vh*scale)))
	icon.SetTarget(0, 0, float64(w), float64(h))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	icon.Draw(rasterx.NewDasher(w, h, rasterx.NewScannerGV(w, h, img, img.Bounds())), 1)
	if opaque(img) == 0 {
		return nil, errors.New("draws nothing visible")
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// opaque counts the pixels with any coverage.
func opaque(img *image.RGBA) int {
	n := 0
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 0 {
			n++
		}
	}
	return n
}
