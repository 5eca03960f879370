package email

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/smtp"
)

// Name is the channel's name.
const Name = "email"

// keyFrom is the sender the channel writes into every message.
var keyFrom = outbound.Key{Name: "from", Kind: outbound.MailAddress, Help: `the sender: an email address, like "Acme <faktura@acme.se>"`}

// Descriptor registers the channel: per document, to the buyer's e-mail
// address, through an SMTP relay.
var Descriptor = outbound.Descriptor{
	Name:       Name,
	Carries:    []formats.Kind{formats.KindInvoice, formats.KindCreditNote, formats.KindReminder, formats.KindLetter, formats.KindStatement, formats.KindContract, formats.KindNotice},
	Address:    "email",
	Transports: []outbound.TransportSpec{smtp.Spec.With(keyFrom)},
	New: func(env outbound.Env) (outbound.Channel, error) {
		return New(Options{From: env.Settings.Get(keyFrom.Name), PDF: env.PDF, WritePDF: env.WritePDF})
	},
}
