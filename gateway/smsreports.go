package gateway

import (
	"fmt"
	"time"

	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sms"
)

// applySMSReport applies an SMS gateway's delivery report: a message the
// handset never got is a permanent failure after the fact, so the invoice
// falls back to its next channel (a paper invoice, say); a confirmed one is
// recorded in the history.
func (d *Daemon) applySMSReport(rep sms.Report) error {
	if rep.Key == "" {
		return fmt.Errorf("delivery report %s names no delivery (the webhook URL lost its key parameter)", rep.ID)
	}
	now := time.Now().UTC()
	var next *store.Delivery
	var fileID string
	err := d.store.Update(func(tx store.Tx) error {
		next = nil
		dl, err := tx.Delivery(rep.Key)
		if err != nil {
			return fmt.Errorf("delivery %s: %w", rep.Key, err)
		}
		if dl.Channel != outbound.SMS {
			return fmt.Errorf("delivery %s is on %s, not sms", rep.Key, dl.Channel)
		}
		doc, err := tx.Doc(dl.DocID)
		if err != nil {
			return err
		}
		fileID = doc.FileID
		switch rep.Status {
		case sms.StatusDelivered:
			dl.Confirmed, dl.Updated = true, now
			if err := tx.PutDelivery(dl); err != nil {
				return err
			}
			return tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: dl.Channel, Reason: "the handset confirmed delivery " + rep.Delivered.Format(time.RFC3339)})
		case sms.StatusFailed:
			next, err = d.failDelivered(tx, dl, doc, "the SMS gateway reports the message was not delivered to the handset", now)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.engine.requeue(next)
	d.receipts.touch(fileID)
	return nil
}
