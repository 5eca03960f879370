package design

import (
	"bytes"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// Preview is the hosted invoice page of body as a customer who got it on
// channel would see it, for `multikanal convert --out`: the same template
// and view the public listener serves, with pdfHref as the PDF's link
// (the PDF beside it). Nothing is recorded: no link, no "opened".
func Preview(cfg *config.Config, t config.Tenant, body *formats.Document, channel, pdfHref string) ([]byte, error) {
	p := &Pages{Config: func() *config.Config { return cfg }}
	doc := *body
	doc.Letter = LetterOf(t, &doc, channel)
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p.view(t, &store.Delivery{Channel: channel}, &doc, pdfHref)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RenderPDF draws body's PDF in its letter's design with the
// configuration's renderers, as the page's PDF link serves it.
func RenderPDF(cfg *config.Config, t config.Tenant, body *formats.Document, channel string) ([]byte, error) {
	p := &Pages{Config: func() *config.Config { return cfg }}
	doc := *body
	doc.Letter = LetterOf(t, &doc, channel)
	return p.render(&doc)
}
