package deliver

import (
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// Letters says how the biller speaks to the customer on a channel (the
// design part answers): the engine sets the answer on the document just
// before its channel renders it, as routing set the payment decision.
type Letters interface {
	// Letter is the letter of the delivery id on the channel, made at
	// created (which dates the link to the invoice page).
	Letter(tenant string, doc *formats.Document, channel, delivery string, created time.Time) *formats.Letter
}

// stamp sets the delivery's letter on the document it renders; without
// Letters the document renders plain.
func (e *Engine) stamp(dl *store.Delivery, body *formats.Document) {
	if e.Letters != nil && body != nil {
		body.Letter = e.Letters.Letter(dl.Tenant, body, dl.Channel, dl.ID, dl.Created)
	}
}

// openWithin is how long the invoice page of a delivered message may stay
// unopened before the invoice falls back: the tenant's page.not_opened
// for the channel, when the channel sends the link.
func (e *Engine) openWithin(dl *store.Delivery) time.Duration {
	// Without the public listener no page is served and no link was
	// sent: nobody could open it.
	if dl.Collection || e.Tenant == nil || e.Config().Public.Listen == "" {
		return 0
	}
	t, ok := e.Tenant(dl.Tenant)
	if !ok || !t.Linked(dl.Channel) {
		return 0
	}
	return t.OpenWithin(dl.Channel)
}
