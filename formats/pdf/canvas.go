package pdf

import "io"

// face is one of the embedded Go fonts. Only two: every font embedded costs
// a subset per document, the largest part of rendering.
type face int

const (
	regular face = iota
	bold
)

// canvas is the little drawing surface the layout needs. It keeps the layout
// independent of the PDF library, which was chosen by benchmark. All
// coordinates are millimetres from the top-left corner of an A4 page; text is
// placed by its baseline.
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
	fill(x, y, w, h float64)
	stroke(x, y, w, h float64)
	line(x1, y1, x2, y2 float64)
	image(png []byte, x, y, w, h float64) error
	finish(w io.Writer) error
}
