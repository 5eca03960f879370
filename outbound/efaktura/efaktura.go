// Package efaktura is the e-faktura channel: consumer e-invoices to the
// payer's internet bank through Bankgirot, collected into batch files.
// The file format (Svefaktura 1.0 invoices in a documented envelope) lives
// in formats/efaktura; this package only adapts a batch to it.
package efaktura

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/multikanal/multikanal/formats"
	ef "github.com/multikanal/multikanal/formats/efaktura"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the e-faktura channel.
type Channel struct{}

// New returns the e-faktura channel.
func New() *Channel { return &Channel{} }

// Name is "efaktura".
func (*Channel) Name() string { return Name }

// Eligible only when the payer has registered for the biller's e-invoices in
// the internet bank (a registration from the bank's file).
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	addr, src, found := reg.Lookup(doc, Name)
	if !found {
		return outbound.Eligibility{Reason: "the payer has no e-faktura registration"}
	}
	// One invoice the bank format cannot carry must not fail the whole
	// batch at cut-off: it is not eligible here, and routing goes on.
	if err := ef.CheckItem(ef.Item{Recipient: addr, Doc: doc}); err != nil {
		return outbound.Eligibility{Reason: "registered by " + src + ", but the e-faktura file cannot carry it: " + err.Error()}
	}
	return outbound.Eligibility{OK: true, Address: addr, Reason: "registered by " + src}
}

// RenderBatch writes the batch as one file for Bankgirot's e-faktura
// service, named "<batch key>.xml": the service's file-name rules could
// not be read where this was written (docs/channels/efaktura.md). The
// file's contents come from the batch alone (its key, creation time,
// biller and items), so a retried batch is the same file.
//
// Every failure is permanent: the same batch renders the same way on a
// retry. A broken invoice fails the whole batch, which is why the gateway
// should check each invoice with formats/efaktura.CheckItem before it
// joins one.
func (c *Channel) RenderBatch(b outbound.Batch) (outbound.Message, error) {
	if b.Biller.Bankgiro == "" {
		return outbound.Message{}, outbound.Permanentf("efaktura: tenant %s has no bankgiro; Bankgirot knows an e-faktura biller by its agreement bankgiro", b.Biller.ID)
	}
	batch := ef.Batch{
		ID:      b.Key,
		Created: b.Created,
		Biller:  ef.Biller{Name: b.Biller.Name, Orgnr: b.Biller.Orgnr, Bankgiro: b.Biller.Bankgiro},
		Items:   make([]ef.Item, 0, len(b.Items)),
	}
	for _, it := range b.Items {
		batch.Items = append(batch.Items, ef.Item{Recipient: it.To, Doc: it.Doc})
	}
	var body bytes.Buffer
	if err := ef.WriteBatch(&body, batch); err != nil {
		var e *ef.Error
		if errors.As(err, &e) && e.Item > 0 {
			err = fmt.Errorf("delivery %s: %w", b.Items[e.Item-1].Key, err)
		}
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("efaktura: batch %s: %w", b.Key, err))
	}
	return outbound.Message{Key: b.Key, Name: b.Key + ".xml", ContentType: "application/xml", Body: body.Bytes()}, nil
}
