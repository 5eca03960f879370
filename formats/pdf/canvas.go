package pdf

import (
	"io"

	"rsc.io/qr/coding"
)

// face is one of the embedded Go fonts. Only two: every face adds its
// subset to every PDF.
type face int

const (
	regular face = iota
	bold
)

// colour is an RGB colour, each component 0–1.
type colour [3]float64

// grey is the colour of a grey level, 0 black, 1 white.
func grey(g float64) colour { return colour{g, g, g} }

// canvas is the little drawing surface the layout needs, so the layout does
// not depend on how the PDF is written (canvas_direct.go). All coordinates
// are millimetres from the top-left corner of an A4 page; text is placed by
// its baseline.
type canvas interface {
	addPage()
	setFont(f face, sizePt float64)
	// width is the width of s in the current font.
	width(s string) float64
	text(x, y float64, s string)
	// textGray sets the text colour: 0 black, 1 white.
	textGray(g float64)
	// fillGray sets the colour of filled rectangles.
	fillGray(g float64)
	// textColour and fillColour set them to a colour: the biller's
	// accent.
	textColour(c colour)
	fillColour(c colour)
	fill(x, y, w, h float64)
	stroke(x, y, w, h float64)
	line(x1, y1, x2, y2 float64)
	// grid draws the dark modules of a QR code in a square of side mm
	// whose top left corner is x, y.
	grid(x, y, side float64, code *coding.Code)
	// logo draws the Renderer's logo (Options.Logo) into the box.
	logo(x, y, w, h float64)
	finish(w io.Writer) error
}
