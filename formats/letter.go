package formats

// Letter is how the biller speaks to its customer on one channel: its
// look, the language, the message chosen for the customer's segment and
// the link to the hosted invoice page. The gateway sets it on the document
// (Document.Letter) just before a channel renders, as routing sets the
// payment decision; renderers read it and render a plain invoice in
// Swedish without one. It is never shown as it is to the customer: the
// segment's name and the tenant are for the biller's records.
type Letter struct {
	// Tenant is the biller the document is sent for.
	Tenant string `json:"tenant"`
	// Language is "sv" or "en": the input's language for the recipient,
	// else the tenant's.
	Language string `json:"language"`
	// Segment names the template segment whose message was chosen, "" for
	// none.
	Segment string `json:"segment,omitempty"`
	// Message is the message block for the customer, plain text; "" for
	// none.
	Message string `json:"message,omitempty"`
	// Link is the hosted invoice page's URL for this delivery, when the
	// invoice is sent with a link (it is signed and expires).
	Link string `json:"link,omitempty"`
	// Attach, with a Link, asks an e-mail to carry the PDF as well.
	Attach bool `json:"attach,omitempty"`
	// Look is the biller's design; nil renders the plain one.
	Look *Look `json:"-"`
}

// Languages are the languages the renderers speak.
var Languages = []string{"sv", "en"}

// English reports whether the letter is in English; without a letter the
// renderers speak Swedish.
func (l *Letter) English() bool { return l != nil && l.Language == "en" }

// Look is a biller's design: what every rendering of its invoices shares.
// Its zero value is the plain design (no logo, black and grey, the Go
// fonts).
type Look struct {
	// LogoPNG is the logo for the PDF and the e-mail; LogoSVG for the
	// invoice page, which shows the PNG when there is no SVG.
	LogoPNG []byte
	LogoSVG []byte
	// Colour is the accent colour, "#RRGGBB": headings, the table's
	// header, the page's buttons. "" is the plain grey.
	Colour string
	// Font is the family the PDF is set in: "go" (the default) or
	// "go-mono".
	Font string
	// The biller's contact block: phone, e-mail and web address.
	Phone, Email, Web string
	// Footer is a line printed at the foot of every page and message.
	Footer string
}

// ColourRGB returns the accent colour as 0–1 components, and false when
// the look has none.
func (l *Look) ColourRGB() (r, g, b float64, ok bool) {
	if l == nil {
		return 0, 0, 0, false
	}
	return ParseColour(l.Colour)
}

// ParseColour reads "#RRGGBB" into 0–1 components.
func ParseColour(s string) (r, g, b float64, ok bool) {
	if len(s) != 7 || s[0] != '#' {
		return 0, 0, 0, false
	}
	var v [3]float64
	for i := range v {
		hi, ok1 := hexDigit(s[1+2*i])
		lo, ok2 := hexDigit(s[2+2*i])
		if !ok1 || !ok2 {
			return 0, 0, 0, false
		}
		v[i] = float64(hi*16+lo) / 255
	}
	return v[0], v[1], v[2], true
}

func hexDigit(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}
