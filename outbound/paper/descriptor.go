package paper

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
)

// Name is the channel's name, as the configuration and the outbox call it.
const Name = "print"

// Descriptor registers the channel: batched into one ZIP per cut-off (the
// letters of a batch are held in memory, ~43 KB each, so 500 at most by
// default), to any buyer with a postal address, over SFTP to the print
// house.
var Descriptor = outbound.Descriptor{
	Name:       Name,
	Batch:      &outbound.Batching{MaxCount: 500},
	Paper:      true,
	Carries:    []formats.Kind{formats.KindInvoice, formats.KindCreditNote, formats.KindReminder, formats.KindLetter, formats.KindStatement, formats.KindContract, formats.KindNotice},
	Transports: []outbound.TransportSpec{sftpput.Spec},
	New:        func(env outbound.Env) (outbound.Channel, error) { return New(Options{PDF: env.PDF}), nil },
}
