package bolt

import (
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// The dunning index follows each invoice as PutDoc records it: in under
// its due date once delivered and open, under its reminder's due date
// once reminded, out once paid, disputed or credited; and the ERP's log
// holds the events of the documents' histories it follows, in order,
// paged per tenant.
func TestDunningIndexAndEventLog(t *testing.T) {
	s, _ := openTemp(t)
	due := formats.Date{Year: 2026, Month: 1, Day: 31}
	doc := &store.Doc{ID: "F0000001-0000000", FileID: "F0000001", Tenant: "acme", Kind: formats.KindInvoice, Number: "7", Amount: 100,
		DueDate: due, State: store.DocQueued}
	index := func() map[string]formats.Date {
		out := map[string]formats.Date{}
		s.View(func(tx store.Tx) error {
			return tx.ForEachDunning("acme", formats.Date{Year: 2030, Month: 1, Day: 1}, func(id string, at formats.Date) error { out[id] = at; return nil })
		})
		return out
	}
	put := func(change func(d *store.Doc), events ...store.Event) {
		t.Helper()
		change(doc)
		err := s.Update(func(tx store.Tx) error {
			for _, e := range events {
				if err := tx.AppendEvent(doc, e); err != nil {
					return err
				}
			}
			return tx.PutDoc(doc)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	put(func(d *store.Doc) {})
	if got := index(); len(got) != 0 {
		t.Errorf("queued: %v", got)
	}
	put(func(d *store.Doc) { d.State = store.DocDelivered }, store.Event{At: now, State: store.DocDelivered, Channel: "email", Reason: "delivered: x.eml"})
	if got := index(); got[doc.ID] != due {
		t.Errorf("delivered: %v", got)
	}
	later := formats.Date{Year: 2026, Month: 2, Day: 20}
	put(func(d *store.Doc) {
		d.Dunning = &store.Dunning{Reminders: []store.SentReminder{{Doc: "F2-0", Due: later}}}
	}, store.Event{At: now, State: store.DocDelivered, Reason: store.ReasonReminded + "reminder 1"})
	if got := index(); got[doc.ID] != later {
		t.Errorf("reminded: %v", got)
	}
	if got := index(); len(got) != 1 {
		t.Errorf("an old entry stayed: %v", got)
	}
	put(func(d *store.Doc) {
		d.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: 100}
	}, store.Event{At: now, State: store.DocDelivered, Reason: "payment paid: 100 of 100"})
	if got := index(); len(got) != 0 || doc.Life() != store.LifePaid {
		t.Errorf("paid: %v, life %s", got, doc.Life())
	}
	var page []*store.ERPEvent
	s.View(func(tx store.Tx) (err error) { page, err = tx.ERPEvents("acme", 0, 10); return })
	var types []string
	for _, e := range page {
		types = append(types, e.Type)
	}
	if len(types) != 3 || types[0] != store.ERPDelivered || types[1] != store.ERPReminded || types[2] != store.ERPPaid || page[2].State != "paid" {
		t.Errorf("the log: %v", types)
	}
	s.View(func(tx store.Tx) (err error) { page, err = tx.ERPEvents("acme", page[0].Seq, 1); return })
	if len(page) != 1 || page[0].Type != store.ERPReminded {
		t.Errorf("the second page: %+v", page)
	}
	s.View(func(tx store.Tx) (err error) { page, err = tx.ERPEvents("other", 0, 10); return })
	if len(page) != 0 {
		t.Errorf("another tenant sees %d events", len(page))
	}
}

// A registration added or revoked is an event of its tenant's log; a
// receiver's answer kept for a while (a Kivra match, which revokes itself
// when it expires) is not.
func TestRegistrationEvents(t *testing.T) {
	s, _ := openTemp(t)
	now := time.Now()
	r := &store.Registration{Tenant: "acme", Keys: []store.RecipientKey{{Type: "pnr", Value: "198112189876"}}, Channel: "efaktura",
		Source: "file reg.csv line 2", ValidFrom: now, Created: now}
	match := &store.Registration{Tenant: "acme", Keys: []store.RecipientKey{{Type: "pnr", Value: "191212121212"}}, Channel: "kivra",
		Source: "Kivra usermatch", ValidFrom: now, RevokedAt: now.Add(24 * time.Hour), RevokedBy: "time to live", Created: now}
	for _, step := range []func(tx store.Tx) error{
		func(tx store.Tx) error { return tx.PutRegistration(r) },
		func(tx store.Tx) error { return tx.PutRegistration(match) },
		func(tx store.Tx) error {
			r.RevokedAt, r.RevokedBy = now, "file reg2.csv line 2"
			return tx.PutRegistration(r)
		},
	} {
		if err := s.Update(step); err != nil {
			t.Fatal(err)
		}
	}
	var page []*store.ERPEvent
	s.View(func(tx store.Tx) (err error) { page, err = tx.ERPEvents("acme", 0, 10); return })
	if len(page) != 2 || page[0].State != "added" || page[1].State != "revoked" || page[1].Reason != "file reg2.csv line 2" ||
		page[0].Type != store.ERPRegistration || page[0].Keys[0] != "pnr:198112189876" {
		t.Errorf("registration events: %+v", page)
	}
}
