// Package efaktura is the e-faktura channel: consumer e-invoices to the
// payer's internet bank through Bankgirot, collected into batch files.
package efaktura

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the e-faktura channel.
type Channel struct{}

// New returns the e-faktura channel.
func New() *Channel { return &Channel{} }

// Name is "efaktura".
func (*Channel) Name() string { return outbound.Efaktura }

// Eligible only when the payer has registered for the biller's e-invoices in
// the internet bank (a registration from the bank's file).
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	if addr, src, found := reg.Lookup(doc, outbound.Efaktura); found {
		return outbound.Eligibility{OK: true, Address: addr, Reason: "registered by " + src}
	}
	return outbound.Eligibility{Reason: "the payer has no e-faktura registration"}
}

// RenderBatch produces one file for the bank.
func (c *Channel) RenderBatch(b outbound.Batch) (outbound.Message, error) {
	return outbound.JSONBatch(c.Name(), b)
}
