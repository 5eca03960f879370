package receipts

import (
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// withLife adds an invoice's life after delivery to its API view: its
// life state, its reminders and debt collection, the credit note, a
// dispute.
func withLife(out *api.Doc, d *store.Doc) *api.Doc {
	out.Life, out.CreditedBy, out.Reminds = d.Life(), d.CreditedBy, d.Reminds
	if a := d.Disputed; a != nil {
		out.Disputed = &api.Ack{At: a.At, By: a.By, Why: a.Why}
	}
	out.Dunning = DunningOf(d.Dunning)
	return out
}

// DunningOf is the API's view of an invoice's dunning.
func DunningOf(d *store.Dunning) *api.Dunning {
	if d == nil {
		return nil
	}
	out := &api.Dunning{Agency: d.Agency, Exported: d.Exported}
	for _, r := range d.Reminders {
		out.Reminders = append(out.Reminders, api.SentReminder{Doc: r.Doc, Number: r.Number, At: r.At, Due: r.Due, Fee: r.Fee,
			Interest: r.Interest, Source: tenantText(r.Source)})
	}
	return out
}

// receiptLife adds the life state to a receipt's line.
func receiptLife(rd *api.ReceiptDocument, d *store.Doc) {
	rd.Life, rd.Reminders, rd.Reminds = d.Life(), d.Reminded(), d.Reminds
}

// TenantText is a reason as its tenant may read it: server paths cut to
// their base names (the event log, the webhooks).
func TenantText(s string) string { return tenantText(s) }
