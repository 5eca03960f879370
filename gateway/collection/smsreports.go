package collection

import (
	"errors"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sms"
)

// errReportTooEarly asks the SMS gateway to post a report again later: it
// came before the send it is about was recorded.
var errReportTooEarly = errors.New("the delivery's send is not recorded yet")

// ApplySMSReport applies an SMS gateway's delivery report, whose key the
// public listener has checked: a message the handset never got is a
// permanent failure after the fact, so the invoice falls back to its next
// channel (a paper invoice, say); a confirmed one is recorded in the
// history. Only a delivered message with no final report yet awaits one: a
// report about anything else (a delivery confirmed or failed already, one
// the invoice has moved on from, a message the delivery did not send)
// changes nothing, so a replayed report cannot undo a delivery.
func (c *Collection) ApplySMSReport(rep sms.Report) error {
	if rep.Key == "" {
		return fmt.Errorf("delivery report %s names no delivery (the webhook URL lost its key parameter)", rep.ID)
	}
	now := time.Now().UTC()
	var next *store.Delivery
	var fileID, ignored string
	err := c.Store.Update(func(tx store.Tx) error {
		next, fileID, ignored = nil, "", ""
		dl, err := tx.Delivery(rep.Key)
		if errors.Is(err, store.ErrNotFound) {
			ignored = "no such delivery"
			return nil
		}
		if err != nil {
			return fmt.Errorf("delivery %s: %w", rep.Key, err)
		}
		doc, err := tx.Doc(dl.DocID)
		if err != nil {
			return err
		}
		switch {
		case rep.Status == sms.StatusSent:
			return nil // the operator took it; the end state follows
		case dl.State == store.DeliveryQueued || dl.State == store.DeliveryRetrying:
			return errReportTooEarly
		case dl.Channel != outbound.SMS || dl.State != store.DeliveryDelivered || doc.Channel != dl.Channel:
			ignored = fmt.Sprintf("the delivery is %s and the document on %q", dl.State, doc.Channel)
			return nil
		case dl.Confirmed:
			ignored = "the handset confirmed the message already"
			return nil
		case dl.Ref != "" && rep.ID != dl.Ref:
			ignored = fmt.Sprintf("the report is about message %s, the delivery sent message %s", rep.ID, dl.Ref)
			return nil
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
			next, err = route.FailDelivered(tx, c.Channels, dl, doc, "the SMS gateway reports the message was not delivered to the handset", now)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ignored != "" {
		c.Log.Info("sms delivery report changes nothing", "delivery", rep.Key, "message", rep.ID, "status", rep.Status, "why", ignored)
		return nil
	}
	c.Delivery.Requeue(next)
	if fileID != "" {
		c.Receipts.Touch(fileID)
	}
	return nil
}
