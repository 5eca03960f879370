package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"strings"
	"sync"

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
//
// It is htmlPage (kept in the tests as the reference) cut in four: the
// head and the foot, which only the biller's look, the language and the
// seller's name change, are executed once for each and kept; the link, with
// html/template's escaping of URLs, is executed for every message; the
// paragraphs are escaped here as html/template escapes text. The same
// bytes for a third of the work: the whole template, through reflection,
// was the largest part of writing a message after its base64.
func htmlBody(text string, data TemplateData, l *formats.Letter) ([]byte, error) {
	look := l.Look
	v := htmlView{Lang: l.Language, Colour: "#1a1a1a", Seller: data.Seller, Link: data.Link, Logo: len(look.LogoPNG) > 0, Footer: look.Footer}
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
	head, err := htmlParts.get(htmlHead, htmlKey{part: "head", lang: v.Lang, colour: v.Colour, seller: v.Seller, logo: v.Logo}, v)
	if err != nil {
		return nil, err
	}
	foot, err := htmlParts.get(htmlFoot, htmlKey{part: "foot", contact: strings.Join(v.Contact, "\x00"), footer: v.Footer}, v)
	if err != nil {
		return nil, err
	}
	b := bytes.NewBuffer(make([]byte, 0, len(head)+len(foot)+2*len(text)+1024))
	b.Write(head)
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		n := 0
		for _, line := range strings.Split(para, "\n") {
			if line = strings.TrimSpace(line); line == "" || line == data.Link {
				continue
			}
			if n == 0 {
				b.WriteString(`<p style="margin:0 0 16px">`)
			} else {
				b.WriteString("<br>")
			}
			writeHTMLText(b, line)
			n++
		}
		if n > 0 {
			b.WriteString("</p>\n")
		}
	}
	if v.Link != "" {
		if err := htmlLink.Execute(b, v); err != nil {
			return nil, err
		}
	}
	b.Write(foot)
	return b.Bytes(), nil
}

// htmlView is what the HTML templates see.
type htmlView struct {
	Lang, Colour, Seller, Link, Footer string
	Logo                               bool
	Contact                            []string
}

// writeHTMLText writes s escaped as html/template escapes text in an
// element (its htmlEscaper): these seven, everything else as it is.
func writeHTMLText(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(repl)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// htmlKey names an executed head or foot.
type htmlKey struct {
	part, lang, colour, seller, contact, footer string
	logo                                        bool
}

// htmlCache keeps the executed heads and feet, a few hundred at most (a
// biller has one of each per language; the seller's name is the biller's).
type htmlCache struct {
	mu    sync.Mutex
	parts map[htmlKey][]byte
}

var htmlParts = htmlCache{parts: map[htmlKey][]byte{}}

func (c *htmlCache) get(t *template.Template, k htmlKey, v htmlView) ([]byte, error) {
	c.mu.Lock()
	b, ok := c.parts[k]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.parts) >= 512 {
		clear(c.parts)
	}
	c.parts[k] = buf.Bytes()
	c.mu.Unlock()
	return buf.Bytes(), nil
}

var (
	htmlHead = template.Must(template.New("head").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Seller}}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;color:#1a1a1a;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:16px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-top:4px solid {{.Colour}}">
<tr><td style="padding:20px 24px">{{if .Logo}}<img src="cid:` + logoCID + `" alt="{{.Seller}}" height="48" style="display:block;height:48px;max-width:100%">{{else}}<strong style="font-size:20px">{{.Seller}}</strong>{{end}}</td></tr>
<tr><td style="padding:0 24px 8px">
`))
	htmlLink = template.Must(template.New("link").Parse(`{{with .Link}}<p style="margin:0 0 24px"><a href="{{.}}" style="display:inline-block;background:{{$.Colour}};color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 20px;border-radius:6px">{{if eq $.Lang "en"}}View and pay the invoice{{else}}Se och betala fakturan{{end}}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#4a4a4a;word-break:break-all">{{.}}</p>{{end}}`))
	htmlFoot = template.Must(template.New("foot").Parse(`
</td></tr>
{{if or .Contact .Footer}}<tr><td style="padding:16px 24px;border-top:1px solid #e0e0e0;font-size:13px;color:#4a4a4a">{{range $i, $c := .Contact}}{{if $i}} · {{end}}{{$c}}{{end}}{{if .Footer}}<br>{{.Footer}}{{end}}</td></tr>{{end}}
</table></td></tr></table>
</body></html>
`))
)

// The headers of the parts that are the same in every message.
var (
	textHeader = partHeader("text/plain", "quoted-printable")
	htmlHeader = partHeader("text/html", "quoted-printable")
	logoHeader = func() []byte {
		var h message.Header
		h.Set("Content-Transfer-Encoding", "base64")
		h.SetContentType("image/png", nil)
		h.SetContentDisposition("inline", map[string]string{"filename": "logo.png"})
		h.Set("Content-Id", "<"+logoCID+">")
		return headerBytes(h)
	}()
)

func partHeader(contentType, encoding string) []byte {
	var h message.Header
	h.Set("Content-Transfer-Encoding", encoding)
	h.SetContentType(contentType, map[string]string{"charset": "utf-8"})
	return headerBytes(h)
}

// writeBody writes the text and, with a letter, its HTML version (and the
// inline logo) into the message w.
func writeBody(w *mimeWriter, key string, text []byte, data TemplateData, l *formats.Letter) error {
	if l == nil || l.Look == nil {
		w.part(textHeader)
		w.quotedPrintable(text)
		return nil
	}
	html, err := htmlBody(string(text), data, l)
	if err != nil {
		return err
	}
	logo := len(l.Look.LogoPNG) > 0
	if logo {
		var rh message.Header
		rel := boundary(key, "rel")
		rh.SetContentType("multipart/related", map[string]string{"boundary": rel, "type": "multipart/alternative"})
		w.multipart(headerBytes(rh), rel)
	}
	var ah message.Header
	alt := boundary(key, "alt")
	ah.SetContentType("multipart/alternative", map[string]string{"boundary": alt})
	w.multipart(headerBytes(ah), alt)
	w.part(textHeader)
	w.quotedPrintable(text)
	w.part(htmlHeader)
	w.quotedPrintable(html)
	w.end()
	if logo {
		w.part(logoHeader)
		b64 := w.base64Writer(w.seen) // the same logo in every message
		b64.Write(l.Look.LogoPNG)
		b64.close()
		w.end()
	}
	return nil
}

// boundary is a nested part's boundary, derived from the key like the
// message's own, so the output stays a function of its inputs.
func boundary(key, what string) string {
	sum := sha256.Sum256([]byte(what + "\x00" + key))
	return "=_mk_" + what + "_" + hex.EncodeToString(sum[:10])
}
