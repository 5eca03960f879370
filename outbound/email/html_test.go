package email_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	gomail "github.com/emersion/go-message/mail"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound/email"
)

// With the biller's letter, the e-mail has the text and an HTML version of
// it (multipart/alternative) in the biller's colour with its logo inline
// (multipart/related, Content-ID), the message block, the page's link as
// a button, and the PDF beside; in English for an English letter.
func TestHTMLWithLetter(t *testing.T) {
	c := channel(t, email.Options{From: "Acme <faktura@acme.example>", PDF: fakeRenderer})
	logo := []byte("\x89PNG\r\n\x1a\nfake")
	d := invoice()
	d.Letter = &formats.Letter{Tenant: "acme", Language: "sv", Message: "Vårerbjudande: fast pris.", Link: "https://faktura.acme.example/i/K.email/x/sig", Attach: true,
		Look: &formats.Look{LogoPNG: logo, Colour: "#0B5CAD", Phone: "08-1", Footer: "Acme AB · Stockholm"}}
	m, err := c.Render(d, "kund@example.se", "K.email")
	if err != nil {
		t.Fatal(err)
	}
	r, err := gomail.CreateReader(bytes.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]string{}
	var cid string
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		ct, _, _ := p.Header.(interface {
			ContentType() (string, map[string]string, error)
		}).ContentType()
		parts[ct] = string(b)
		if ct == "image/png" {
			cid = p.Header.(*gomail.InlineHeader).Get("Content-Id")
		}
	}
	text, html := parts["text/plain"], parts["text/html"]
	for _, want := range []string{"Vårerbjudande: fast pris.", "https://faktura.acme.example/i/K.email/x/sig", "och betala den här"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{`lang="sv"`, "Vårerbjudande: fast pris.", `href="https://faktura.acme.example/i/K.email/x/sig"`, "#0B5CAD", `src="cid:logo@multikanal"`, "Acme AB · Stockholm", "Se och betala fakturan"} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML lacks %q", want)
		}
	}
	if parts["image/png"] != string(logo) || cid != "<logo@multikanal>" {
		t.Errorf("the inline logo: %q, Content-Id %q", parts["image/png"], cid)
	}
	if parts["application/pdf"] == "" {
		t.Error("attach: the PDF is missing")
	}

	d.Letter.Language, d.Letter.Attach = "en", false
	m, err = c.Render(d, "kund@example.se", "K.email")
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, m.Body)
	if s, _ := p.h.Subject(); !strings.HasPrefix(s, "Invoice ") {
		t.Errorf("English subject %q", s)
	}
	if len(p.attachments) != 0 {
		t.Errorf("attach = false: attachments %v", p.attachments)
	}
}
