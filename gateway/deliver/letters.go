package deliver

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// Letters says how the biller speaks to the customer on a channel (the
// design part answers): the engine sets the answer on the document just
// before its channel renders it, as routing set the payment decision.
type Letters interface {
	Letter(tenant string, doc *formats.Document, channel, delivery string) *formats.Letter
}

// stamp sets the delivery's letter on the document it renders; without
// Letters the document renders plain.
func (e *Engine) stamp(dl *store.Delivery, body *formats.Document) {
	if e.Letters != nil && body != nil {
		body.Letter = e.Letters.Letter(dl.Tenant, body, dl.Channel, dl.ID)
	}
}
