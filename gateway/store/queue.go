package store

import (
	"fmt"
	"time"
)

// QueueTx is the aggregate of the delivery queue: each document's
// deliveries on its channels, the batches of batch channels, and the index
// of deliveries not yet at an end, which is what a restart reloads.
type QueueTx interface {
	Delivery(id string) (*Delivery, error)
	// PutDelivery records a delivery and keeps the index of unfinished
	// ones.
	PutDelivery(dl *Delivery) error
	// ForEachDelivery visits every delivery not yet delivered or failed,
	// and the delivered ones still waiting for a confirmation.
	ForEachDelivery(fn func(*Delivery) error) error
	// FilePending reports whether a document of the file has a delivery
	// not yet at an end (or awaiting a confirmation), without decoding one.
	FilePending(fileID string) bool

	Batch(id string) (*Batch, error)
	PutBatch(b *Batch) error
	ForEachBatch(fn func(*Batch) error) error
}

// DeliveryState is where one delivery attempt chain stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryQueued    DeliveryState = "queued"
	DeliveryBatched   DeliveryState = "batched" // part of a batch that is not yet sent
	DeliveryRetrying  DeliveryState = "retrying"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
)

// Delivery is one document on one channel. Its ID is also its idempotency
// key: retries reuse it, so receivers recognise a repeat.
type Delivery struct {
	ID      string `json:"id"`
	DocID   string `json:"doc_id"`
	Tenant  string `json:"tenant"`
	Channel string `json:"channel"`
	To      string `json:"to,omitempty"`
	// Collection marks a payment collection (an AutoGiro withdrawal), which
	// goes beside the document's distribution and never falls back.
	Collection bool          `json:"collection,omitempty"`
	State      DeliveryState `json:"state"`
	Batched    bool          `json:"batched,omitempty"`
	BatchID    string        `json:"batch_id,omitempty"`
	Attempts   int           `json:"attempts"`
	NextAt     time.Time     `json:"next_at,omitzero"`
	// ConfirmBy, on a delivered message whose receiver reports back (an
	// SMS), is when a missing confirmation counts as a failure; Confirmed
	// is set by the report.
	ConfirmBy time.Time `json:"confirm_by,omitzero"`
	Confirmed bool      `json:"confirmed,omitempty"`
	// OpenBy, on a delivered message that links to the invoice page, is
	// when an unopened page counts as a failure and the invoice falls
	// back (the tenant's page.not_opened); Opened is when the recipient
	// first opened the page.
	OpenBy    time.Time `json:"open_by,omitzero"`
	Opened    time.Time `json:"opened,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Ref       string    `json:"ref,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// AwaitsConfirmation reports whether a delivered message still waits for
// its receiver's confirmation, or for its recipient to open the invoice
// page.
func (dl *Delivery) AwaitsConfirmation() bool {
	return dl.State == DeliveryDelivered && (!dl.ConfirmBy.IsZero() && !dl.Confirmed || dl.AwaitsOpening())
}

// AwaitsOpening reports whether a delivered message's invoice page must
// still be opened before OpenBy.
func (dl *Delivery) AwaitsOpening() bool {
	return dl.State == DeliveryDelivered && !dl.OpenBy.IsZero() && dl.Opened.IsZero()
}

// Deadline is when the engine next checks a delivered message: its
// confirmation's or its opening's deadline, whichever is due first.
func (dl *Delivery) Deadline() time.Time {
	var at time.Time
	if !dl.ConfirmBy.IsZero() && !dl.Confirmed {
		at = dl.ConfirmBy
	}
	if dl.AwaitsOpening() && (at.IsZero() || dl.OpenBy.Before(at)) {
		at = dl.OpenBy
	}
	return at
}

// DeliveryID names the first delivery of a document on a channel.
func DeliveryID(docID, channel string) string { return docID + "." + channel }

// DeliveryID names the document's delivery on a channel: its first one,
// or after a resend (Resends > 0) the resend's own, "<doc id>-rN.<channel>",
// so the send has an idempotency key (and a spool file name) of its own
// and a receiver does not take it for a repeat of the first.
func (d *Doc) DeliveryID(channel string) string { return resendDeliveryID(d.ID, d.Resends, channel) }

// DeliveryIDs names every delivery the document has had on a channel, the
// first one first.
func (d *Doc) DeliveryIDs(channel string) []string {
	ids := make([]string, 0, d.Resends+1)
	for n := 0; n <= d.Resends; n++ {
		ids = append(ids, resendDeliveryID(d.ID, n, channel))
	}
	return ids
}

func resendDeliveryID(docID string, n int, channel string) string {
	if n == 0 {
		return DeliveryID(docID, channel)
	}
	return fmt.Sprintf("%s-r%d.%s", docID, n, channel)
}

// Batch is a set of deliveries on a batch channel sent as one file.
type Batch struct {
	ID      string `json:"id"`
	Tenant  string `json:"tenant"`
	Channel string `json:"channel"`
	// Kind is BatchDeliveries (""), or BatchMandates for a file of the
	// biller's AutoGiro mandate orders.
	Kind       string        `json:"kind,omitempty"`
	Deliveries []string      `json:"deliveries"` // delivery ids, or mandate order ids`
	State      DeliveryState `json:"state"`
	Attempts   int           `json:"attempts"`
	NextAt     time.Time     `json:"next_at,omitzero"`
	LastError  string        `json:"last_error,omitempty"`
	Ref        string        `json:"ref,omitempty"`
	Created    time.Time     `json:"created"`
	Updated    time.Time     `json:"updated"`
	// OutputRemoved is when retention removed the batch file from the
	// spool transport's outbox.
	OutputRemoved time.Time `json:"output_removed,omitzero"`
}
