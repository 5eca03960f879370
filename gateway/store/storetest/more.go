package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// A final document loses its body, history and deliveries and keeps its
// summary; a document not final loses nothing; no index is touched.
func removePayload(t *testing.T, b Backend) {
	s := b.Open(t)
	now := time.Now().UTC()
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutFile(&store.File{ID: "F0000001", Tenant: "t", SHA256: "abc", State: store.FileParsed, Final: true}); err != nil {
			return err
		}
		for i, st := range []store.DocState{store.DocDelivered, store.DocQueued} {
			d := &store.Doc{ID: fmt.Sprintf("F0000001-%07d", i), FileID: "F0000001", Tenant: "t", State: st, Channel: "alpha",
				Number: fmt.Sprint(1000 + i), Buyer: "Maria Svensson", Address: "maria@example.se", Output: "/o/x.eml",
				Route:      []store.RouteStep{{Channel: "alpha", Eligible: true, Address: "maria@example.se", Reason: "in the invoice"}},
				Collection: &store.Collection{Method: "debit", Payer: "10048", State: store.PaymentScheduled, AtBank: true}, Keys: []string{"k1"}}
			for range 3 {
				if err := tx.AppendEvent(d, store.Event{At: now, State: st}); err != nil {
					return err
				}
			}
			if err := tx.PutDoc(d); err != nil {
				return err
			}
			if err := tx.PutBody(d.ID, &formats.Document{Number: d.Number}); err != nil {
				return err
			}
			dl := &store.Delivery{ID: store.DeliveryID(d.ID, "alpha"), DocID: d.ID, State: store.DeliveryDelivered}
			if st == store.DocQueued {
				dl.State = store.DeliveryQueued
			}
			if err := tx.PutDelivery(dl); err != nil {
				return err
			}
			// A resend has deliveries of its own, pending as long as the first.
			rs := &store.Delivery{ID: (&store.Doc{ID: d.ID, Resends: 1}).DeliveryID("alpha"), DocID: d.ID, State: dl.State}
			if err := tx.PutDelivery(rs); err != nil {
				return err
			}
			if err := tx.PutNumberRef("t", d.Number, d.ID); err != nil {
				return err
			}
			if err := tx.PutCollectionRef("t", "10048", fmt.Sprint(i), d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	var rm store.Removed
	update(t, s, func(tx store.Tx) error {
		rm = store.Removed{}
		for _, id := range []string{"F0000001-0000000", "F0000001-0000001"} {
			d, err := tx.Doc(id)
			if err != nil {
				return err
			}
			r, err := tx.RemovePayload(d)
			if errors.Is(err, store.ErrNotFinal) {
				continue
			}
			if err != nil {
				return err
			}
			rm.Add(r)
			d.Summarise(now)
			if err := tx.PutDoc(d); err != nil {
				return err
			}
			if _, err := tx.Delivery(store.DeliveryID(d.ID, "alpha")); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("a removed delivery in its transaction: %v", err)
			}
		}
		return nil
	})
	if rm.Bodies != 1 || rm.Events != 3 || rm.Deliveries != 2 || rm.Bytes == 0 {
		t.Errorf("removed %+v, want 1 body, 3 events, 2 deliveries (the first and a resend)", rm)
	}
	s = b.Reopen(t, s)
	view(t, s, func(tx store.Tx) error {
		d, _ := tx.Doc("F0000001-0000000")
		if d.Buyer != "" || d.Address != "" || d.Route != nil || d.Summarised.IsZero() {
			t.Errorf("summary keeps who it went to: %+v", d)
		}
		if d.Number != "1000" || d.State != store.DocDelivered || d.Channel != "alpha" || d.Output != "/o/x.eml" || len(d.Keys) != 1 || d.Collection.Payer != "10048" {
			t.Errorf("summary lost what it must keep: %+v", d)
		}
		if _, err := tx.Body(d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("body of a summarised document: %v", err)
		}
		if ev, _ := tx.Events(d.ID); len(ev) != 0 {
			t.Errorf("history of a summarised document: %d events", len(ev))
		}
		if _, err := tx.Delivery(store.DeliveryID(d.ID, "alpha")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delivery of a summarised document: %v", err)
		}
		q, _ := tx.Doc("F0000001-0000001")
		if _, err := tx.Body(q.ID); err != nil || q.Buyer == "" || !q.Summarised.IsZero() {
			t.Errorf("a queued document lost its payload: %v %+v", err, q)
		}
		if ev, _ := tx.Events(q.ID); len(ev) != 3 {
			t.Errorf("a queued document lost its history: %d events", len(ev))
		}
		if id, err := tx.NumberRef("t", "1000"); err != nil || id != d.ID {
			t.Errorf("invoice number index: %q %v", id, err)
		}
		if id, err := tx.CollectionRef("t", "10048", "0"); err != nil || id != d.ID {
			t.Errorf("collection index: %q %v", id, err)
		}
		if f, err := tx.FileByHash("t", "abc"); err != nil || f.ID != "F0000001" {
			t.Errorf("duplicate index: %v", err)
		}
		counts, _ := tx.Counts()
		if counts[store.DocDelivered]["alpha"] != 1 || counts[store.DocQueued]["alpha"] != 1 {
			t.Errorf("counts %v", counts)
		}
		return nil
	})
}

// A delivered document whose resend is still on its way keeps its payload.
func removePayloadResend(t *testing.T, b Backend) {
	s := b.Open(t)
	update(t, s, func(tx store.Tx) error {
		d := &store.Doc{ID: "F0000001-0000000", FileID: "F0000001", State: store.DocDelivered, Channel: "alpha", Resends: 1}
		if err := tx.PutDoc(d); err != nil {
			return err
		}
		if err := tx.PutBody(d.ID, &formats.Document{Number: "1"}); err != nil {
			return err
		}
		if err := tx.PutDelivery(&store.Delivery{ID: store.DeliveryID(d.ID, "alpha"), DocID: d.ID, State: store.DeliveryDelivered}); err != nil {
			return err
		}
		if err := tx.PutDelivery(&store.Delivery{ID: d.DeliveryID("alpha"), DocID: d.ID, State: store.DeliveryQueued}); err != nil {
			return err
		}
		if _, err := tx.RemovePayload(d); !errors.Is(err, store.ErrNotFinal) {
			t.Errorf("RemovePayload with a resend queued: %v, want ErrNotFinal", err)
		}
		_, err := tx.Body(d.ID)
		return err
	})
}

// Registrations get ids, are found by every key (oldest first, revoked
// ones too), walked per tenant, and removed with their keys.
func registryCase(t *testing.T, b Backend) {
	s := b.Open(t)
	pnr := store.RecipientKey{Type: store.KeyPNR, Value: "194608170000"}
	cust := store.RecipientKey{Type: store.KeyCustomer, Value: "101"}
	var first, second store.Registration
	update(t, s, func(tx store.Tx) error {
		first = store.Registration{Tenant: "demo", Keys: []store.RecipientKey{pnr, cust}, Channel: "epsilon", Source: "import a line 2"}
		second = store.Registration{Tenant: "demo", Keys: []store.RecipientKey{cust}, Channel: "alpha", Address: "a@example.se", Source: "import b line 2",
			RevokedAt: time.Now().UTC()}
		other := store.Registration{Tenant: "acme", Keys: []store.RecipientKey{cust}, Channel: "delta", Source: "import c line 2"}
		for _, r := range []*store.Registration{&first, &second, &other} {
			if err := tx.PutRegistration(r); err != nil {
				return err
			}
		}
		return nil
	})
	if first.ID == "" || second.ID <= first.ID {
		t.Fatalf("registration ids %q, %q: given, growing", first.ID, second.ID)
	}
	ids := func(tenant string, k store.RecipientKey) []string {
		t.Helper()
		var out []string
		view(t, s, func(tx store.Tx) error {
			rs, err := tx.Registrations(tenant, k)
			for _, r := range rs {
				out = append(out, r.ID+"/"+r.Channel)
			}
			return err
		})
		return out
	}
	if got := ids("demo", cust); !slices.Equal(got, []string{first.ID + "/epsilon", second.ID + "/alpha"}) {
		t.Errorf("demo's registrations of %v: %v", cust, got)
	}
	if got := ids("demo", pnr); !slices.Equal(got, []string{first.ID + "/epsilon"}) {
		t.Errorf("demo's registrations of %v: %v", pnr, got)
	}
	update(t, s, func(tx store.Tx) error { return tx.RemoveRegistration(&first) })
	if got := ids("demo", pnr); len(got) != 0 {
		t.Errorf("a removed registration is still found: %v", got)
	}
	var all []string
	view(t, s, func(tx store.Tx) error {
		return tx.ForEachRegistration("demo", func(r *store.Registration) error { all = append(all, r.ID); return nil })
	})
	if !slices.Equal(all, []string{second.ID}) {
		t.Errorf("demo's registrations: %v, want [%s]", all, second.ID)
	}
}

// Mandate orders get ids and are listed per tenant or for every tenant.
func mandateOrders(t *testing.T, b Backend) {
	s := b.Open(t)
	var orders []*store.MandateOrder
	update(t, s, func(tx store.Tx) error {
		orders = orders[:0]
		for _, tenant := range []string{"demo", "acme", "demo"} {
			o := &store.MandateOrder{Tenant: tenant, Action: "new", Payer: "101", State: store.MandateQueued}
			if err := tx.PutMandateOrder(o); err != nil {
				return err
			}
			orders = append(orders, o)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		o, err := tx.MandateOrder("demo", orders[0].ID)
		if err != nil {
			return err
		}
		o.State = store.MandateSent
		return tx.PutMandateOrder(o)
	})
	list := func(tenant string) (out []string) {
		view(t, s, func(tx store.Tx) error {
			return tx.ForEachMandateOrder(tenant, func(o *store.MandateOrder) error {
				out = append(out, o.Tenant+"/"+o.ID+"/"+string(o.State))
				return nil
			})
		})
		return out
	}
	if got := list("demo"); !slices.Equal(got, []string{"demo/" + orders[0].ID + "/sent", "demo/" + orders[2].ID + "/queued"}) {
		t.Errorf("demo's orders: %v", got)
	}
	if got := list(""); len(got) != 3 || got[0] != "acme/"+orders[1].ID+"/queued" {
		t.Errorf("every tenant's orders: %v", got)
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.MandateOrder("acme", orders[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's order: %v", err)
		}
		return nil
	})
}

// Deliveries leave the pending index at their end but for one awaiting a
// confirmation; batches are kept whole.
func queueAndBatches(t *testing.T, b Backend) {
	s := b.Open(t)
	update(t, s, func(tx store.Tx) error {
		for _, dl := range []*store.Delivery{
			{ID: "F0000001-0000000.alpha", State: store.DeliveryDelivered},
			{ID: "F0000001-0000001.beta", State: store.DeliveryDelivered, ConfirmBy: time.Now().Add(time.Hour)},
			{ID: "F0000001-0000002.gamma", State: store.DeliveryQueued, Batched: true},
			{ID: "F0000002-0000000.delta", State: store.DeliveryFailed},
		} {
			if err := tx.PutDelivery(dl); err != nil {
				return err
			}
		}
		return tx.PutBatch(&store.Batch{ID: "gamma-demo-F0000001-0000002", Channel: "gamma", Tenant: "demo",
			Deliveries: []string{"F0000001-0000002.gamma"}, State: store.DeliveryQueued})
	})
	var pendingIDs, batches []string
	view(t, s, func(tx store.Tx) error {
		tx.ForEachDelivery(func(dl *store.Delivery) error { pendingIDs = append(pendingIDs, dl.ID); return nil })
		tx.ForEachBatch(func(b *store.Batch) error { batches = append(batches, b.ID+"/"+b.Deliveries[0]); return nil })
		if tx.FilePending("F0000002") || !tx.FilePending("F0000001") {
			t.Error("FilePending: F0000001 has pending deliveries, F0000002 none")
		}
		return nil
	})
	if !slices.Equal(pendingIDs, []string{"F0000001-0000001.beta", "F0000001-0000002.gamma"}) {
		t.Errorf("pending %v", pendingIDs)
	}
	if !slices.Equal(batches, []string{"gamma-demo-F0000001-0000002/F0000001-0000002.gamma"}) {
		t.Errorf("batches %v", batches)
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Batch("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a batch never stored: %v", err)
		}
		if _, err := tx.Delivery("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a delivery never stored: %v", err)
		}
		return nil
	})
}

// A recipient key's pseudonym is the same after a restart.
func hashKey(t *testing.T, b Backend) {
	s := b.Open(t)
	k := store.RecipientKey{Type: store.KeyPNR, Value: "194608170000"}
	h := s.HashKey(k)
	if len(h) != 16 || h == s.HashKey(store.RecipientKey{Type: store.KeyPNR, Value: "194608170001"}) {
		t.Errorf("pseudonym %q", h)
	}
	s = b.Reopen(t, s)
	if got := s.HashKey(k); got != h {
		t.Errorf("pseudonym after a restart %q, before %q", got, h)
	}
}

// Many writers at once, each reading and changing records of its own and
// one count they share: nothing is lost.
func concurrentWriters(t *testing.T, b Backend) {
	s := b.Open(t)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := s.Update(func(tx store.Tx) error {
					d := &store.Doc{ID: fmt.Sprintf("F%07d-%07d", w+1, i), FileID: fmt.Sprintf("F%07d", w+1), State: store.DocQueued, Channel: "alpha"}
					if err := tx.PutDoc(d); err != nil {
						return err
					}
					d.State = store.DocDelivered
					return tx.PutDoc(d)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var counts map[store.DocState]map[string]int64
	view(t, s, func(tx store.Tx) (err error) { counts, err = tx.Counts(); return err })
	if counts[store.DocDelivered]["alpha"] != writers*each || len(counts) != 1 {
		t.Errorf("counts %v, want %d delivered by alpha and nothing else", counts, writers*each)
	}
}
