package email

import (
	"bytes"
	"html/template"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// htmlPage is the HTML part's template whole, as it was before htmlBody
// cut it in parts: the reference htmlBody must write the bytes of.
var htmlPage = template.Must(template.New("html").Parse(`<!doctype html>
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

// htmlBodyWhole is htmlBody as it was: the whole template executed.
func htmlBodyWhole(text string, data TemplateData, l *formats.Letter) ([]byte, error) {
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
	err := htmlPage.Execute(&b, v)
	return b.Bytes(), err
}

// htmlBody writes what the whole template writes, for text, links, names
// and looks that need escaping, with and without logo, link and contact,
// in both languages, and again from its kept parts.
func TestHTMLBodyAsWholeTemplate(t *testing.T) {
	texts := []string{
		"Hej!\n\nHär kommer faktura 1 från Å & Ö <AB>.\n\nAtt betala: 1\u00a0000,00 SEK\n\nhttps://x.example/i/1?a=b&c=d\n",
		"One line with 'quotes', \"double\", a+b, a NUL \x00 and bad UTF-8 \xff\xfe.",
		"\n\n  spaced  \n\n\n\nparagraphs\n  \n",
		"",
	}
	links := []string{"", "https://x.example/i/1?a=b&c=d", "https://x.example/p/å ö\"<>", "javascript:alert(1)"}
	looks := []*formats.Look{
		{},
		{LogoPNG: []byte("png"), Colour: "#0B5CAD", Phone: "08-1", Email: "a@b.example", Web: "https://b.example", Footer: "Åkesson & Söner AB · <F-skatt>"},
		{Colour: "#123456", Footer: "only a footer"},
		{Phone: "08-2"},
	}
	for round := range 2 { // the second from the kept heads and feet
		for _, text := range texts {
			for _, link := range links {
				for li, look := range looks {
					for _, lang := range []string{"", "sv", "en"} {
						for _, seller := range []string{"Demo AB", "Å & Ö \"<Co>\" +1"} {
							l := &formats.Letter{Language: lang, Look: look}
							data := TemplateData{Seller: seller, Link: link}
							want, err := htmlBodyWhole(text, data, l)
							if err != nil {
								t.Fatal(err)
							}
							got, err := htmlBody(text, data, l)
							if err != nil {
								t.Fatal(err)
							}
							if !bytes.Equal(got, want) {
								t.Fatalf("round %d, text %.20q, link %q, look %d, lang %q, seller %q:\n%s\nwant\n%s", round, text, link, li, lang, seller, got, want)
							}
						}
					}
				}
			}
		}
	}
}
