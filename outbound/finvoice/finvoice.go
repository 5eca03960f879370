// Package finvoice is the Finvoice channel: Finnish e-invoices to the
// payer's online bank (consumers) or to a business's e-invoice operator,
// through the biller's bank or operator, collected into batch files. The
// message format lives in formats/finvoice; this package decides who can
// be reached this way and adapts a batch to the format.
//
// It batches because the Finvoice forwarding service takes files: a
// biller's bank or operator receives one file of messages, each behind its
// SOAP frame, acknowledges the file, and routes every message by its frame
// (Finvoice 3.0 implementation guidelines, sections 2 and 9.1). One file
// per cut-off is also what the file transports carry (spool, sftp).
package finvoice

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/multikanal/multikanal/formats"
	fv "github.com/multikanal/multikanal/formats/finvoice"
	"github.com/multikanal/multikanal/outbound"
)

// Settings configure the channel ([channel.finvoice]).
type Settings struct {
	// Intermediator (key intermediator) is the biller's own
	// intermediator, FromIntermediator in every message: the BIC of the
	// bank, or the code of the operator, that its Finvoice agreement is
	// with ("OKOYFIHH", "003721291126").
	Intermediator string
}

// Channel is the Finvoice channel.
type Channel struct {
	s Settings
}

// New returns the channel, or an error naming what is wrong in its settings.
func New(s Settings) (*Channel, error) {
	if err := (fv.Address{ID: "00", Intermediator: s.Intermediator}).Check(); err != nil {
		return nil, fmt.Errorf("finvoice: intermediator %q: the BIC of the bank or the code of the operator the biller's Finvoice agreement is with, like OKOYFIHH or 003721291126: %w", s.Intermediator, err)
	}
	return &Channel{s: s}, nil
}

// Name is "finvoice".
func (*Channel) Name() string { return Name }

// Eligible when the recipient registry holds the buyer's Finvoice address
// (ADDRESS@INTERMEDIATOR: for a consumer what the bank's reception notice
// gave, for a business its e-invoice address and operator) and a Finvoice
// message can carry the document. The address comes from the registry
// only: Finvoice needs the intermediator beside the address, and the
// invoice (EN 16931, BT-49) carries the address alone.
func (c *Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	addr, src, found := reg.Lookup(doc, Name)
	if !found {
		if ep := doc.Buyer.Endpoint; (ep.Scheme == "0037" || ep.Scheme == "0216") && ep.Value != "" {
			return outbound.Eligibility{Reason: fmt.Sprintf("the buyer's electronic address %s is a Finnish e-invoice address, but Finvoice also needs "+
				"its intermediator (the operator or bank), which the invoice cannot carry: register the buyer for finvoice as %s@INTERMEDIATOR", ep, ep.Value)}
		}
		return outbound.Eligibility{Reason: "the buyer has no Finvoice registration (e-invoice address and intermediator)"}
	}
	to, err := fv.ParseAddress(addr)
	if err != nil {
		return outbound.Eligibility{Reason: "registered by " + src + ", but " + err.Error()}
	}
	// One invoice the format cannot carry must not fail the whole batch at
	// cut-off: it is not eligible here, and routing goes on.
	if err := fv.Check(doc); err != nil {
		return outbound.Eligibility{Reason: "registered by " + src + " as " + to.String() + ", but a Finvoice cannot carry it: " + err.Error()}
	}
	return outbound.Eligibility{OK: true, Address: to.String(), Reason: "registered by " + src}
}

// RenderBatch writes the batch as one file for the biller's bank or
// operator, named "<batch key>.xml" (the banks' own file names are set in
// each bank connection, not in the Finvoice specification). The file comes
// from the batch alone (key, creation time, items) and the settings, so a
// retried batch is the same file, and each message's identifier is its
// delivery key, so a receiver recognises a repeat.
//
// Every failure is permanent: the same batch renders the same way on a
// retry. Eligible checks each invoice first, so a failure here means the
// data changed or the registry holds an address that no longer parses.
func (c *Channel) RenderBatch(b outbound.Batch) (outbound.Message, error) {
	batch := fv.Batch{Created: b.Created, Intermediator: c.s.Intermediator, Items: make([]fv.Item, 0, len(b.Items))}
	for _, it := range b.Items {
		to, err := fv.ParseAddress(it.To)
		if err != nil {
			return outbound.Message{}, outbound.Permanentf("finvoice: batch %s: delivery %s: %w", b.Key, it.Key, err)
		}
		batch.Items = append(batch.Items, fv.Item{ID: it.Key, To: to, Doc: it.Doc})
	}
	var body bytes.Buffer
	if err := fv.WriteBatch(&body, batch); err != nil {
		var e *fv.Error
		if errors.As(err, &e) && e.Item > 0 {
			err = fmt.Errorf("delivery %s: %w", b.Items[e.Item-1].Key, err)
		}
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("finvoice: batch %s: %w", b.Key, err))
	}
	return outbound.Message{Key: b.Key, Name: b.Key + ".xml", ContentType: "application/xml", Body: body.Bytes()}, nil
}
