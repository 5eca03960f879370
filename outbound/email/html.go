package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"strings"

	"github.com/emersion/go-message"

	"github.com/multikanal/multikanal/formats"
)

// The HTML part says what the text part says, in the biller's design: the
// text is the one source (the templates), cut into paragraphs, with the
// link to the invoice page as a button and the logo as an inline image.
// Mail clients show one of the two (multipart/alternative); a client
// that shows no HTML still has every word.

// logoCID is the Content-ID of the inline logo.
const logoCID = "logo@multikanal"

// htmlBody is the HTML version of text for the letter's look.
func htmlBody(text string, data TemplateData, l *formats.Letter) ([]byte, error) {
	look := l.Look
	v := struct {
		Lang, Colour, Seller, Link, Footer string
		Logo                               bool
		Paragraphs                         [][]string
		Contact                            []string
	}{Lang: l.Language, Colour: "#1a1a1a", Seller: data.Seller, Link: data.Link, Logo: len(look.LogoPNG) > 0, Footer: look.Footer}
	if v.Lang == "" {
		v.Lang = "sv"
	}
	if look.Colour != "" {
		v.Colour = look.Colour
	}
	for _, c := range []string{look.Phone, look.Email, look.Web} {
		if c != "" {
			v.Contact = append(v.Contact, c)
		}
	}
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		var lines []string
		for _, line := range strings.Split(para, "\n") {
			if line = strings.TrimSpace(line); line != "" && line != data.Link {
				lines = append(lines, line)
			}
		}
		if len(lines) > 0 {
			v.Paragraphs = append(v.Paragraphs, lines)
		}
	}
	var b bytes.Buffer
	err := htmlTemplate.Execute(&b, v)
	return b.Bytes(), err
}

var htmlTemplate = template.Must(template.New("html").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Seller}}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;color:#1a1a1a;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:16px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-top:4px solid {{.Colour}}">
<tr><td style="padding:20px 24px">{{if .Logo}}<img src="cid:` + logoCID + `" alt="{{.Seller}}" height="48" style="display:block;height:48px;max-width:100%">{{else}}<strong style="font-size:20px">{{.Seller}}</strong>{{end}}</td></tr>
<tr><td style="padding:0 24px 8px">
{{range .Paragraphs}}<p style="margin:0 0 16px">{{range $i, $l := .}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{end}}{{with .Link}}<p style="margin:0 0 24px"><a href="{{.}}" style="display:inline-block;background:{{$.Colour}};color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 20px;border-radius:6px">{{if eq $.Lang "en"}}View and pay the invoice{{else}}Se och betala fakturan{{end}}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#4a4a4a;word-break:break-all">{{.}}</p>{{end}}
</td></tr>
{{if or .Contact .Footer}}<tr><td style="padding:16px 24px;border-top:1px solid #e0e0e0;font-size:13px;color:#4a4a4a">{{range $i, $c := .Contact}}{{if $i}} · {{end}}{{$c}}{{end}}{{if .Footer}}<br>{{.Footer}}{{end}}</td></tr>{{end}}
</table></td></tr></table>
</body></html>
`))

// writeBody writes the text and, with a letter, its HTML version (and the
// inline logo) into the message w.
func writeBody(w *message.Writer, key string, text []byte, data TemplateData, l *formats.Letter) error {
	var th message.Header
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	if l == nil || l.Look == nil {
		return writePart(w, th, text)
	}
	html, err := htmlBody(string(text), data, l)
	if err != nil {
		return err
	}
	parent := w
	var related *message.Writer
	if len(l.Look.LogoPNG) > 0 {
		var rh message.Header
		rh.SetContentType("multipart/related", map[string]string{"boundary": boundary(key, "rel"), "type": "multipart/alternative"})
		if related, err = w.CreatePart(rh); err != nil {
			return err
		}
		parent = related
	}
	var ah message.Header
	ah.SetContentType("multipart/alternative", map[string]string{"boundary": boundary(key, "alt")})
	alt, err := parent.CreatePart(ah)
	if err != nil {
		return err
	}
	if err := writePart(alt, th, text); err != nil {
		return err
	}
	var hh message.Header
	hh.Set("Content-Transfer-Encoding", "quoted-printable")
	hh.SetContentType("text/html", map[string]string{"charset": "utf-8"})
	if err := writePart(alt, hh, html); err != nil {
		return err
	}
	if err := alt.Close(); err != nil {
		return err
	}
	if related == nil {
		return nil
	}
	var lh message.Header
	lh.Set("Content-Transfer-Encoding", "base64")
	lh.SetContentType("image/png", nil)
	lh.SetContentDisposition("inline", map[string]string{"filename": "logo.png"})
	lh.Set("Content-Id", "<"+logoCID+">")
	if err := writePart(related, lh, l.Look.LogoPNG); err != nil {
		return err
	}
	return related.Close()
}

// boundary is a nested part's boundary, derived from the key like the
// message's own, so the output stays a function of its inputs.
func boundary(key, what string) string {
	sum := sha256.Sum256([]byte(what + "\x00" + key))
	return "=_mk_" + what + "_" + hex.EncodeToString(sum[:10])
}
