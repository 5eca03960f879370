package email_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/email"
	"github.com/multikanal/multikanal/outbound/smtp"
	"github.com/multikanal/multikanal/outbound/smtp/smtptest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakePDF stands in for formats/pdf: a tiny valid PDF with the binary
// comment line real PDFs carry, so base64 round-tripping is tested.
var fakePDF = []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" +
	"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func fakeRenderer(*formats.Document) ([]byte, error) { return fakePDF, nil }

func invoice() *formats.Document {
	return &formats.Document{
		Kind:      formats.KindInvoice,
		Number:    "2026-0042",
		IssueDate: formats.Date{Year: 2026, Month: 5, Day: 1},
		DueDate:   formats.Date{Year: 2026, Month: 5, Day: 31},
		Currency:  "SEK",
		Seller: formats.Party{Name: "Åkesson & Söner AB", Contact: formats.Contact{Email: "kundtjanst@akesson.example"},
			LegalID: formats.Identifier{Scheme: "0007", Value: "5561234567"}},
		Buyer: formats.Party{Name: "Örjan Ängström", Contact: formats.Contact{Email: "orjan@example.se"}},
		PaymentMeans: []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, PaymentID: "4600263",
			Account: "50501055", AccountScheme: formats.AccountBankgiro}},
		Totals: formats.Totals{Payable: formats.MustAmount("1656.25"), TaxInclusive: formats.MustAmount("1656.25")},
	}
}

func channel(t *testing.T, o email.Options) *email.Channel {
	t.Helper()
	c, err := email.New(o)
	if err != nil {
		t.Fatal(err)
	}
	email.SetNow(c, func() time.Time { return time.Date(2026, 5, 1, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600)) })
	return c
}

// parsed is a message read back with go-message.
type parsed struct {
	h           gomail.Header
	text        string
	textHeader  gomail.InlineHeader
	attachments map[string][]byte
	attHeaders  map[string]gomail.AttachmentHeader
}

func parse(t *testing.T, b []byte) parsed {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("reading the message: %v", err)
	}
	p := parsed{h: r.Header, attachments: map[string][]byte{}, attHeaders: map[string]gomail.AttachmentHeader{}}
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading a part: %v", err)
		}
		body, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch h := part.Header.(type) {
		case *gomail.InlineHeader:
			p.text, p.textHeader = string(body), *h
		case *gomail.AttachmentHeader:
			name, _ := h.Filename()
			p.attachments[name], p.attHeaders[name] = body, *h
		}
	}
	return p
}

// checkInvoiceMail asserts what a reader of the invoice mail sees.
func checkInvoiceMail(t *testing.T, b []byte) {
	t.Helper()
	for i, c := range b {
		if c >= 0x80 {
			t.Fatalf("byte %d is not ASCII: the message must be 7-bit clean for any relay", i)
		}
	}
	p := parse(t, b)
	from, _ := p.h.AddressList("From")
	if len(from) != 1 || from[0].Name != "Åkesson & Söner AB" || from[0].Address != "faktura@acme.example" {
		t.Errorf("From = %v", from)
	}
	to, _ := p.h.AddressList("To")
	if len(to) != 1 || to[0].Name != "Örjan Ängström" || to[0].Address != "orjan@example.se" {
		t.Errorf("To = %v", to)
	}
	replyTo, _ := p.h.AddressList("Reply-To")
	if len(replyTo) != 1 || replyTo[0].Address != "kundtjanst@akesson.example" {
		t.Errorf("Reply-To = %v", replyTo)
	}
	if subj, _ := p.h.Subject(); subj != "Faktura 2026-0042 från Åkesson & Söner AB" {
		t.Errorf("Subject = %q", subj)
	}
	if raw := p.h.Get("Subject"); !strings.Contains(raw, "=?utf-8?") {
		t.Errorf("raw Subject %q is not RFC 2047 encoded", raw)
	}
	if id, _ := p.h.MessageID(); id != "F0000001-0000001@acme.example" {
		t.Errorf("Message-ID = %q", id)
	}
	if k := p.h.Get("X-Multikanal-Key"); k != "F0000001-0000001" {
		t.Errorf("X-Multikanal-Key = %q", k)
	}
	if d, err := p.h.Date(); err != nil || d.IsZero() {
		t.Errorf("Date: %v %v", d, err)
	}
	if ct, params, _ := p.textHeader.ContentType(); ct != "text/plain" || params["charset"] != "utf-8" ||
		p.textHeader.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Errorf("text part: %s %v %s", ct, params, p.textHeader.Get("Content-Transfer-Encoding"))
	}
	for _, want := range []string{"faktura 2026-0042 från Åkesson & Söner AB", "Att betala: 1\u00a0656,25 SEK",
		"Förfallodag: 2026-05-31", "OCR-nummer: 4600263", "Bankgiro: 5050-1055", "bilagan faktura-2026-0042.pdf",
		"kundtjanst@akesson.example"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("text lacks %q:\n%s", want, p.text)
		}
	}
	pdf, ok := p.attachments["faktura-2026-0042.pdf"]
	if !ok {
		t.Fatalf("no attachment faktura-2026-0042.pdf; have %v", p.attHeaders)
	}
	if !bytes.Equal(pdf, fakePDF) {
		t.Errorf("attached PDF differs from the rendered one")
	}
	ah := p.attHeaders["faktura-2026-0042.pdf"]
	if ct, _, _ := ah.ContentType(); ct != "application/pdf" || ah.Get("Content-Transfer-Encoding") != "base64" {
		t.Errorf("attachment: %s, %s", ct, ah.Get("Content-Transfer-Encoding"))
	}
}

// TestRenderAndSend renders an invoice, sends it with the SMTP transport
// over STARTTLS with AUTH to a real go-smtp server, and reads what arrived.
func TestRenderAndSend(t *testing.T) {
	c := channel(t, email.Options{From: "Faktura <faktura@acme.example>", PDF: fakeRenderer})
	m, err := c.Render(invoice(), "orjan@example.se", "F0000001-0000001")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "F0000001-0000001.eml" || m.ContentType != "message/rfc822" || m.To != "orjan@example.se" || m.Key != "F0000001-0000001" {
		t.Errorf("message = %+v", outbound.Message{Key: m.Key, Name: m.Name, ContentType: m.ContentType, To: m.To})
	}
	checkInvoiceMail(t, m.Body)

	srv := smtptest.NewServer(t, smtptest.Config{Username: "multikanal", Password: "hemligt"})
	tr, err := smtp.New(smtp.Options{Addr: srv.Addr, RootCAs: srv.Pool, Username: "multikanal", Password: "hemligt", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := tr.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Ref != "F0000001-0000001@acme.example" {
		t.Errorf("Ref = %q, want the Message-ID", sent.Ref)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages", len(got))
	}
	if got[0].From != "faktura@acme.example" || len(got[0].To) != 1 || got[0].To[0] != "orjan@example.se" || !got[0].TLS {
		t.Errorf("envelope %s -> %v (TLS %v)", got[0].From, got[0].To, got[0].TLS)
	}
	if !bytes.Equal(got[0].Data, m.Body) {
		t.Errorf("the server received other bytes than were rendered")
	}
	checkInvoiceMail(t, got[0].Data)
}

// A retry renders the same delivery again, later: the Message-ID stays, so
// the receiver can tell it is the same message.
func TestMessageIDIsStablePerKey(t *testing.T) {
	c := channel(t, email.Options{From: "faktura@acme.example", Domain: "mk.acme.example"})
	id := func(key string) string {
		m, err := c.Render(invoice(), "orjan@example.se", key)
		if err != nil {
			t.Fatal(err)
		}
		p := parse(t, m.Body)
		id, err := p.h.MessageID()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := id("F0000001-0000001")
	email.SetNow(c, func() time.Time { return time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC) })
	if again := id("F0000001-0000001"); again != first || first != "F0000001-0000001@mk.acme.example" {
		t.Errorf("Message-ID %q, then %q", first, again)
	}
	if other := id("F0000001-0000002"); other == first {
		t.Errorf("two deliveries share Message-ID %q", other)
	}
	if odd := id("a b@c=d"); odd != "a=20b=40c=3Dd@mk.acme.example" {
		t.Errorf("Message-ID for a key with odd characters = %q", odd)
	}
}

// TestGolden keeps complete renderings in testdata/: the plain .eml the
// docs show, and one in a biller's design (text and HTML, the logo inline,
// a PDF long enough for many base64 lines) and one with the link alone, in
// English; a reminder with attachments beside its PDF (BG-24: a CSV, one
// without a MIME type; the PDF among them is taken for the document's own,
// pdf.Attached) and a letter in English with one. They
// hold the bytes go-message's writer wrote (the files were made with it),
// so a faster way of writing the message must write the same message.
// go test -update rewrites them.
func TestGolden(t *testing.T) {
	// A PDF of every byte value, 1,000 bytes: base64 lines of 76, and a
	// last line that ends in padding.
	pdf := []byte("%PDF-1.7\n")
	for i := 0; len(pdf) < 1000; i++ {
		pdf = append(pdf, byte(i*7))
	}
	look := &formats.Look{LogoPNG: append([]byte("\x89PNG\r\n\x1a\n"), pdf[100:400]...), Colour: "#0B5CAD", Phone: "08-123 456 78",
		Email: "kundservice@acme.example", Web: "https://acme.example", Footer: "Åkesson & Söner AB · Storgatan 1, 111 22 Stockholm · Godkänd för F-skatt"}
	// Attachments beside the PDF: binary, text, and no MIME type.
	sheet := append([]byte("%PDF-1.4 tidrapport\n"), pdf[500:700]...)
	extras := []formats.Attachment{
		{ID: "ts", Description: "Tidrapport", MimeCode: "application/pdf", Filename: "tidrapport mars.pdf", Data: sheet},
		{ID: "c", MimeCode: "text/csv", Filename: "rader.csv", Data: []byte("artikel;antal\nkonsultation;12\n")},
		{ID: "b", Filename: "data.bin", Data: pdf[3:61]},
	}
	for _, tc := range []struct {
		file   string
		letter *formats.Letter
		change func(*formats.Document)
	}{
		{"faktura.eml", nil, nil},
		{"faktura-design.eml", &formats.Letter{Tenant: "acme", Language: "sv", Attach: true, Look: look,
			Message: "Betala enkelt med Swish: skanna koden på fakturan med Swish-appen. En rad som är längre än sjuttiosex tecken bryts mjukt.",
			Link:    "https://faktura.acme.example/i/F0000001-0000001.email/20260501/c2lnbmF0dXJlLXRoYXQtaXMtbG9uZy1lbm91Z2gtdG8tYnJlYWs"}, nil},
		{"invoice-link-en.eml", &formats.Letter{Tenant: "acme", Language: "en", Look: &formats.Look{Colour: "#123456"},
			Link: "https://faktura.acme.example/i/F0000001-0000001.email/20260501/sig"}, nil},
		{"paminnelse-bilagor.eml", &formats.Letter{Tenant: "acme", Language: "sv", Attach: true, Look: look}, func(d *formats.Document) {
			d.Kind, d.Number = formats.KindReminder, "P-2026-0042"
			d.Reminder = &formats.Reminder{Invoice: "2026-0042", Sequence: 1, Outstanding: formats.MustAmount("1656.25"),
				Fee: formats.MustAmount("60"), Interest: formats.MustAmount("12.40")}
			d.Attachments = extras
		}},
		{"letter-en.eml", &formats.Letter{Tenant: "acme", Language: "en", Attach: true}, func(d *formats.Document) {
			d.Kind, d.Number, d.Subject = formats.KindLetter, "B-7", "New prices from 1 July"
			d.Attachments = extras[1:2]
		}},
	} {
		c := channel(t, email.Options{From: "Faktura <faktura@acme.example>", PDF: func(*formats.Document) ([]byte, error) {
			if tc.letter == nil {
				return fakePDF, nil
			}
			return pdf, nil
		}})
		d := invoice()
		d.Letter = tc.letter
		if tc.change != nil {
			tc.change(d)
		}
		m, err := c.Render(d, "orjan@example.se", "F0000001-0000001")
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.WriteFile(golden, m.Body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(m.Body, want) {
			t.Errorf("rendering differs from %s (go test -update rewrites it after checking the change):\n%s", golden, m.Body)
		}
	}
}

func TestRenderVariants(t *testing.T) {
	cases := []struct {
		name    string
		opts    email.Options
		change  func(*formats.Document)
		subject string
		text    []string
		notText []string
		attach  string // expected attachment name, "" for none
	}{
		{name: "credit note", opts: email.Options{PDF: fakeRenderer},
			change:  func(d *formats.Document) { d.Kind = formats.KindCreditNote },
			subject: "Kreditnota 2026-0042 från Åkesson & Söner AB",
			text:    []string{"kreditnota 2026-0042", "Belopp att tillgodoräkna: 1\u00a0656,25 SEK", "Kreditnotan finns som PDF"},
			notText: []string{"OCR-nummer", "Att betala"}, attach: "kreditnota-2026-0042.pdf"},
		{name: "link instead of attachment", opts: email.Options{PDF: fakeRenderer, LinkBase: "https://faktura.acme.example/f/"},
			text: []string{"https://faktura.acme.example/f/F0000001-0000001"}, notText: []string{"bilagan"}},
		{name: "no PDF renderer", opts: email.Options{},
			text: []string{"Fakturan finns inte som bilaga", "OCR-nummer: 4600263"}},
		{name: "the invoice's own PDF", opts: email.Options{},
			change: func(d *formats.Document) {
				d.Attachments = []formats.Attachment{{ID: "1", MimeCode: "application/pdf", Filename: "x.pdf", Data: fakePDF}}
			}, text: []string{"bilagan faktura-2026-0042.pdf"}, attach: "faktura-2026-0042.pdf"},
		{name: "collected by AutoGiro", opts: email.Options{PDF: fakeRenderer},
			change: func(d *formats.Document) {
				d.PaymentMeans = []formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "4711", PaymentID: "4600263"}}
				d.Payment = &formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "4711", Date: d.DueDate, Reference: "4600263"}
			}, text: []string{"Dras via autogiro 2026-05-31. Beloppet dras från ditt konto", "Förfallodag: 2026-05-31"},
			notText: []string{"OCR-nummer", "Bankgiro", "Swish"}, attach: "faktura-2026-0042.pdf"},
		// The invoice names a payer number, but routing found no active
		// mandate: the customer must pay, and is told how.
		{name: "payer number, not collected", opts: email.Options{PDF: fakeRenderer},
			change: func(d *formats.Document) {
				d.PaymentMeans = append([]formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "4711", PaymentID: "4600263"}}, d.PaymentMeans...)
				d.Payment = &formats.Payment{Method: formats.PayTransfer, Bankgiro: "9912346", Reference: "4600263", Swish: "1239876543"}
			}, text: []string{"OCR-nummer: 4600263", "Bankgiro: 991-2346", "Swish: 123 987 65 43"}, notText: []string{"autogiro"},
			attach: "faktura-2026-0042.pdf"},
		{name: "payer number, no decision (rendered outside the daemon)", opts: email.Options{PDF: fakeRenderer},
			change: func(d *formats.Document) {
				d.PaymentMeans = append([]formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "4711", PaymentID: "4600263"}}, d.PaymentMeans...)
			}, text: []string{"OCR-nummer: 4600263"}, notText: []string{"autogiro"}, attach: "faktura-2026-0042.pdf"},
		{name: "plusgiro", opts: email.Options{},
			change: func(d *formats.Document) {
				d.PaymentMeans = []formats.PaymentMeans{{Code: "30", PaymentID: "4600263", Account: "4410097", AccountScheme: formats.AccountPlusgiro}}
			}, text: []string{"Plusgiro: 441009-7"}, notText: []string{"Bankgiro"}},
		{name: "tenant templates", opts: email.Options{Subject: "Din {{.Kind | printf \"%s\"}} nr {{.Number}}\n",
			Body: "Belopp {{.Amount}} kr, senast {{.DueDate}}.\n"},
			subject: "Din Faktura nr 2026-0042", text: []string{"Belopp 1\u00a0656,25 kr, senast 2026-05-31."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := invoice()
			if c.change != nil {
				c.change(d)
			}
			m, err := channel(t, c.opts).Render(d, "orjan@example.se", "F0000001-0000001")
			if err != nil {
				t.Fatal(err)
			}
			p := parse(t, m.Body)
			if subj, _ := p.h.Subject(); c.subject != "" && subj != c.subject {
				t.Errorf("Subject = %q, want %q", subj, c.subject)
			}
			for _, w := range c.text {
				if !strings.Contains(p.text, w) {
					t.Errorf("text lacks %q:\n%s", w, p.text)
				}
			}
			for _, w := range c.notText {
				if strings.Contains(p.text, w) {
					t.Errorf("text has %q:\n%s", w, p.text)
				}
			}
			var names []string
			for n := range p.attachments {
				names = append(names, n)
			}
			if c.attach == "" && len(names) != 0 || c.attach != "" && (len(names) != 1 || names[0] != c.attach) {
				t.Errorf("attachments %v, want %q", names, c.attach)
			}
		})
	}
}

func TestRenderWithoutAddressUsesTheInvoice(t *testing.T) {
	m, err := channel(t, email.Options{}).Render(invoice(), "", "k")
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, m.Body)
	if to, _ := p.h.AddressList("To"); len(to) != 1 || to[0].Address != "orjan@example.se" || m.To != "orjan@example.se" {
		t.Errorf("To = %v, message To %q", to, m.To)
	}
	if from, _ := p.h.AddressList("From"); len(from) != 1 || from[0].Address != email.DefaultFrom {
		t.Errorf("From = %v", from)
	}
}

func TestRenderFailsWhenThePDFDoes(t *testing.T) {
	c := channel(t, email.Options{PDF: func(*formats.Document) ([]byte, error) { return nil, errors.New("font missing") }})
	if _, err := c.Render(invoice(), "orjan@example.se", "k"); err == nil || !strings.Contains(err.Error(), "font missing") {
		t.Errorf("err = %v", err)
	}
}

func TestNewChecksOptions(t *testing.T) {
	cases := []struct {
		name   string
		o      email.Options
		errHas string
	}{
		{"bad from", email.Options{From: "Acme faktura"}, "not an e-mail address"},
		{"subject does not parse", email.Options{Subject: "{{.Number"}, "subject template"},
		{"unknown field", email.Options{Body: "{{.Amout}}"}, "body template"},
		{"link base not a URL", email.Options{LinkBase: "faktura.acme.example"}, "link base"},
	}
	for _, c := range cases {
		if _, err := email.New(c.o); err == nil || !strings.Contains(err.Error(), c.errHas) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.errHas)
		}
	}
}

type registry map[string]string

func (r registry) Lookup(_ *formats.Document, ch string) (string, string, bool) {
	a, ok := r[ch]
	return a, "test registry", ok
}

func TestEligible(t *testing.T) {
	cases := []struct {
		name   string
		change func(*formats.Document)
		reg    outbound.Registry
		ok     bool
		want   string
	}{
		{"buyer contact", nil, outbound.NoRegistry{}, true, "orjan@example.se"},
		{"endpoint under EM", func(d *formats.Document) {
			d.Buyer.Contact.Email = ""
			d.Buyer.Endpoint = formats.Identifier{Scheme: "EM", Value: "ap@example.se"}
		}, outbound.NoRegistry{}, true, "ap@example.se"},
		{"registry", func(d *formats.Document) { d.Buyer.Contact.Email = "" }, registry{"email": "reg@example.se"}, true, "reg@example.se"},
		{"invalid address", func(d *formats.Document) { d.Buyer.Contact.Email = "orjan at example" }, outbound.NoRegistry{}, false, "not a valid address"},
		{"none", func(d *formats.Document) { d.Buyer.Contact.Email = "" }, outbound.NoRegistry{}, false, "no e-mail address"},
	}
	c := channel(t, email.Options{})
	for _, tc := range cases {
		d := invoice()
		if tc.change != nil {
			tc.change(d)
		}
		e := c.Eligible(d, tc.reg)
		if e.OK != tc.ok || !strings.Contains(e.Address+" "+e.Reason, tc.want) {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
}
