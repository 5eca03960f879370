package pdf

import (
	"compress/flate"
	"io"
	"time"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

var faceNames = [...]string{regular: "GoRegular", bold: "GoBold"}

// fonts holds the Go fonts parsed once; every document takes a copy of the
// parsed tables from it instead of parsing 130 KB of TrueType again.
type fonts struct{ c *gopdf.FontContainer }

func parseFonts() (*fonts, error) {
	c := new(gopdf.FontContainer)
	for f, data := range [...][]byte{regular: goregular.TTF, bold: gobold.TTF} {
		if err := c.AddTTFFontData(faceNames[f], data); err != nil {
			return nil, err
		}
	}
	return &fonts{c}, nil
}

// gopdfCanvas draws with signintech/gopdf, chosen over go-pdf/fpdf by the
// benchmark in docs/formats/pdf.md: it takes the parsed fonts from a shared
// container and was twice as fast on our layout.
type gopdfCanvas struct {
	pdf  gopdf.GoPdf
	font face
	err  error
}

func (f *fonts) newCanvas(created time.Time) (canvas, error) {
	c := &gopdfCanvas{}
	c.pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitMM})
	// Deflate's fastest level makes the page streams barely larger than
	// the default level does at a fraction of the time (docs/formats/pdf.md).
	c.pdf.SetCompressLevel(flate.BestSpeed)
	info := gopdf.PdfInfo{Producer: "Multikanal", CreationDate: created}
	c.pdf.SetInfo(info)
	for _, name := range faceNames {
		if err := c.pdf.AddTTFFontFromFontContainer(name, f.c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *gopdfCanvas) keep(err error) {
	if err != nil && c.err == nil {
		c.err = err
	}
}

func (c *gopdfCanvas) addPage() {
	c.pdf.AddPage()
	c.pdf.SetLineWidth(0.2)
}

func (c *gopdfCanvas) setFont(f face, size float64) {
	c.font = f
	c.keep(c.pdf.SetFont(faceNames[f], "", size))
}

func (c *gopdfCanvas) width(s string) float64 {
	w, err := c.pdf.MeasureTextWidth(s)
	c.keep(err)
	return w
}

func (c *gopdfCanvas) text(x, y float64, s string) {
	if s == "" {
		return
	}
	c.pdf.SetXY(x, y)
	c.keep(c.pdf.Text(s))
}

func (c *gopdfCanvas) textGray(g float64) {
	v := uint8(g * 255)
	c.pdf.SetTextColor(v, v, v)
}

func (c *gopdfCanvas) fillGray(g float64) {
	v := uint8(g * 255)
	c.pdf.SetFillColor(v, v, v)
}

func (c *gopdfCanvas) fill(x, y, w, h float64) {
	c.pdf.RectFromUpperLeftWithStyle(x, y, w, h, "F")
}

func (c *gopdfCanvas) stroke(x, y, w, h float64) {
	c.pdf.RectFromUpperLeftWithStyle(x, y, w, h, "D")
}

func (c *gopdfCanvas) line(x1, y1, x2, y2 float64) { c.pdf.Line(x1, y1, x2, y2) }

func (c *gopdfCanvas) image(png []byte, x, y, w, h float64) error {
	img, err := gopdf.ImageHolderByBytes(png)
	if err != nil {
		return err
	}
	return c.pdf.ImageByHolder(img, x, y, &gopdf.Rect{W: w, H: h})
}

func (c *gopdfCanvas) finish(w io.Writer) error {
	if c.err != nil {
		return c.err
	}
	_, err := c.pdf.WriteTo(w)
	return err
}
