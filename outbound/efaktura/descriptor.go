package efaktura

import (
	"fmt"
	"io"

	"github.com/multikanal/multikanal/formats"
	ef "github.com/multikanal/multikanal/formats/efaktura"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
)

// Name is the channel's name.
const Name = "efaktura"

// Descriptor registers the channel: batched into one file per cut-off (an
// e-faktura batch of ~10 KB an invoice is built in memory, so 1,000 at
// most by default), to payers registered by personnummer, over SFTP to the
// bank; the bank's report on each batch comes back through the inbox.
var Descriptor = outbound.Descriptor{
	Offer: map[string]string{
		"sv": "Få nästa faktura direkt i din internetbank: anmäl e-faktura från %s i din bank.",
		"en": "Get your next invoice in your internet bank: sign up for e-invoices from %s in your bank.",
	},
	Name:       Name,
	Batch:      &outbound.Batching{MaxCount: 1000},
	Carries:    []formats.Kind{formats.KindInvoice, formats.KindCreditNote},
	Address:    "pnr",
	Transports: []outbound.TransportSpec{sftpput.Spec},
	New:        func(outbound.Env) (outbound.Channel, error) { return New(), nil },
}

// SniffReport reports whether head starts a bank's report on a batch.
func (*Channel) SniffReport(head []byte) bool { return ef.SniffReport(head) }

// ReadReport reads the bank's report: an accepted invoice is confirmed, a
// rejected one failed, with the bank's code and text.
func (*Channel) ReadReport(r io.Reader) (outbound.Report, error) {
	rep, err := ef.ParseReport(r)
	if err != nil {
		return outbound.Report{}, err
	}
	out := outbound.Report{Batch: rep.BatchID, Results: make([]outbound.Result, 0, len(rep.Results))}
	for _, res := range rep.Results {
		o := outbound.Result{Number: res.Invoice, Outcome: outbound.Confirmed, Reason: "accepted by the bank"}
		if res.Status == ef.Rejected {
			o.Outcome, o.Reason = outbound.Failed, fmt.Sprintf("the bank rejected it (%s: %s)", res.Code, res.Reason)
		}
		out.Results = append(out.Results, o)
	}
	return out, nil
}
