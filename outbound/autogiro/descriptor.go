package autogiro

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
)

// Name is the channel's name.
const Name = "autogiro"

// Descriptor registers the channel: payment collection beside
// distribution, batched into one sealed payment file per cut-off (5,000
// orders at most by default), for payers known by their payer number (the
// biller's customer number), over SFTP to Bankgirot. Credit notes are paid
// back as deposits.
var Descriptor = outbound.Descriptor{
	Name:       Name,
	Role:       outbound.Collection,
	Batch:      &outbound.Batching{MaxCount: 5000},
	Carries:    []formats.Kind{formats.KindInvoice, formats.KindCreditNote},
	Address:    "customer",
	Transports: []outbound.TransportSpec{sftpput.Spec},
	New:        func(outbound.Env) (outbound.Channel, error) { return New(), nil },
}
