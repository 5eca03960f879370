package config

import (
	"bytes"
	"embed"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/logo"
)

// Design is a tenant's [tenant.design] table: how its invoices look and
// speak on every channel (docs/design.md). The files it names are read
// when the configuration is loaded, so `check` finds a broken logo and a
// reload picks up a new one.
type Design struct {
	// LogoPNG is the logo of the PDF and the e-mail; LogoSVG the invoice
	// page's (the page shows the PNG without one). A tenant that gives
	// only an SVG gets a PNG drawn from it at load (formats/logo), so its
	// PDF and e-mail carry the logo too.
	LogoPNGFile string `toml:"logo_png"`
	LogoSVGFile string `toml:"logo_svg"`
	// Colour is the accent colour, "#RRGGBB", which must keep a contrast
	// of at least 4.5:1 against white (WCAG 2.1 AA): white text is set on
	// it and it is set on white.
	Colour string `toml:"colour"`
	// Font is the PDF's font family: "go" (default) or "go-mono".
	Font string `toml:"font"`
	// Language is what the tenant's invoices speak when the input says
	// nothing for the recipient: "sv" (default) or "en".
	Language string `toml:"language"`
	// The contact block printed on every invoice and page.
	Phone string `toml:"contact_phone"`
	Email string `toml:"contact_email"`
	Web   string `toml:"contact_web"`
	// Footer is one line at the foot of every page, message and web page.
	Footer string `toml:"footer"`
	// Message is the message block every invoice carries when no template
	// segment chooses another.
	Message string `toml:"message"`
	// Templates names the template file: segments of customers chosen by
	// rules on the document, each with its message (templates.go).
	Templates string `toml:"templates"`
	// Segments are the template file's, read at load.
	Segments []Segment `toml:"-"`

	// The logos' bytes, read at load.
	LogoPNG []byte `toml:"-"`
	LogoSVG []byte `toml:"-"`
}

// Fonts are the families the PDF writer embeds (formats/pdf Families).
var Fonts = []string{"go", "go-mono"}

// Limits on the logo files: they are in every PDF and every page.
const (
	maxLogoPNG = 1 << 20
	maxLogoSVG = 256 << 10
)

// demoFiles are the embedded default's logo files: the demo tenant shows
// a logo before its data directory holds any file.
//
//go:embed demo/demo-logo.png demo/demo-logo.svg demo/demo-templates.toml
var demoFiles embed.FS

// Look is the design as the renderers take it; the plain look without a
// [tenant.design] table.
func (t *Tenant) Look() *formats.Look {
	d := t.Design
	if d == nil {
		return &formats.Look{}
	}
	return &formats.Look{LogoPNG: d.LogoPNG, LogoSVG: d.LogoSVG, Colour: d.Colour, Font: d.Font,
		Phone: d.Phone, Email: d.Email, Web: d.Web, Footer: d.Footer}
}

// LanguageOr is the tenant's language: its design's, else Swedish.
func (t *Tenant) LanguageOr() string {
	if t.Design != nil && t.Design.Language != "" {
		return t.Design.Language
	}
	return "sv"
}

// validateDesign checks a tenant's design and reads its logo files.
func (c *Config) validateDesign(ps *problems, key string, d *Design) {
	if d == nil {
		return
	}
	key += ".design"
	if d.LogoPNGFile != "" {
		if b, ok := c.readDesignFile(ps, key+".logo_png", d.LogoPNGFile, maxLogoPNG); ok {
			if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
				ps.add(key+".logo_png", "%s is not a PNG image (%v): export the logo as PNG", d.LogoPNGFile, err)
			} else {
				d.LogoPNG = b
			}
		}
	}
	if d.LogoSVGFile != "" {
		if b, ok := c.readDesignFile(ps, key+".logo_svg", d.LogoSVGFile, maxLogoSVG); ok {
			if err := checkSVG(b); err != nil {
				ps.add(key+".logo_svg", "%s: %v", d.LogoSVGFile, err)
			} else {
				d.LogoSVG = b
			}
		}
	}
	if len(d.LogoSVG) > 0 && len(d.LogoPNG) == 0 {
		if b, err := logo.PNG(d.LogoSVG, logo.MaxWidth, logo.MaxHeight); err != nil {
			ps.add(key+".logo_svg", "%s %v", d.LogoSVGFile, err)
		} else {
			d.LogoPNG = b
		}
	}
	if d.Templates != "" {
		d.Segments = c.loadTemplates(ps, key+".templates", d.Templates)
	}
	if d.Colour != "" {
		r, g, b, ok := formats.ParseColour(d.Colour)
		switch {
		case !ok:
			ps.add(key+".colour", "%q: write the colour as #RRGGBB, like \"#0B5CAD\"", d.Colour)
		case contrast(r, g, b) < 4.5:
			ps.add(key+".colour", "%s has a contrast of %.1f:1 against white; WCAG 2.1 AA needs 4.5:1 for text: choose a darker shade", d.Colour, contrast(r, g, b))
		}
	}
	if d.Font != "" && !slices.Contains(Fonts, d.Font) {
		ps.add(key+".font", "%q: the PDF embeds %s", d.Font, quoteList(Fonts))
	}
	if d.Language != "" && !slices.Contains(formats.Languages, d.Language) {
		ps.add(key+".language", "%q: use %s", d.Language, quoteList(formats.Languages))
	}
	if d.Email != "" {
		if _, err := mail.ParseAddress(d.Email); err != nil {
			ps.add(key+".contact_email", "%q is not an e-mail address", d.Email)
		}
	}
	if d.Web != "" {
		checkURL(ps, key+".contact_web", d.Web)
	}
	for _, f := range []struct{ name, v string }{{"footer", d.Footer}, {"contact_phone", d.Phone}} {
		if strings.ContainsAny(f.v, "\r\n") {
			ps.add(key+"."+f.name, "one line: it is printed at the foot of every page")
		}
	}
}

// readDesignFile reads a design file of at most max bytes. The embedded
// default's demo logo is built in: its data directory has no files yet.
func (c *Config) readDesignFile(ps *problems, key, path string, max int64) ([]byte, bool) {
	f, err := os.Open(path)
	if err != nil && c.Embedded && errors.Is(err, os.ErrNotExist) {
		if b, derr := demoFiles.ReadFile("demo/" + filepath.Base(path)); derr == nil {
			return b, true
		}
	}
	if err != nil {
		ps.add(key, "%v: create the file or correct the path", unwrapPath(err))
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	switch {
	case err != nil:
		ps.add(key, "%s: %v", path, err)
		return nil, false
	case int64(len(b)) > max:
		ps.add(key, "%s is larger than %d KiB: it goes into every invoice; make it smaller", path, max>>10)
		return nil, false
	}
	return b, true
}

// checkSVG accepts an SVG logo that is well-formed XML with <svg> at its
// root and nothing active in it: no script, no event handler, no
// foreignObject and no reference outside the file. The page shows it as
// an image, where browsers run none of that anyway; refusing it keeps a
// logo safe wherever else it ends up.
func checkSVG(b []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		name := strings.ToLower(el.Name.Local)
		if root && name != "svg" {
			return fmt.Errorf("the root element is <%s>, not <svg>", el.Name.Local)
		}
		root = false
		if name == "script" || name == "foreignobject" {
			return fmt.Errorf("<%s> is not allowed in a logo", el.Name.Local)
		}
		for _, a := range el.Attr {
			an, v := strings.ToLower(a.Name.Local), strings.ToLower(strings.TrimSpace(a.Value))
			if strings.HasPrefix(an, "on") {
				return fmt.Errorf("the event handler %s= is not allowed in a logo", a.Name.Local)
			}
			if (an == "href" || an == "src") && v != "" && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "data:image/") {
				return fmt.Errorf("%s=%q refers outside the file: embed the image", a.Name.Local, a.Value)
			}
		}
	}
	if root {
		return errors.New("no <svg> element")
	}
	return nil
}

// contrast is the WCAG 2.1 contrast ratio of a colour against white.
func contrast(r, g, b float64) float64 {
	lin := func(c float64) float64 {
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
	return 1.05 / (l + 0.05)
}
