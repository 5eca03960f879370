package autogiro

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
)

// Name is the channel's name, the registry channel of AutoGiro mandates
// and the payment method of the invoices it collects.
const Name = "autogiro"

// Descriptor registers the channel: payment collection beside
// distribution, batched into one sealed payment file per cut-off (5,000
// orders at most by default), for payers known by their payer number (the
// biller's customer number), over SFTP to Bankgirot, under each tenant's
// agreement ([tenant.autogiro]). Credit notes are paid back as deposits
// where the agreement allows it.
var Descriptor = outbound.Descriptor{
	Offer: map[string]string{
		"sv": "Slipp tänka på förfallodagen: anmäl autogiro hos %s, så dras beloppet från ditt konto.",
		"en": "Never miss a due date: sign up for direct debit (autogiro) with %s.",
	},
	Name:       Name,
	Role:       outbound.Collection,
	Batch:      &outbound.Batching{MaxCount: 5000},
	Carries:    []formats.Kind{formats.KindInvoice, formats.KindCreditNote},
	Address:    "customer",
	Transports: []outbound.TransportSpec{sftpput.Spec},
	Agreement:  func() any { return &Agreement{} },
	New:        func(env outbound.Env) (outbound.Channel, error) { return New(agreements(env.Agreements)), nil },
}
