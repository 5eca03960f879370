// Package print is the paper channel: print-ready PDFs and a manifest,
// batched and sent to a print house.
package print

import (
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the print channel.
type Channel struct{}

// New returns the print channel.
func New() *Channel { return &Channel{} }

// Name is "print".
func (*Channel) Name() string { return outbound.Print }

// Eligible whenever the buyer has a postal address: paper always works, but
// only with somewhere to send it.
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	a := doc.Buyer.Address
	if !a.Postal() {
		return outbound.Eligibility{Reason: "no complete postal address for the buyer (street, postal code and city)"}
	}
	block := []string{doc.Buyer.DisplayName(), a.Street}
	if a.Additional != "" {
		block = append(block, a.Additional)
	}
	block = append(block, a.PostalCode+" "+a.City)
	if a.Country != "" && a.Country != "SE" {
		block = append(block, a.Country)
	}
	return outbound.Eligibility{OK: true, Address: strings.Join(block, ", "), Reason: "postal address in the invoice"}
}

// RenderBatch produces the batch for the print house.
func (c *Channel) RenderBatch(b outbound.Batch) (outbound.Message, error) {
	return outbound.JSONBatch(c.Name(), b)
}
