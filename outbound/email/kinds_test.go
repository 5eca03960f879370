package email_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
	"github.com/multikanal/multikanal/outbound/email"
)

// parts are a message's leaf parts: content type and decoded body.
func parts(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var walk func(ct string, r io.Reader)
	walk = func(ct string, r io.Reader) {
		mt, params, _ := mime.ParseMediaType(ct)
		if !strings.HasPrefix(mt, "multipart/") {
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			pct := p.Header.Get("Content-Type")
			if strings.HasPrefix(pct, "multipart/") {
				walk(pct, p)
				continue
			}
			b, _ := io.ReadAll(p)
			if p.Header.Get("Content-Transfer-Encoding") == "base64" {
				b, _ = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
			}
			name := p.FileName()
			if name == "" {
				name = pct
			}
			out[name] = b
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Body)
	return out
}

// An invoice's attachments (BG-24) travel beside its PDF: the PDF the
// invoice carries as its own rendering once, as the invoice; every other
// one as an attachment of its own, named in the text. On the old code
// only the PDF went.
func TestAttachmentsTravelBesideThePDF(t *testing.T) {
	own := []byte("%PDF-1.4 the biller's own invoice")
	spec := []byte("%PDF-1.4 the time sheet")
	doc := invoice()
	doc.Attachments = []formats.Attachment{
		{ID: doc.Number, Description: "Faktura", MimeCode: "application/pdf", Filename: "faktura.pdf", Data: own},
		{ID: "ts", Description: "Tidrapport", MimeCode: "application/pdf", Filename: "tidrapport mars.pdf", Data: spec},
		{ID: "c", MimeCode: "text/csv", Filename: "rader.csv", Data: []byte("a;b\n")},
		{ID: "u", URI: "https://example.se/x"},
	}
	srcPDF := func(d *formats.Document) ([]byte, error) { b, _ := pdf.Attached(d); return b, nil }
	c := channel(t, email.Options{From: "faktura@acme.example", PDF: srcPDF})
	m, err := c.Render(doc, "orjan@example.se", "K1")
	if err != nil {
		t.Fatal(err)
	}
	got := parts(t, m.Body)
	if !bytes.Equal(got["faktura-"+doc.Number+".pdf"], own) || !bytes.Equal(got["tidrapport_mars.pdf"], spec) || string(got["rader.csv"]) != "a;b\n" {
		t.Errorf("parts: %v", keys(got))
	}
	var pdfs int
	for k := range got {
		if strings.HasSuffix(k, ".pdf") {
			pdfs++
		}
	}
	if pdfs != 2 {
		t.Errorf("%d PDF parts, want the invoice's and the time sheet: %v", pdfs, keys(got))
	}
	if text := string(got["text/plain; charset=utf-8"]); !strings.Contains(text, "Bilagor: tidrapport_mars.pdf, rader.csv") {
		t.Errorf("the text does not name the attachments:\n%s", text)
	}
}

// A letter goes with the ERP's subject and PDF; a reminder says which
// invoice it is about, its fee and its interest.
func TestLetterAndReminderMail(t *testing.T) {
	c := channel(t, email.Options{From: "faktura@acme.example"})
	letter := &formats.Document{Kind: formats.KindNotice, Number: "N-1", Subject: "Nya priser från 1 januari", Seller: formats.Party{Name: "Acme"},
		Buyer:       formats.Party{Name: "Lisa", Contact: formats.Contact{Email: "lisa@example.se"}},
		Attachments: []formats.Attachment{{MimeCode: "application/pdf", Data: []byte("%PDF-1.4 letter")}}}
	m, err := c.Render(letter, "", "K2")
	if err != nil {
		t.Fatal(err)
	}
	got := parts(t, m.Body)
	msg, _ := mail.ReadMessage(bytes.NewReader(m.Body))
	if subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subject != "Nya priser från 1 januari från Acme" {
		t.Errorf("subject %q", subject)
	}
	if string(got["meddelande-N-1.pdf"]) != "%PDF-1.4 letter" || !strings.Contains(string(got["text/plain; charset=utf-8"]), "Här kommer meddelande från Acme: Nya priser från 1 januari.") {
		t.Errorf("letter parts %v\n%s", keys(got), got["text/plain; charset=utf-8"])
	}
	rem := invoice()
	rem.Kind, rem.Number = formats.KindReminder, "2018210-P1"
	rem.Reminder = &formats.Reminder{Invoice: "2018210", Sequence: 1, Outstanding: 150000, Fee: 6000, Interest: 1234}
	m, err = c.Render(rem, "orjan@example.se", "K3")
	if err != nil {
		t.Fatal(err)
	}
	text := string(parts(t, m.Body)["text/plain; charset=utf-8"])
	for _, want := range []string{"Vi har inte fått betalt för faktura 2018210", "påminnelse 2018210-P1", "Påminnelseavgift: 60,00 SEK", "Dröjsmålsränta: 12,34 SEK"} {
		if !strings.Contains(text, want) {
			t.Errorf("reminder text lacks %q:\n%s", want, text)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
