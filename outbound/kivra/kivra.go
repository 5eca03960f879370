// Package kivra is the Kivra channel: the invoice to the recipient's digital
// mailbox, addressed by personnummer, through Kivra's sender API.
package kivra

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the Kivra channel.
type Channel struct{}

// New returns the Kivra channel.
func New() *Channel { return &Channel{} }

// Name is "kivra".
func (*Channel) Name() string { return outbound.Kivra }

// Eligible when the registry holds a Kivra match for the buyer (Kivra's
// usermatch answer, cached); a personnummer alone is not enough.
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	if addr, src, found := reg.Lookup(doc, outbound.Kivra); found {
		return outbound.Eligibility{OK: true, Address: addr, Reason: "Kivra match from " + src}
	}
	if doc.Buyer.PersonalID == "" {
		return outbound.Eligibility{Reason: "no personnummer for the buyer, Kivra cannot be asked"}
	}
	return outbound.Eligibility{Reason: "no Kivra match for the buyer"}
}

// Render produces the content for Kivra's API.
func (c *Channel) Render(doc *formats.Document, to, key string) (outbound.Message, error) {
	return outbound.JSONMessage(c.Name(), doc, to, key)
}
