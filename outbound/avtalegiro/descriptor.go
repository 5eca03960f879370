package avtalegiro

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
)

// Descriptor registers the channel: payment collection beside
// distribution, batched into one claim file per cut-off (5,000 claims at
// most by default), for payers known by the KID their mandate is
// registered under, over SFTP to Nets, under each tenant's agreement
// ([tenant.avtalegiro]). AvtaleGiro only withdraws: it takes invoices.
var Descriptor = outbound.Descriptor{
	Name:       Name,
	Role:       outbound.Collection,
	Batch:      &outbound.Batching{MaxCount: 5000},
	Carries:    []formats.Kind{formats.KindInvoice},
	Address:    "kid",
	Transports: []outbound.TransportSpec{sftpput.Spec},
	Agreement:  func() any { return &Agreement{} },
	New:        func(env outbound.Env) (outbound.Channel, error) { return New(agreements(env.Agreements)), nil },
}

// String names the agreement in `multikanal check`'s summary.
func (a Agreement) String() string {
	return "customer unit " + a.CustomerUnit + ", account " + a.Account
}

// agreements are the tenants' agreements as Env.Agreements hands them.
func agreements(env map[string]any) map[string]Agreement {
	out := map[string]Agreement{}
	for tenant, v := range env {
		if a, ok := v.(*Agreement); ok {
			out[tenant] = *a
		}
	}
	return out
}
