package pdf

import (
	"bytes"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/zlib"
	"rsc.io/qr/coding"
)

// The PDF is written here, by hand: a PDF library rebuilt and compressed
// the font subsets for every document, half of the rendering time. Here
// everything that does not depend on the document (header, fonts,
// resources, logo) is written once per Renderer into a template whose bytes
// and object offsets are the same in every PDF that embeds the same font
// subsets (beyondCore); a document adds its pages, the page tree, the
// catalog, the info dictionary and the cross-reference table.

// Object numbers. 1–3 are written per document, after the template.
const (
	objCatalog   = 1
	objPages     = 2
	objInfo      = 3
	objToUnicode = 4 // one ToUnicode CMap: both faces use the same codes
	objFaces     = 5 // per face: Type0 font, CIDFont, descriptor, FontFile2, CIDToGIDMap
	perFace      = 5
	objResources = objFaces + 2*perFace
	objLogo      = objResources + 1 // the image, then its soft mask if it has one
)

const (
	pageH       = 842.0 // A4 is 595 × 842 points (the MediaBox), rounded as most PDF writers do
	ptPerMM     = 72 / 25.4
	lineWidthPt = 0.2 * ptPerMM
	// The header's second line marks the file as binary for transfer
	// programs that guess.
	header = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
)

func itoa(i int) string { return strconv.Itoa(i) }

func ref(n int) string { return strconv.Itoa(n) + " 0 R" }

// objects appends numbered objects to b and notes the offset of each in b.
type objects struct {
	b       []byte
	offsets []int // by object number
}

// next is the first unused object number.
func (o *objects) next() int { return len(o.offsets) }

func (o *objects) start(n int) {
	for len(o.offsets) <= n {
		o.offsets = append(o.offsets, 0)
	}
	o.offsets[n] = len(o.b)
	o.b = strconv.AppendInt(o.b, int64(n), 10)
	o.b = append(o.b, " 0 obj\n"...)
}

func (o *objects) obj(n int, body string) {
	o.start(n)
	o.b = append(o.b, body...)
	o.b = append(o.b, "\nendobj\n"...)
}

// stream writes a stream object; dict has its entries but /Length.
func (o *objects) stream(n int, dict string, data []byte) {
	o.start(n)
	o.b = append(o.b, "<<"...)
	o.b = append(o.b, dict...)
	o.b = append(o.b, "/Length "...)
	o.b = strconv.AppendInt(o.b, int64(len(data)), 10)
	o.b = append(o.b, ">>\nstream\n"...)
	o.b = append(o.b, data...)
	o.b = append(o.b, "\nendstream\nendobj\n"...)
}

// directCanvas draws one document. Canvases are pooled with their buffers
// and their compressor: a new zlib writer allocates about 1 MB.
type directCanvas struct {
	t       *template
	created time.Time
	o       objects
	pages   []int  // page object numbers
	page    []byte // content of the current page, uncompressed
	open    bool
	z       *zlib.Writer
	zbuf    bytes.Buffer

	face         face
	size         float64
	textG, fillG colour
	// What the current page's content has set: the font (size 0 for
	// none yet) and the fill colour, which PDF uses for text too.
	pageFace face
	pageSize float64
	pageG    colour
	// full has bit 1<<face set for the faces that drew a character
	// beyond the core (inCore): the PDF embeds their full subset.
	full int
}

// canvases are the canvases not in use, with their buffers and compressor
// (a zlib writer allocates ~200 KB). A channel rather than a sync.Pool: a
// busy daemon collects garbage every few milliseconds, and a sync.Pool is
// emptied by every second collection, so a tenth of the renderings made
// their compressor anew (issue 24's allocation profile). It keeps as many
// as render at once, up to its size; more are made and dropped.
var canvases = make(chan *directCanvas, 8)

func getCanvas() *directCanvas {
	select {
	case c := <-canvases:
		return c
	default:
	}
	// Page content is compressed at the fastest level. Measured on the
	// benchmark's one-page invoice: its 10.8 KB of content becomes 3.2 KB
	// in ~80 µs with the standard library's compressor, half of the
	// ~180 µs the page took; klauspost/compress's makes 3.1 KB of it in
	// ~36 µs (issue 24). Uncompressed, the page would be 7.6 KB larger
	// (+18 % for that PDF, in every e-mail and print batch).
	z, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed) // the level is valid
	return &directCanvas{z: z}
}

func putCanvas(c *directCanvas) {
	select {
	case canvases <- c:
	default:
	}
}

// maxPooled is the largest document buffer kept for reuse, so that one
// thousand-page document does not pin its memory in the pool.
const maxPooled = 1 << 20

func (t *template) newCanvas(created time.Time) *directCanvas {
	c := getCanvas()
	c.t, c.created = t, created
	// The document's objects are numbered after the template's and placed
	// after the head, which finish chooses: their offsets are noted in c.o.b
	// until then.
	offsets := slices.Grow(c.o.offsets[:0], t.next)[:t.next]
	clear(offsets)
	c.o = objects{b: c.o.b[:0], offsets: offsets}
	c.full = 0
	c.pages = c.pages[:0]
	c.open = false
	c.face, c.size, c.textG, c.fillG = regular, 10, colour{}, colour{}
	return c
}

func (c *directCanvas) addPage() {
	c.endPage()
	c.open = true
	c.page = appendNum(c.page[:0], lineWidthPt, 1000)
	c.page = append(c.page, " w\n"...)
	c.pageSize, c.pageG = 0, colour{}
}

// endPage writes the current page's content stream and page object.
func (c *directCanvas) endPage() {
	if !c.open {
		return
	}
	c.open = false
	c.zbuf.Reset()
	c.z.Reset(&c.zbuf)
	c.z.Write(c.page) // writes to a bytes.Buffer cannot fail
	c.z.Close()
	n := c.o.next()
	c.o.stream(n, "/Filter/FlateDecode", c.zbuf.Bytes())
	c.o.start(n + 1)
	c.o.b = append(c.o.b, "<</Type/Page/Parent 2 0 R/Resources "...)
	c.o.b = strconv.AppendInt(c.o.b, objResources, 10)
	c.o.b = append(c.o.b, " 0 R/Contents "...)
	c.o.b = strconv.AppendInt(c.o.b, int64(n), 10)
	c.o.b = append(c.o.b, " 0 R>>\nendobj\n"...)
	c.pages = append(c.pages, n+1)
}

func (c *directCanvas) setFont(f face, size float64) { c.face, c.size = f, size }

func (c *directCanvas) width(s string) float64 {
	return float64(c.t.faces[c.face].width(nfc(s))) * c.size / 1000 / ptPerMM
}

func (c *directCanvas) text(x, y float64, s string) {
	s = nfc(s)
	if s == "" {
		return
	}
	mark, face, size, g := len(c.page), c.pageFace, c.pageSize, c.pageG
	c.paint(c.textG)
	if c.pageFace != c.face || c.pageSize != c.size {
		c.pageFace, c.pageSize = c.face, c.size
		c.page = append(c.page, "/F"...)
		c.page = strconv.AppendInt(c.page, int64(c.face)+1, 10)
		c.page = appendNum(append(c.page, ' '), c.size, 1000)
		c.page = append(c.page, " Tf\n"...)
	}
	c.page = append(c.page, "BT "...)
	c.page = c.appendPoint(c.page, x, y)
	c.page = append(c.page, " Td("...)
	glyphs := len(c.page)
	// Two bytes a code in a literal string: half the bytes of a hex
	// string, so less to compress.
	for _, r := range s {
		cid := cidOf(r)
		if cid == noGlyph {
			continue
		}
		if !inCore(cid) {
			c.full |= 1 << c.face
		}
		for _, b := range [2]byte{byte(cid >> 8), byte(cid)} {
			if b == '(' || b == ')' || b == '\\' || b == '\r' {
				c.page = append(c.page, '\\', '0'+b>>6, '0'+b>>3&7, '0'+b&7)
			} else {
				c.page = append(c.page, b)
			}
		}
	}
	if len(c.page) == glyphs { // nothing to draw: leave no trace
		c.page, c.pageFace, c.pageSize, c.pageG = c.page[:mark], face, size, g
		return
	}
	c.page = append(c.page, ")Tj ET\n"...)
}

func (c *directCanvas) textGray(g float64) { c.textG = grey(g) }

func (c *directCanvas) fillGray(g float64) { c.fillG = grey(g) }

func (c *directCanvas) textColour(k colour) { c.textG = k }

func (c *directCanvas) fillColour(k colour) { c.fillG = k }

// paint sets the fill colour in the content when it changes: a grey level
// (g) when the components agree, which is shorter, else RGB (rg).
func (c *directCanvas) paint(k colour) {
	if k == c.pageG {
		return
	}
	c.pageG = k
	if k[0] == k[1] && k[1] == k[2] {
		c.page = appendNum(c.page, k[0], 1000)
		c.page = append(c.page, " g\n"...)
		return
	}
	for i, v := range k {
		if i > 0 {
			c.page = append(c.page, ' ')
		}
		c.page = appendNum(c.page, v, 1000)
	}
	c.page = append(c.page, " rg\n"...)
}

func (c *directCanvas) fill(x, y, w, h float64) {
	c.paint(c.fillG)
	c.rect(x, y, w, h, " re f\n")
}

func (c *directCanvas) stroke(x, y, w, h float64) { c.rect(x, y, w, h, " re S\n") }

func (c *directCanvas) rect(x, y, w, h float64, op string) {
	c.page = c.appendPoint(c.page, x, y+h)
	c.page = appendNum(append(c.page, ' '), w*ptPerMM, 100)
	c.page = appendNum(append(c.page, ' '), h*ptPerMM, 100)
	c.page = append(c.page, op...)
}

func (c *directCanvas) line(x1, y1, x2, y2 float64) {
	c.page = c.appendPoint(c.page, x1, y1)
	c.page = append(c.page, " m "...)
	c.page = c.appendPoint(c.page, x2, y2)
	c.page = append(c.page, " l S\n"...)
}

// grid draws the code as an inline image mask, one bit a module, that
// cm scales to the square. As rectangles, one for each run of dark
// modules, the codes were four fifths of a page's content and of the time
// spent compressing it (issue 24). Inline rather than an image XObject:
// the code differs in every document, and an XObject would need
// resources of its own on each page, where now the template's serve all
// pages, and a stream compressed apart from the page's.
//
// The samples are in hex (ASCIIHexDecode), which ends at its '>': a
// reader that looks for the EI after binary samples could find one in
// them. Compressed with the page, hex is no bigger than binary.
func (c *directCanvas) grid(x, y, side float64, code *coding.Code) {
	n := code.Size
	if n <= 0 {
		return
	}
	c.paint(c.fillG) // an image mask paints in the fill colour
	s := side * ptPerMM
	c.page = appendNum(append(c.page, "q "...), s, 1000)
	c.page = appendNum(append(c.page, " 0 0 "...), s, 1000)
	c.page = append(c.page, ' ')
	c.page = c.appendPoint(c.page, x, y+side) // the image's bottom left
	c.page = append(c.page, " cm\nBI/W "...)
	c.page = strconv.AppendInt(c.page, int64(n), 10)
	c.page = append(c.page, "/H "...)
	c.page = strconv.AppendInt(c.page, int64(n), 10)
	// The samples are the code's bitmap as it is: rows top to bottom,
	// each padded to a whole byte, the first module in the high bit, 1
	// dark. /D[1 0] has a 1 paint; by default an image mask paints its
	// 0s. Without /I true the modules are not smoothed.
	c.page = append(c.page, "/IM true/BPC 1/D[1 0]/F/AHx ID\n"...)
	for row := range n {
		for _, b := range code.Bitmap[row*code.Stride:][:(n+7)/8] {
			c.page = append(c.page, hexDigits[b>>4], hexDigits[b&15])
		}
	}
	c.page = append(c.page, ">\nEI Q\n"...)
}

func (c *directCanvas) logo(x, y, w, h float64) {
	if !c.t.logo {
		return
	}
	c.page = appendNum(append(c.page, "q "...), w*ptPerMM, 100)
	c.page = append(c.page, " 0 0 "...)
	c.page = appendNum(c.page, h*ptPerMM, 100)
	c.page = append(c.page, ' ')
	c.page = c.appendPoint(c.page, x, y+h)
	c.page = append(c.page, " cm/Im1 Do Q\n"...)
}

// appendPoint writes a point given in millimetres from the top left in PDF
// user space: points from the bottom left.
func (c *directCanvas) appendPoint(b []byte, x, y float64) []byte {
	b = appendNum(b, x*ptPerMM, 100)
	return appendNum(append(b, ' '), pageH-y*ptPerMM, 100)
}

// appendNum writes v rounded to 1/scale (scale a power of ten) without
// trailing zeros, as PDF numbers: no exponent. Values no page has are
// clamped.
func appendNum(b []byte, v float64, scale int64) []byte {
	switch {
	case math.IsNaN(v):
		v = 0
	case v > 1e7:
		v = 1e7
	case v < -1e7:
		v = -1e7
	}
	n := int64(math.Round(v * float64(scale)))
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/scale, 10)
	if f := n % scale; f != 0 {
		b = append(b, '.')
		for d := scale / 10; f != 0; d /= 10 {
			b = append(b, byte('0'+f/d))
			f %= d
		}
	}
	return b
}

func (c *directCanvas) finish(w io.Writer) error {
	c.endPage()
	o := &c.o
	o.start(objPages)
	o.b = append(o.b, "<</Type/Pages/Kids["...)
	for i, p := range c.pages {
		if i > 0 {
			o.b = append(o.b, ' ')
		}
		o.b = strconv.AppendInt(o.b, int64(p), 10)
		o.b = append(o.b, " 0 R"...)
	}
	o.b = append(o.b, "]/Count "...)
	o.b = strconv.AppendInt(o.b, int64(len(c.pages)), 10)
	o.b = append(o.b, "/MediaBox[0 0 595 842]>>\nendobj\n"...)
	o.obj(objCatalog, "<</Type/Catalog/Pages 2 0 R>>")
	o.start(objInfo)
	o.b = append(o.b, "<</Producer(Multikanal)"...)
	if !c.created.IsZero() {
		o.b = append(o.b, "/CreationDate(D:"...)
		o.b = c.created.UTC().AppendFormat(o.b, "20060102150405")
		o.b = append(o.b, "Z)"...)
	}
	o.b = append(o.b, ">>\nendobj\n"...)

	h := c.t.heads[c.full]()
	xref := len(h.b) + len(o.b)
	o.b = append(o.b, "xref\n0 "...)
	o.b = strconv.AppendInt(o.b, int64(len(o.offsets)), 10)
	o.b = append(o.b, "\n0000000000 65535 f \n"...)
	for n := 1; n < len(o.offsets); n++ {
		off := len(h.b) + o.offsets[n] // the document's, after the head
		if n < len(h.offsets) && h.offsets[n] != 0 {
			off = h.offsets[n] // the head's
		}
		o.b = appendPadded(o.b, off)
		o.b = append(o.b, " 00000 n \n"...)
	}
	o.b = append(o.b, "trailer\n<</Size "...)
	o.b = strconv.AppendInt(o.b, int64(len(o.offsets)), 10)
	o.b = append(o.b, "/Root 1 0 R/Info 3 0 R>>\nstartxref\n"...)
	o.b = strconv.AppendInt(o.b, int64(xref), 10)
	o.b = append(o.b, "\n%%EOF\n"...)

	if bb, ok := w.(*bytes.Buffer); ok {
		bb.Grow(len(h.b) + len(o.b)) // one allocation of the size, not doublings
	}
	// The head in one write: outbound/email keeps the base64 of a
	// stream's first write when it has seen it twice.
	_, err := w.Write(h.b)
	if err == nil {
		_, err = w.Write(o.b)
	}
	c.t = nil
	if cap(o.b) <= maxPooled && cap(c.page) <= maxPooled {
		putCanvas(c)
	}
	return err
}

// appendPadded writes a cross-reference offset: ten digits.
func appendPadded(b []byte, v int) []byte {
	var d [10]byte
	for i := 9; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:]...)
}
