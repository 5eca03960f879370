// Package channels registers the gateway's channels: the list below is the
// one place that names them all. A channel is one folder under outbound/
// (and, for its own file formats, one under formats/) that declares an
// outbound.Descriptor, and one line here. Everything else (the
// configuration's [channel.NAME] tables, the CSV's channel column, the
// recipient registry, routing, the status page) reads the descriptors, and
// TestNamedOnlyHere fails when Go code elsewhere names a channel.
package channels

import (
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/autogiro"
	"github.com/multikanal/multikanal/outbound/avtalegiro"
	"github.com/multikanal/multikanal/outbound/efaktura"
	"github.com/multikanal/multikanal/outbound/email"
	"github.com/multikanal/multikanal/outbound/finvoice"
	"github.com/multikanal/multikanal/outbound/kivra"
	"github.com/multikanal/multikanal/outbound/paper"
	"github.com/multikanal/multikanal/outbound/peppol"
	"github.com/multikanal/multikanal/outbound/sms"
)

// All returns the registered channels, distribution channels in the
// embedded default's priority order, then collection. The order is the
// order of `multikanal check`'s summary and of the status page.
func All() []outbound.Descriptor {
	return []outbound.Descriptor{
		peppol.Descriptor,
		efaktura.Descriptor,
		kivra.Descriptor,
		email.Descriptor,
		sms.Descriptor,
		paper.Descriptor,
		finvoice.Descriptor,
		autogiro.Descriptor,
		avtalegiro.Descriptor,
	}
}
