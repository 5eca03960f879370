package finvoice

import (
	"github.com/multikanal/multikanal/formats"
	fv "github.com/multikanal/multikanal/formats/finvoice"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
)

// Name is the channel's name: the [channel.finvoice] table, the registry's
// channel name, outbox/finvoice.
const Name = "finvoice"

// Descriptor registers the channel: batched into one file of framed
// messages per cut-off (guidelines sections 2 and 9.1), to buyers whose
// registration gives their e-invoice address and intermediator
// (ADDRESS@INTERMEDIATOR, which no registry key type is), over SFTP to the
// biller's bank or operator. The biller's own intermediator is the
// channel's key, on every transport, the spool included.
var Descriptor = outbound.Descriptor{
	Name:    Name,
	Batch:   &outbound.Batching{MaxCount: 1000},
	Carries: []formats.Kind{formats.KindInvoice, formats.KindCreditNote},
	Required: []outbound.Key{{Name: "intermediator", Example: "OKOYFIHH",
		Help: "the BIC of the bank, or the code of the operator, that the biller's Finvoice agreement is with, like OKOYFIHH or 003721291126"}},
	CheckAddress: func(a string) error { _, err := fv.ParseAddress(a); return err },
	Transports:   []outbound.TransportSpec{sftpput.Spec},
	New: func(env outbound.Env) (outbound.Channel, error) {
		return New(Settings{Intermediator: env.Settings.Get("intermediator")})
	},
}
