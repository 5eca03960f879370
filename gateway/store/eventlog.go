package store

import (
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// EventLogTx is the aggregate of the events the ERP follows: per tenant,
// in the order they happened, what became of its documents (delivered,
// failed, opened, paid, reminded, ...) and of its recipients'
// registrations. A backend appends to it in AppendEvent (by ERPEventOf)
// and PutRegistration, in the transaction that made the change, so the
// log never misses one nor holds one that did not happen. The webhook
// part posts them; the API pages through them.
type EventLogTx interface {
	// ERPEvents returns up to limit of the tenant's events after seq
	// after, oldest first.
	ERPEvents(tenant string, after uint64, limit int) ([]*ERPEvent, error)
	// PutERPEvent records what the webhook did with an event.
	PutERPEvent(e *ERPEvent) error
	// HookCursor is the last event the tenant's webhook is done with
	// (posted, or given up on); SetHookCursor moves it (a replay moves it
	// back).
	HookCursor(tenant string) (uint64, error)
	SetHookCursor(tenant string, seq uint64) error
	// PruneERPEvents removes up to max of the tenant's events from
	// before before, oldest first, and says how many it removed.
	PruneERPEvents(tenant string, before time.Time, max int) (int, error)
}

// The types of the events the ERP follows.
const (
	ERPDelivered        = "delivered"
	ERPFailed           = "failed"
	ERPOpened           = "opened"
	ERPPaid             = "paid"
	ERPReminded         = "reminded"
	ERPCollectionAgency = "collection_agency"
	ERPCredited         = "credited"
	ERPRegistration     = "registration"
)

// ERPEvent is one event in a tenant's log.
type ERPEvent struct {
	// Seq orders the log; it grows with every event of every tenant.
	Seq    uint64    `json:"seq"`
	Tenant string    `json:"tenant"`
	Type   string    `json:"type"`
	At     time.Time `json:"at"`
	// The document the event is about, when it is about one.
	Doc     string       `json:"doc,omitempty"`
	File    string       `json:"file,omitempty"`
	Kind    formats.Kind `json:"kind,omitempty"`
	Number  string       `json:"number,omitempty"`
	Channel string       `json:"channel,omitempty"`
	// State is the document's state, or for a payment its payment state.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
	// The registration an event of type registration is about.
	Registration string   `json:"registration,omitempty"`
	Keys         []string `json:"keys,omitempty"`
	// Hook is what the tenant's webhook did with the event.
	Hook *HookAttempts `json:"hook,omitempty"`
}

// HookAttempts is the webhook's record of one event.
type HookAttempts struct {
	Attempts  int       `json:"attempts"`
	Last      time.Time `json:"last,omitzero"`
	Status    int       `json:"status,omitempty"`
	Error     string    `json:"error,omitempty"`
	Delivered time.Time `json:"delivered,omitzero"`
}

// Reasons that mark events of the document's history the ERP follows,
// beside the document states: the parts that make them write these.
const (
	ReasonDelivered        = "delivered: "
	ReasonOpened           = "opened: "
	ReasonPayment          = "payment "
	ReasonReminded         = "reminded: "
	ReasonCollectionAgency = "collection agency: "
	ReasonCredited         = "credited: "
)

// ERPEventOf is the event the ERP follows that an entry of a document's
// history is, if any: a delivery, a failure (on a channel, or of the
// whole document), the invoice page opened, a payment made or collected,
// a reminder, the hand-off to debt collection, a credit note.
func ERPEventOf(d *Doc, e Event) (*ERPEvent, bool) {
	out := &ERPEvent{Tenant: d.Tenant, At: e.At, Doc: d.ID, File: d.FileID, Kind: d.Kind, Number: d.Number,
		Channel: e.Channel, State: string(e.State), Reason: e.Reason}
	// The parts write their events with the document's state (delivered)
	// and say what happened in the reason: the reason is read first.
	switch {
	case strings.HasPrefix(e.Reason, ReasonOpened):
		out.Type = ERPOpened
	case strings.HasPrefix(e.Reason, ReasonPayment):
		state, _, _ := strings.Cut(strings.TrimPrefix(e.Reason, ReasonPayment), ":")
		switch PaymentState(state) {
		case PaymentPaid, PaymentPartlyPaid, PaymentCollected, PaymentRefunded:
			out.Type, out.State = ERPPaid, state
		default:
			return nil, false
		}
	case strings.HasPrefix(e.Reason, ReasonReminded):
		out.Type = ERPReminded
	case strings.HasPrefix(e.Reason, ReasonCollectionAgency):
		out.Type = ERPCollectionAgency
	case strings.HasPrefix(e.Reason, ReasonCredited):
		out.Type = ERPCredited
	case e.State == DocDelivered && strings.HasPrefix(e.Reason, ReasonDelivered):
		out.Type = ERPDelivered
	case e.State == DocFailed || e.State == DocDead:
		out.Type = ERPFailed
	default:
		return nil, false
	}
	return out, true
}

// ERPRegistrationEvent is the event of a registration that is new or was
// revoked (old is nil for a new one); ok is false for a change the ERP
// does not follow: a receiver's answer kept for a while (a Kivra match,
// which revokes itself when it expires) or a change of nothing.
func ERPRegistrationEvent(old, r *Registration) (*ERPEvent, bool) {
	e := &ERPEvent{Tenant: r.Tenant, Type: ERPRegistration, At: r.Created, Channel: r.Channel, Registration: r.ID, Reason: r.Source}
	for _, k := range r.Keys {
		e.Keys = append(e.Keys, k.String())
	}
	switch {
	case old == nil && r.RevokedAt.IsZero():
		e.State = "added"
	case old != nil && old.RevokedAt.IsZero() && !r.RevokedAt.IsZero():
		e.State, e.Reason, e.At = "revoked", r.RevokedBy, r.RevokedAt
	default:
		return nil, false
	}
	return e, true
}
