// Package design is the biller's own invoice: how each tenant's invoices
// look and speak on every channel. It turns a tenant's [tenant.design]
// (config.Design) into the formats.Letter a renderer reads: the look
// (logo, colour, font, contact block, footer), the language (the
// recipient's when the input gives one, else the tenant's) and the
// message block.
//
// It is pure: it reads the configuration in force through the function it
// is given and keeps no state, so a reload applies at once. It does not
// render anything itself; the channels do, each in its own folder.
package design

import (
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
)

// Designs answers, for each document a channel is about to render, the
// letter of its tenant.
type Designs struct {
	// Tenant is a configured tenant's configuration.
	Tenant func(id string) (config.Tenant, bool)
	// Link is the signed link to a delivery's invoice page, opening until
	// expires; "" when no page is served (the public listener is off).
	Link func(delivery string, expires time.Time) string
}

// Letter is how the tenant speaks to the document's recipient on the
// channel, for the delivery id made at created; nil for a tenant that is
// not configured. On a channel the tenant sends links on ([tenant.page]
// links) it carries the link to the page, which expires page.expires
// after the delivery was made: a retry renders the same link.
func (d Designs) Letter(tenant string, doc *formats.Document, channel, delivery string, created time.Time) *formats.Letter {
	t, ok := d.Tenant(tenant)
	if !ok {
		return nil
	}
	l := LetterOf(t, doc, channel)
	// The page shows an invoice: other kinds go without a link to one.
	if d.Link != nil && t.Linked(channel) && doc.Kind.Billing() {
		l.Link = d.Link(delivery, created.Add(time.Duration(t.Page.Expires)))
		l.Attach = t.Page.AttachPDF()
	}
	return l
}

// LetterOf is the tenant's letter for the document on the channel.
func LetterOf(t config.Tenant, doc *formats.Document, channel string) *formats.Letter {
	l := &formats.Letter{Tenant: t.ID, Language: Language(t, doc), Look: t.Look()}
	if t.Design == nil {
		return l
	}
	l.Message = strings.TrimSpace(t.Design.Message)
	// The first segment of the tenant's template file whose rules the
	// document meets on this channel gives the message.
	for i := range t.Design.Segments {
		if s := &t.Design.Segments[i]; s.Matches(doc, channel) {
			l.Segment, l.Message = s.Name, strings.TrimSpace(s.MessageIn(l.Language))
			break
		}
	}
	return l
}

// Language is the recipient's language when the input gives one the
// renderers speak, else the tenant's.
func Language(t config.Tenant, doc *formats.Document) string {
	if lang := strings.ToLower(strings.TrimSpace(doc.Language)); slices.Contains(formats.Languages, lang) {
		return lang
	}
	return t.LanguageOr()
}
