package config

import (
	"slices"
	"time"
)

// Page is a tenant's [tenant.page] table: the hosted invoice page, the
// links to it that the invoices carry, and the fallback for an invoice
// whose page nobody opened (docs/design.md#the-invoice-page). The page is
// served on the public listener, so it needs [public] listen.
type Page struct {
	// Links are the channels whose invoices carry a link to the page:
	// the e-mail ("med länk"), the SMS (its payment link) and the paper
	// invoice (a short URL and a QR code).
	Links []string `toml:"links"`
	// Attach keeps the PDF in an e-mail that carries the link; false
	// sends the link alone. Default true.
	Attach *bool `toml:"attach"`
	// Expires is how long after the send a link opens the page; default
	// 90 days.
	Expires Duration `toml:"expires"`
	// NotOpened is, by channel, how long the page may go unopened after
	// the send before the invoice falls back to its next channel (a
	// letter): {email = "48h"}.
	NotOpened map[string]Duration `toml:"not_opened"`
}

// DefaultPageExpiry is how long a link opens the page without expires.
const DefaultPageExpiry = Duration(90 * 24 * time.Hour)

// Linked reports whether the tenant's invoices on channel carry a link to
// the page.
func (t *Tenant) Linked(channel string) bool {
	return t.Page != nil && slices.Contains(t.Page.Links, channel)
}

// AttachPDF reports whether an e-mail with a link also carries the PDF.
func (p *Page) AttachPDF() bool { return p == nil || p.Attach == nil || *p.Attach }

// OpenWithin is how long the page of an invoice sent on channel may stay
// unopened before it falls back; 0 for no such fallback.
func (t *Tenant) OpenWithin(channel string) time.Duration {
	if t.Page == nil {
		return 0
	}
	return time.Duration(t.Page.NotOpened[channel])
}

func (c *Config) validatePage(ps *problems, key string, t *Tenant) {
	p := t.Page
	if p == nil {
		return
	}
	key += ".page"
	if c.Public.Listen == "" {
		ps.add(key, `the invoice page is served on the public listener: set [public] listen and base_url, or remove the table`)
	}
	distribution := c.distribution()
	for _, name := range p.Links {
		if !slices.Contains(distribution, name) {
			ps.add(key+".links", "unknown channel %q: the channels are %s", name, quoteList(distribution))
		}
	}
	if p.Expires == 0 {
		p.Expires = DefaultPageExpiry
	}
	checkDuration(ps, key+".expires", p.Expires)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range p.NotOpened {
			if !yield(n) {
				return
			}
		}
	}) {
		d := p.NotOpened[name]
		switch {
		case !slices.Contains(p.Links, name):
			ps.add(key+".not_opened."+name, "%q sends no link to the page, so nobody can open it: add it to links or remove it here", name)
		case d <= 0:
			checkDuration(ps, key+".not_opened."+name, d)
		case d > p.Expires:
			ps.add(key+".not_opened."+name, "%s is longer than the link lives (expires %s)", time.Duration(d), time.Duration(p.Expires))
		}
	}
}
