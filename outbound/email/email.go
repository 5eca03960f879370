// Package email is the e-mail channel: it decides who can be reached by
// e-mail and renders an invoice as a complete MIME message (RFC 5322) with a
// Swedish text and the invoice PDF attached, or a link to it.
//
// The message is a finished .eml: the spool transport writes it as a file a
// mail client opens, and the SMTP transport (package outbound/smtp) hands the
// same bytes to a relay. This package does no I/O and does not draw PDFs; it
// is given a function that does.
package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Options configure the channel for one tenant (the templates speak in the
// biller's voice, so a gateway with several tenants makes one Channel each).
// The zero value works: it renders with the default Swedish templates from a
// placeholder address, which is what the spool transport needs.
type Options struct {
	// From is the sender's address, "faktura@acme.se" or
	// "Acme <faktura@acme.se>". The display name shown to the reader is the
	// seller's name on the invoice; the name written here is used only when
	// the invoice has none. Empty means DefaultFrom.
	From string
	// Domain is the right-hand side of the Message-ID; empty means the
	// domain of From.
	Domain string
	// Subject and Body are text/template sources executed with a
	// TemplateData; empty means DefaultSubject and DefaultBody.
	Subject string
	Body    string
	// LinkBase, when set, replaces the PDF attachment with a link:
	// LinkBase + "/" + the delivery key. The page behind it must check who
	// is asking, since keys are not secrets.
	LinkBase string
	// PDF renders the invoice PDF. When it is nil the document's own PDF
	// attachment (BG-24) is sent if it carries one, and otherwise the
	// message goes without one and its text says so.
	PDF func(*formats.Document) ([]byte, error)
	// WritePDF, when set, writes the same PDF to w instead, and is used
	// in PDF's place: the PDF goes straight into the message, encoded as
	// it is written, with no buffer of its own.
	WritePDF func(w io.Writer, doc *formats.Document) error
}

// DefaultFrom is the sender when Options.From is empty. The .invalid domain
// (RFC 2606) can never receive mail, so a spooled message is never mistaken
// for one that could be answered.
const DefaultFrom = "faktura@multikanal.invalid"

// DefaultSubject is the subject template used when Options.Subject is empty.
const DefaultSubject = `{{if .Subject}}{{.Subject}}{{else}}{{.Kind}} {{.Number}}{{end}} från {{.Seller}}`

// DefaultBody is the text template used when Options.Body is empty.
const DefaultBody = `Hej!

{{if .CreditNote}}Här kommer kreditnota {{.Number}} från {{.Seller}}.

Belopp att tillgodoräkna: {{.Amount}} {{.Currency}}
{{else if .Letter}}Här kommer {{.What}} från {{.Seller}}: {{.Subject}}.
{{else}}{{if .Reminder}}Vi har inte fått betalt för faktura {{.Reminds}}. Här kommer påminnelse {{.Number}} från {{.Seller}}.
{{with .Fee}}Påminnelseavgift: {{.}} {{$.Currency}}
{{end}}{{with .Interest}}Dröjsmålsränta: {{.}} {{$.Currency}}
{{end}}{{else}}Här kommer faktura {{.Number}} från {{.Seller}}.
{{end}}
Att betala: {{.Amount}} {{.Currency}}
{{with .DueDate}}Förfallodag: {{.}}
{{end}}{{if .AutoGiro}}{{.Withdrawal}}. Beloppet dras från ditt konto, du behöver inte betala själv.
{{else}}{{with .OCR}}OCR-nummer: {{.}}
{{end}}{{with .Bankgiro}}Bankgiro: {{.}}
{{end}}{{with .Plusgiro}}Plusgiro: {{.}}
{{end}}{{if not (or .Bankgiro .Plusgiro)}}{{with .IBAN}}IBAN: {{.}}
{{end}}{{with .BIC}}BIC: {{.}}
{{end}}{{end}}{{with .Swish}}Swish: {{.}}
{{end}}{{end}}{{end}}
{{with .Message}}{{.}}

{{end}}{{if .Attachment}}{{.The}} finns som PDF i bilagan {{.Attachment}}.
{{end}}{{with .Extras}}Bilagor: {{range $i, $e := .}}{{if $i}}, {{end}}{{$e}}{{end}}.
{{end}}{{if .Link}}Du kan se och ladda ner {{if .CreditNote}}kreditnotan{{else}}fakturan{{end}}{{if not (or .CreditNote .AutoGiro)}} och betala den{{end}} här:
{{.Link}}
{{end}}{{if not (or .Attachment .Link)}}{{.The}} finns inte som bilaga i det här meddelandet. Kontakta {{.Seller}} om du vill ha en kopia.
{{end}}
Har du frågor, kontakta {{.Seller}}{{with .SellerEmail}} på {{.}}{{end}}.

Med vänliga hälsningar
{{.Seller}}
`

// DefaultSubjectEN and DefaultBodyEN are the default templates in English,
// used for a recipient whose letter is in English.
const DefaultSubjectEN = `{{if .Subject}}{{.Subject}}{{else}}{{.KindEN}} {{.Number}}{{end}} from {{.Seller}}`

const DefaultBodyEN = `Hello,

{{if .CreditNote}}Here is credit note {{.Number}} from {{.Seller}}.

Amount in your favour: {{.Amount}} {{.Currency}}
{{else if .Letter}}Here is a {{.WhatEN}} from {{.Seller}}: {{.Subject}}.
{{else}}{{if .Reminder}}We have not received payment for invoice {{.Reminds}}. Here is payment reminder {{.Number}} from {{.Seller}}.
{{with .Fee}}Reminder fee: {{.}} {{$.Currency}}
{{end}}{{with .Interest}}Late payment interest: {{.}} {{$.Currency}}
{{end}}{{else}}Here is invoice {{.Number}} from {{.Seller}}.
{{end}}
Amount due: {{.Amount}} {{.Currency}}
{{with .DueDate}}Due date: {{.}}
{{end}}{{if .AutoGiro}}The amount is withdrawn from your account by direct debit (autogiro); you need not pay yourself.
{{else}}{{with .OCR}}OCR reference: {{.}}
{{end}}{{with .Bankgiro}}Bankgiro: {{.}}
{{end}}{{with .Plusgiro}}Plusgiro: {{.}}
{{end}}{{if not (or .Bankgiro .Plusgiro)}}{{with .IBAN}}IBAN: {{.}}
{{end}}{{with .BIC}}BIC: {{.}}
{{end}}{{end}}{{with .Swish}}Swish: {{.}}
{{end}}{{end}}{{end}}
{{with .Message}}{{.}}

{{end}}{{if .Attachment}}The {{.WhatEN}} is attached as the PDF {{.Attachment}}.
{{end}}{{with .Extras}}Attachments: {{range $i, $e := .}}{{if $i}}, {{end}}{{$e}}{{end}}.
{{end}}{{if .Link}}View and download it{{if not (or .CreditNote .AutoGiro)}}, and pay it,{{end}} here:
{{.Link}}
{{end}}{{if not (or .Attachment .Link)}}The {{.WhatEN}} is not attached to this message. Contact {{.Seller}} for a copy.
{{end}}
If you have questions, contact {{.Seller}}{{with .SellerEmail}} at {{.}}{{end}}.

Kind regards
{{.Seller}}
`

// TemplateData is what the subject and body templates see. Every field is
// ready to print: amounts in Swedish format, dates as YYYY-MM-DD, account
// numbers with their usual hyphen; a field the invoice does not carry is "".
// The payment fields come from the payment decision (formats.Payment):
// AutoGiro and Withdrawal only when the amount is withdrawn, the accounts,
// OCR and Swish only when the customer pays by transfer.
type TemplateData struct {
	Kind        string // "Faktura" or "Kreditnota"
	CreditNote  bool
	Number      string // invoice number (BT-1)
	Seller      string // seller's trading name, else legal name
	SellerEmail string // seller's contact address, also the Reply-To
	Buyer       string // buyer's trading name, else legal name
	Amount      string // amount due (BT-115), "1 656,25"
	Currency    string // "SEK"
	IssueDate   string
	DueDate     string
	OCR         string // payment reference (BT-83)
	Bankgiro    string // "5050-1055"
	Plusgiro    string // "441009-7"
	IBAN        string
	BIC         string // the IBAN's BIC, when paid by IBAN
	Swish       string // the payee's Swish number, "123 456 78 90"
	AutoGiro    bool   // the amount is withdrawn under a mandate (AutoGiro, AvtaleGiro); no payment needed
	Withdrawal  string // the collection's sentence: "Dras via autogiro 2026-04-01", "Trekkes via AvtaleGiro 01.04.2026"
	Attachment  string // file name of the attached PDF, or "" when none
	Link        string // link to the invoice page (the tenant's [tenant.page], or Options.LinkBase)
	Message     string // the biller's message to the customer (its template segment's), or ""

	// The kinds beside invoices and credit notes: a reminder (Reminder,
	// with the invoice it is about, its fee and interest) and a letter,
	// statement, contract or notice (Letter, with its Subject).
	KindEN   string   // "Invoice", "Payment reminder", "Letter"
	What     string   // the kind in a sentence: "faktura", "påminnelse", "brev"
	WhatEN   string   // "invoice", "payment reminder", "letter"
	The      string   // the definite form that starts a sentence: "Fakturan", "Påminnelsen", "Brevet"
	Reminder bool     // a reminder
	Reminds  string   // the number of the invoice a reminder is about
	Fee      string   // a reminder's fee, "60,00", or ""
	Interest string   // a reminder's late interest, or ""
	Letter   bool     // a letter, statement, contract or notice
	Subject  string   // a letter's subject
	Extras   []string // the file names of the attachments (BG-24) beside the PDF
}

// Channel is the e-mail channel.
type Channel struct {
	from    mail.Address
	domain  string
	subject *template.Template
	body    *template.Template
	// subjectEN and bodyEN speak English to a recipient whose letter is
	// in English; nil when the options gave templates of their own.
	subjectEN *template.Template
	bodyEN    *template.Template
	linkBase  string
	pdf       func(*formats.Document) ([]byte, error)
	writePDF  func(io.Writer, *formats.Document) error
	now       func() time.Time // the Date header; tests fix it
	// seen keeps the base64 of what messages repeat: the start every PDF
	// of a biller shares, the logo.
	seen seenLines
	// size is the length of the last message, to size the next one's
	// buffer when the PDF's size is not known before it is written.
	size atomic.Int64
	// bufs are the bodies of sent messages, given back by the engine
	// (outbound.Message.Release), for the next ones.
	bufs sync.Pool
}

// maxPooled bounds the buffers kept for reuse: a message with large
// attachments is left to the collector.
const maxPooled = 1 << 20

// buffer is an empty buffer of at least size bytes, a released one when
// there is one large enough.
func (c *Channel) buffer(size int) []byte {
	if b, ok := c.bufs.Get().(*[]byte); ok && cap(*b) >= size {
		return (*b)[:0]
	}
	return make([]byte, 0, size)
}

// release keeps b for a later message.
func (c *Channel) release(b []byte) {
	if cap(b) <= maxPooled {
		c.bufs.Put(&b)
	}
}

// New checks the options and returns the channel. It fails on an invalid
// From address or a template that does not parse or names a field that
// TemplateData lacks, so a typo stops the daemon at start-up instead of
// sending every invoice to the next channel.
func New(o Options) (*Channel, error) {
	c := &Channel{linkBase: strings.TrimRight(o.LinkBase, "/"), pdf: o.PDF, writePDF: o.WritePDF, now: time.Now}
	from := o.From
	if from == "" {
		from = DefaultFrom
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("email: from %q is not an e-mail address, write it like \"Acme <faktura@acme.se>\": %w", o.From, err)
	}
	c.from = *a
	c.domain = o.Domain
	if c.domain == "" {
		c.domain = a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	}
	if c.linkBase != "" {
		if u, err := url.Parse(c.linkBase); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("email: link base %q is not an http(s) URL", o.LinkBase)
		}
	}
	if c.subject, err = parse("subject", o.Subject, DefaultSubject); err != nil {
		return nil, err
	}
	if c.body, err = parse("body", o.Body, DefaultBody); err != nil {
		return nil, err
	}
	if o.Subject == "" && o.Body == "" {
		c.subjectEN = template.Must(parse("subject", DefaultSubjectEN, ""))
		c.bodyEN = template.Must(parse("body", DefaultBodyEN, ""))
	}
	return c, nil
}

// parse parses a template and runs it once on a filled-in TemplateData:
// text/template reports an unknown field only when it executes.
func parse(name, src, def string) (*template.Template, error) {
	if src == "" {
		src = def
	}
	t, err := template.New(name).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("email: %s template: %w", name, err)
	}
	sample := TemplateData{Kind: "Faktura", Number: "1", Seller: "S", Buyer: "B", Amount: "1,00", Currency: "SEK",
		DueDate: "2000-01-01", OCR: "1", Bankgiro: "1", Attachment: "f.pdf"}
	if err := t.Execute(&bytes.Buffer{}, sample); err != nil {
		return nil, fmt.Errorf("email: %s template: %w", name, err)
	}
	return t, nil
}

// Name is "email".
func (*Channel) Name() string { return Name }

// Eligible when the invoice carries the buyer's e-mail address (contact, or an
// endpoint under scheme EM) or the registry knows one.
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	candidates := []struct{ addr, reason string }{
		{doc.Buyer.Contact.Email, "address in the invoice (buyer contact)"},
	}
	if doc.Buyer.Endpoint.Scheme == "EM" {
		candidates = append(candidates, struct{ addr, reason string }{doc.Buyer.Endpoint.Value, "address in the invoice (buyer endpoint, scheme EM)"})
	}
	invalid := ""
	for _, c := range candidates {
		if c.addr == "" {
			continue
		}
		a, err := mail.ParseAddress(c.addr)
		if err != nil {
			invalid = c.addr
			continue
		}
		return outbound.Eligibility{OK: true, Address: a.Address, Reason: c.reason}
	}
	if addr, src, found := reg.Lookup(doc, Name); found {
		return outbound.Eligibility{OK: true, Address: addr, Reason: "address registered by " + src}
	}
	if invalid != "" {
		return outbound.Eligibility{Reason: "buyer e-mail " + invalid + " is not a valid address"}
	}
	return outbound.Eligibility{Reason: "no e-mail address for the buyer"}
}

// Render builds the e-mail to the address to. The Message-ID is derived from
// key, so a retry of the same delivery carries the same id and a receiver
// (or the relay's duplicate filter) can recognise it. An empty to (an
// offline conversion) falls back to the address in the invoice.
func (c *Channel) Render(doc *formats.Document, to, key string) (outbound.Message, error) {
	fail := func(err error) (outbound.Message, error) {
		return outbound.Message{}, fmt.Errorf("email: rendering %s: %w", doc.Label(), err)
	}
	if to == "" {
		to = c.Eligible(doc, outbound.NoRegistry{}).Address
	}
	data := c.data(doc)
	attach := true
	switch l := doc.Letter; {
	case l != nil && l.Link != "":
		// The tenant sends the invoice page's signed link ("med länk"),
		// with the PDF beside it unless it asked for the link alone.
		data.Link, attach = l.Link, l.Attach
	case c.linkBase != "":
		data.Link, attach = c.linkBase+"/"+url.PathEscape(key), false
	}
	var pdf []byte
	streamed := false // the PDF is written into the message by writePDF
	switch {
	case !attach:
	case c.writePDF != nil:
		streamed = true
	case c.pdf != nil:
		var err error
		if pdf, err = c.pdf(doc); err != nil {
			return fail(fmt.Errorf("PDF: %w", err))
		}
	default:
		pdf = ownPDF(doc)
	}
	if pdf != nil || streamed {
		data.Attachment = fileName(doc, key)
		data.Extras = extraNames(doc)
	}
	subjectT, bodyT := c.subject, c.body
	if doc.Letter.English() && c.bodyEN != nil {
		subjectT, bodyT = c.subjectEN, c.bodyEN
	}
	var subject, text bytes.Buffer
	if err := subjectT.Execute(&subject, data); err != nil {
		return fail(fmt.Errorf("subject template: %w", err))
	}
	if err := bodyT.Execute(&text, data); err != nil {
		return fail(fmt.Errorf("body template: %w", err))
	}

	// go-message writes header fields in the reverse order of setting
	// them (the way trace fields are prepended), so they are set bottom-up
	// to read in the usual order: Date, From, To, Subject.
	var h gomail.Header
	// A boundary derived from the key makes the output a function of its
	// inputs (and the date), which keeps golden files and retries
	// comparable. "=_" cannot occur in quoted-printable or base64 text.
	sum := sha256.Sum256([]byte(key))
	mixed := "=_mk_" + hex.EncodeToString(sum[:12])
	h.SetContentType("multipart/mixed", map[string]string{"boundary": mixed})
	h.Set("MIME-Version", "1.0")
	h.SetText("X-Multikanal-Key", key)
	h.SetMessageID(messageID(key, c.domain))
	// Subjects are one line; a template that ends in a newline must not
	// fold the header.
	h.SetSubject(strings.Join(strings.Fields(subject.String()), " "))
	if to != "" {
		h.SetAddressList("To", []*gomail.Address{{Name: data.Buyer, Address: to}})
	}
	from := &gomail.Address{Name: c.from.Name, Address: c.from.Address}
	if data.Seller != "" {
		from.Name = data.Seller
	}
	if data.SellerEmail != "" && !strings.EqualFold(data.SellerEmail, from.Address) {
		// Answers to an invoice belong with the seller, not with the
		// relay's sending address.
		h.SetAddressList("Reply-To", []*gomail.Address{{Address: data.SellerEmail}})
	}
	h.SetAddressList("From", []*gomail.Address{from})
	h.SetDate(c.now())

	size := base64Len(len(pdf)) + base64Len(len(logoOf(doc.Letter))) + 8<<10 // and headers, text, HTML
	if streamed {
		size = max(size, int(c.size.Load())+1<<10)
	}
	w := mimeWriter{b: c.buffer(size), seen: &c.seen}
	w.root(h.Header.Header, mixed)
	if err := writeBody(&w, key, text.Bytes(), data, doc.Letter); err != nil {
		return fail(err)
	}
	if data.Attachment != "" {
		var ah message.Header
		ah.Set("Content-Transfer-Encoding", "base64")
		ah.SetContentDisposition("attachment", map[string]string{"filename": data.Attachment})
		ah.SetContentType("application/pdf", map[string]string{"name": data.Attachment})
		w.part(headerBytes(ah))
		if streamed {
			b64 := w.base64Writer(&c.seen)
			if err := c.writePDF(b64, doc); err != nil {
				return fail(fmt.Errorf("PDF: %w", err))
			}
			b64.close()
		} else {
			w.base64(pdf)
		}
		writeExtras(&w, doc)
	}
	w.end()
	c.size.Store(int64(len(w.b)))
	body := w.b
	return outbound.Message{Key: key, Name: key + ".eml", ContentType: "message/rfc822", To: to, Body: body,
		Release: func() { c.release(body) }}, nil
}

// logoOf is the logo the letter's look has, or nil.
func logoOf(l *formats.Letter) []byte {
	if l == nil || l.Look == nil {
		return nil
	}
	return l.Look.LogoPNG
}

// base64Len is the length of n bytes in base64 with its line breaks.
func base64Len(n int) int { return (n + 2) / 3 * 4 * 78 / 76 }

// messageID returns the Message-ID (without angle brackets) of the message
// rendered for key: key@domain, with any character a Message-ID may not
// hold (and "=" itself) written as =XX, so the same key always gives the
// same id and two keys never share one.
func messageID(key, domain string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		ch := key[i]
		if isAtext(ch) || (ch == '.' && i > 0 && i < len(key)-1 && key[i-1] != '.') {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "=%02X", ch)
		}
	}
	return b.String() + "@" + domain
}

// isAtext reports whether ch is RFC 5322 atext other than "=", which
// messageID uses as its escape.
func isAtext(ch byte) bool {
	switch {
	case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
		return true
	}
	return ch < 0x80 && strings.IndexByte("!#$%&'*+-/?^_`{|}~", ch) >= 0
}

// data fills the template fields from the document.
func (c *Channel) data(doc *formats.Document) TemplateData {
	d := TemplateData{
		Kind:      "Faktura",
		Number:    doc.Number,
		Seller:    doc.Seller.DisplayName(),
		Buyer:     doc.Buyer.DisplayName(),
		Amount:    doc.Totals.Payable.Swedish(),
		Currency:  doc.Currency,
		IssueDate: doc.IssueDate.String(),
		DueDate:   doc.DueDate.String(),
	}
	switch pay := doc.HowToPay(); {
	case pay.DirectDebit():
		d.AutoGiro, d.Withdrawal = true, pay.WithdrawalText()
	case pay.Method == formats.PayTransfer:
		d.OCR, d.Bankgiro, d.Plusgiro = pay.Reference, bankgiro(pay.Bankgiro), plusgiro(pay.Plusgiro)
		d.IBAN, d.BIC, d.Swish = pay.IBAN, pay.BIC, swish(pay.Swish)
	}
	if doc.Kind == formats.KindCreditNote {
		d.Kind, d.CreditNote = "Kreditnota", true
	}
	kindData(&d, doc)
	if doc.Letter != nil {
		d.Message = doc.Letter.Message
	}
	if a, err := mail.ParseAddress(doc.Seller.Contact.Email); err == nil {
		d.SellerEmail = a.Address
	}
	return d
}

// ownPDF returns the PDF the invoice carries itself (a UBL invoice often
// embeds the biller's own rendering), or nil.
func ownPDF(doc *formats.Document) []byte {
	for _, a := range doc.Attachments {
		if len(a.Data) > 0 && (strings.EqualFold(a.MimeCode, "application/pdf") || bytes.HasPrefix(a.Data, []byte("%PDF-"))) {
			return a.Data
		}
	}
	return nil
}

// fileName is "faktura-<number>.pdf" ("kreditnota-..." for a credit note),
// keeping only characters every mail client and file system accept.
func fileName(doc *formats.Document, key string) string {
	n := doc.Number
	if n == "" {
		n = key
	}
	n = strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, n)
	return filePrefix(doc.Kind) + n + ".pdf"
}

// bankgiro writes a bankgiro number the way it is printed, NNN(N)-NNNN.
func bankgiro(s string) string {
	d := formats.OnlyDigits(s)
	if d != s || len(d) < 7 || len(d) > 8 {
		return s
	}
	return d[:len(d)-4] + "-" + d[len(d)-4:]
}

// swish writes a Swish number as people read it: 123 456 78 90.
func swish(s string) string {
	d := formats.OnlyDigits(s)
	if len(d) != 10 {
		return s
	}
	return d[:3] + " " + d[3:6] + " " + d[6:8] + " " + d[8:]
}

// plusgiro writes a plusgiro number with the hyphen before its check digit.
func plusgiro(s string) string {
	d := formats.OnlyDigits(s)
	if d != s || len(d) < 2 || len(d) > 8 {
		return s
	}
	return d[:len(d)-1] + "-" + d[len(d)-1:]
}
