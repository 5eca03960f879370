// Package sms is the SMS channel: a short text with amount, due date, OCR and
// a payment link, sent through an SMS gateway.
package sms

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the SMS channel.
type Channel struct{}

// New returns the SMS channel.
func New() *Channel { return &Channel{} }

// Name is "sms".
func (*Channel) Name() string { return outbound.SMS }

// Eligible when the buyer's phone number is a Swedish mobile number, or the
// registry knows one.
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	phone := doc.Buyer.Contact.Phone
	if e164, ok := formats.SwedishMobile(phone); ok {
		return outbound.Eligibility{OK: true, Address: e164, Reason: "mobile number in the invoice"}
	}
	if addr, src, found := reg.Lookup(doc, outbound.SMS); found {
		return outbound.Eligibility{OK: true, Address: addr, Reason: "mobile number registered by " + src}
	}
	if phone != "" {
		return outbound.Eligibility{Reason: "buyer phone " + phone + " is not a Swedish mobile number"}
	}
	return outbound.Eligibility{Reason: "no mobile number for the buyer"}
}

// Render produces the text message.
func (c *Channel) Render(doc *formats.Document, to, key string) (outbound.Message, error) {
	return outbound.JSONMessage(c.Name(), doc, to, key)
}
