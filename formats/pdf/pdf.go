// Package pdf renders a formats.Document as a Swedish invoice PDF on A4: the
// seller with space for a logo, the recipient address placed for a window
// envelope, the invoice details, the lines (over as many pages as they
// need), the VAT breakdown, the totals and a payment box with bankgiro or
// plusgiro, OCR number and an optional Swish QR code.
//
// It renders what the document says; it does not validate or compute
// amounts (that is the validate package's job), so an inconsistent document
// prints inconsistent figures rather than failing.
//
// When a document carries its own PDF (Attached), channels send that
// instead of rendering one. docs/formats/pdf.md describes the layout and
// the choices behind it.
package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Options configure a Renderer. The zero value renders without logo and
// without Swish QR code.
//
// A Renderer speaks the language of the document's Letter (Swedish or
// English) and prints its message; the biller's design (logo, colour,
// font, contact block, footer) is the Renderer's, one per biller.
type Options struct {
	// Look is the biller's design; its PNG logo is used when Logo is
	// empty.
	Look *formats.Look
	// Logo is a PNG image drawn, scaled to fit, into the logo space at the
	// top left of the first page. The space is reserved whether or not a
	// logo is given; without one the seller's name is printed there.
	Logo []byte
	// SwishPayee is the seller's Swish number (10 digits, 123xxxxxxx for
	// companies). When set, invoices payable in SEK get a Swish QR code
	// that prefills payee, amount and message.
	SwishPayee string
}

// Renderer renders documents with fonts and logo prepared once. It is safe
// for concurrent use: every Render builds its own PDF and only reads the
// Renderer.
type Renderer struct {
	opt      Options
	tmpl     *template
	logoW    float64 // logo size in mm once fitted into the logo space
	logoH    float64
	swishNum string
	look     *formats.Look // never nil
	accent   colour        // the look's colour, or plainAccent
	accented bool
}

// plainAccent is the colour of headings without a biller's colour: black.
var plainAccent = colour{}

// NewRenderer checks the options and prepares what every PDF shares: the
// font subsets (made once per process) and the logo.
func NewRenderer(opt Options) (*Renderer, error) {
	r := &Renderer{opt: opt, look: opt.Look}
	if r.look == nil {
		r.look = &formats.Look{}
	}
	if len(opt.Logo) == 0 {
		opt.Logo = r.look.LogoPNG
		r.opt.Logo = opt.Logo
	}
	if r.accent, r.accented = plainAccent, false; r.look.Colour != "" {
		cr, cg, cb, ok := formats.ParseColour(r.look.Colour)
		if !ok {
			return nil, fmt.Errorf("pdf: colour %q: write it as #RRGGBB", r.look.Colour)
		}
		r.accent, r.accented = colour{cr, cg, cb}, true
	}
	var logo *logoImage
	if len(opt.Logo) > 0 {
		var err error
		if logo, err = decodeLogo(opt.Logo); err != nil {
			return nil, err
		}
		r.logoW, r.logoH = fitBox(float64(logo.w), float64(logo.h), logoW, logoH)
	}
	if opt.SwishPayee != "" {
		n := formats.OnlyDigits(opt.SwishPayee)
		if len(n) != 10 || strings.TrimLeft(opt.SwishPayee, "0123456789 -") != "" {
			return nil, fmt.Errorf("pdf: Swish number %q: must be 10 digits, like 123 456 78 90", opt.SwishPayee)
		}
		r.swishNum = n
	}
	t, err := newTemplate(r.look.Font, logo)
	if err != nil {
		return nil, fmt.Errorf("pdf: embedded fonts: %w", err)
	}
	r.tmpl = t
	return r, nil
}

// fitBox scales w×h to fit into maxW×maxH keeping its proportions.
func fitBox(w, h, maxW, maxH float64) (float64, float64) {
	s := min(maxW/w, maxH/h)
	return w * s, h * s
}

// Render writes doc as a PDF to w. The output depends only on doc and the
// options: the PDF's creation date is the invoice date, so rendering the same
// document twice gives the same bytes.
func (r *Renderer) Render(w io.Writer, doc *formats.Document) error {
	if doc == nil {
		return errors.New("pdf: no document")
	}
	var created time.Time
	if !doc.IssueDate.IsZero() {
		created = doc.IssueDate.Time()
	}
	c := r.tmpl.newCanvas(created)
	if err := r.layout(c, doc); err != nil {
		return fmt.Errorf("pdf: %s: %w", doc.Label(), err)
	}
	if err := c.finish(w); err != nil {
		return fmt.Errorf("pdf: %s: %w", doc.Label(), err)
	}
	return nil
}

// Render renders one document with a new Renderer. Use a Renderer for more
// than one document: it prepares the logo once.
func Render(w io.Writer, doc *formats.Document, opt Options) error {
	r, err := NewRenderer(opt)
	if err != nil {
		return err
	}
	return r.Render(w, doc)
}

// Attached returns the document's own PDF rendering when it carries one: the
// first embedded attachment with MIME code application/pdf whose data starts
// with "%PDF". An attachment named for the document (its id is the invoice
// number, or its description or file name says faktura, kreditnota, invoice
// or credit) wins over an earlier one, so a timesheet attached before the
// invoice is not sent in its place. Channels send this PDF instead of
// rendering one: the seller's own rendering is what the buyer expects.
func Attached(doc *formats.Document) ([]byte, bool) {
	if doc == nil {
		return nil, false
	}
	var first []byte
	for _, a := range doc.Attachments {
		if !strings.EqualFold(strings.TrimSpace(a.MimeCode), "application/pdf") || !bytes.HasPrefix(a.Data, []byte("%PDF")) {
			continue
		}
		if namesDocument(a, doc.Number) {
			return a.Data, true
		}
		if first == nil {
			first = a.Data
		}
	}
	return first, first != nil
}

func namesDocument(a formats.Attachment, number string) bool {
	if number != "" && a.ID == number {
		return true
	}
	s := strings.ToLower(a.Description + " " + a.Filename)
	for _, w := range []string{"faktura", "kreditnota", "invoice", "credit"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// PageCount returns the number of pages of a PDF by counting its page
// objects (/Type /Page, not /Pages). It does not parse the file: it is meant
// for the PDFs this package writes and for ordinary attached ones. When the
// page objects are hidden in compressed object streams it falls back to the
// largest /Count of a page tree it can see, and returns 0 when it finds
// neither.
func PageCount(pdf []byte) int {
	n := 0
	maxCount := 0
	for i := 0; ; {
		j := bytes.Index(pdf[i:], []byte("/Type"))
		if j < 0 {
			break
		}
		i += j + len("/Type")
		k := skipSpace(pdf, i)
		switch {
		case bytes.HasPrefix(pdf[k:], []byte("/Pages")):
			if c := countAfter(pdf, k); c > maxCount {
				maxCount = c
			}
		case bytes.HasPrefix(pdf[k:], []byte("/Page")):
			if e := k + len("/Page"); e == len(pdf) || !isNameChar(pdf[e]) {
				n++
			}
		}
	}
	if n == 0 {
		return maxCount
	}
	return n
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t' || b[i] == '\f' || b[i] == 0) {
		i++
	}
	return i
}

func isNameChar(c byte) bool {
	return c > ' ' && c < 127 && !strings.ContainsRune("/<>[]()%{}", rune(c))
}

// countAfter reads the /Count of the dictionary around a /Type /Pages entry,
// looking a short way on either side of it.
func countAfter(b []byte, at int) int {
	lo, hi := max(0, at-300), min(len(b), at+300)
	win := b[lo:hi]
	j := bytes.Index(win, []byte("/Count"))
	if j < 0 {
		return 0
	}
	k := skipSpace(win, j+len("/Count"))
	n := 0
	for ; k < len(win) && win[k] >= '0' && win[k] <= '9' && n < 1e6; k++ {
		n = n*10 + int(win[k]-'0')
	}
	return n
}
