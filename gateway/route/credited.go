package route

import (
	"errors"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// markCredited records on the invoice a routed credit note credits (BT-25,
// found by its number) that it is credited: its life state becomes
// credited, an event says by which credit note, and no reminder goes out
// for it any more. A credit note for part of the invoice stops reminders
// too: what is left is the biller's to claim, not the gateway's to guess.
func markCredited(tx Tx, doc *store.Doc, body *formats.Document, now time.Time) error {
	if body.Kind != formats.KindCreditNote || len(body.Preceding) == 0 {
		return nil
	}
	id, err := tx.NumberRef(doc.Tenant, body.Preceding[0].Number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	inv, err := tx.Doc(id)
	if err != nil || inv.CreditedBy != "" || inv.Kind != formats.KindInvoice {
		return err
	}
	inv.CreditedBy, inv.Updated = doc.ID, now
	why := fmt.Sprintf("%scredit note %s (%s) of %s %s credits it", store.ReasonCredited, body.Number, doc.ID, body.Totals.Payable, body.Currency)
	if err := tx.AppendEvent(inv, store.Event{At: now, State: inv.State, Reason: why}); err != nil {
		return err
	}
	return tx.PutDoc(inv)
}

// fromTenant makes the tenant the sender of a letter, statement, contract
// or notice that names none: the ERP's index names the recipient, and the
// tenant sends in its own name (its seller, MK-SELLER).
func fromTenant(t config.Tenant, body *formats.Document) {
	if !body.Kind.Correspondence() || body.Seller.Name != "" {
		return
	}
	body.Seller = formats.Party{Name: t.Name, LegalID: formats.Identifier{Scheme: "0007", Value: t.SellerOrgnr}, VATID: t.VATID}
	if d := t.Design; d != nil {
		body.Seller.Contact = formats.Contact{Phone: d.Phone, Email: d.Email}
	}
}
