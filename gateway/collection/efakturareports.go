package collection

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/multikanal/multikanal/formats/efaktura"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// EfakturaReports are the banks' reports on e-faktura batches, as intake
// applies them.
func (c *Collection) EfakturaReports() Applier { return efakturaReports{c} }

type efakturaReports struct{ c *Collection }

func (efakturaReports) Sniff(head []byte) bool { return efaktura.SniffReport(head) }

// Apply applies the bank's report on an e-faktura batch: an accepted
// invoice is recorded in its history; a rejected one fails on e-faktura
// after the fact and falls back to its next channel. The report is applied
// whole, or refused naming what does not match.
func (e efakturaReports) Apply(rec *store.File, r io.ReaderAt) error {
	c := e.c
	rep, err := efaktura.ParseReport(io.NewSectionReader(r, 0, rec.Size))
	if err != nil {
		return fmt.Errorf("e-faktura report: %w", err)
	}
	now := time.Now().UTC()
	var next []*store.Delivery
	files := map[string]bool{}
	accepted, rejected := 0, 0
	err = c.Store.Update(func(tx store.Tx) error {
		next, accepted, rejected = next[:0], 0, 0
		b, err := tx.Batch(rep.BatchID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("batch %q is not one this gateway sent", rep.BatchID)
		}
		if err != nil {
			return err
		}
		if b.Tenant != rec.Tenant || b.Channel != outbound.Efaktura {
			return fmt.Errorf("batch %q is not an e-faktura batch of this tenant", rep.BatchID)
		}
		byNumber := map[string]*store.Delivery{}
		docs := map[string]*store.Doc{}
		for _, id := range b.Deliveries {
			dl, err := tx.Delivery(id)
			if err != nil {
				return err
			}
			doc, err := tx.Doc(dl.DocID)
			if err != nil {
				return err
			}
			byNumber[doc.Number], docs[dl.ID] = dl, doc
		}
		source := "bank report " + rec.Name
		for i, res := range rep.Results {
			dl := byNumber[res.Invoice]
			if dl == nil {
				return fmt.Errorf("result %d: invoice %q is not in batch %s", i+1, res.Invoice, rep.BatchID)
			}
			doc := docs[dl.ID]
			files[doc.FileID] = true
			switch res.Status {
			case efaktura.Accepted:
				accepted++
				if err := tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: dl.Channel, Reason: "accepted by the bank (" + source + ")"}); err != nil {
					return err
				}
			case efaktura.Rejected:
				rejected++
				why := fmt.Sprintf("the bank rejected it (%s: %s, %s)", res.Code, res.Reason, source)
				nd, err := route.FailDelivered(tx, c.Channels, dl, doc, why, now)
				if err != nil {
					return err
				}
				next = append(next, nd)
				continue // failDelivered wrote the document
			}
			if err := tx.PutDoc(doc); err != nil {
				return err
			}
		}
		f, err := tx.File(rec.ID)
		if err != nil {
			return err
		}
		f.Format, f.State = "efaktura-report", store.FileApplied
		f.Reason = fmt.Sprintf("e-faktura report for batch %s applied: %d accepted, %d rejected", rep.BatchID, accepted, rejected)
		return tx.PutFile(f)
	})
	if err != nil {
		return fmt.Errorf("e-faktura report: nothing applied: %w", err)
	}
	c.Delivery.Requeue(next...)
	for id := range files {
		c.Receipts.Touch(id)
	}
	return nil
}
