// Package email is the e-mail channel: the invoice as a MIME message with its
// PDF, sent through an SMTP relay.
package email

import (
	"net/mail"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the e-mail channel.
type Channel struct{}

// New returns the e-mail channel.
func New() *Channel { return &Channel{} }

// Name is "email".
func (*Channel) Name() string { return outbound.Email }

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
	if addr, src, found := reg.Lookup(doc, outbound.Email); found {
		return outbound.Eligibility{OK: true, Address: addr, Reason: "address registered by " + src}
	}
	if invalid != "" {
		return outbound.Eligibility{Reason: "buyer e-mail " + invalid + " is not a valid address"}
	}
	return outbound.Eligibility{Reason: "no e-mail address for the buyer"}
}

// Render produces the message.
func (c *Channel) Render(doc *formats.Document, to, key string) (outbound.Message, error) {
	return outbound.JSONMessage(c.Name(), doc, to, key)
}
