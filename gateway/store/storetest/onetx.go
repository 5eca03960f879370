package storetest

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// A document changed several times in one transaction, as a group commit
// does (a delivery outcome and a fallback, a payment and a reminder),
// keeps every counter and index right: the counts per state and channel,
// per payment state, the overview's, the dunning index and the attention
// index all equal a recount of the documents afterwards. It is read and
// put back, put twice without a read between, and read with the copy
// changed in place but never put (what counts is what is stored).
func changesWithinOneTransaction(t *testing.T, b Backend) {
	s := b.Open(t)
	due := formats.Date{Year: 2026, Month: 1, Day: 31}
	created := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	newDoc := func(i int) *store.Doc {
		return &store.Doc{ID: fmt.Sprintf("F0000001-%07d", i), FileID: "F0000001", Tenant: "acme", Kind: formats.KindInvoice,
			Number: fmt.Sprint(i), Amount: 100, Currency: "SEK", DueDate: due, State: store.DocQueued, Channel: "alpha", Created: created}
	}
	update(t, s, func(tx store.Tx) error {
		// Put new, read back, delivered, then failed over to paper and
		// delivered there, put twice without a read between.
		d := newDoc(0)
		if err := tx.PutDoc(d); err != nil {
			return err
		}
		r, err := tx.Doc(d.ID)
		if err != nil {
			return err
		}
		r.State = store.DocDelivered
		if err := tx.PutDoc(r); err != nil {
			return err
		}
		r.State, r.Channel = store.DocFailed, "alpha"
		if err := tx.PutDoc(r); err != nil {
			return err
		}
		r.State, r.Channel = store.DocDelivered, "paper"
		r.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPartlyPaid, Paid: 40}
		if err := tx.PutDoc(r); err != nil {
			return err
		}
		// Read, changed in place, never put: nothing moves.
		x, err := tx.Doc(d.ID)
		if err != nil {
			return err
		}
		x.State, x.Channel, x.Collection = store.DocRejected, "", nil
		// Another document: read twice, the first copy put after the
		// second changed it.
		e := newDoc(1)
		if err := tx.PutDoc(e); err != nil {
			return err
		}
		e1, _ := tx.Doc(e.ID)
		e2, _ := tx.Doc(e.ID)
		e2.State = store.DocDelivered
		if err := tx.PutDoc(e2); err != nil {
			return err
		}
		e1.State, e1.Channel = store.DocFailed, "paper"
		return tx.PutDoc(e1)
	})
	// A later transaction: a reminder on the first, which moves it in the
	// dunning index.
	update(t, s, func(tx store.Tx) error {
		r, err := tx.Doc("F0000001-0000000")
		if err != nil {
			return err
		}
		r.Dunning = &store.Dunning{Reminders: []store.SentReminder{{Doc: "F0000002-0000000", Number: "R1", At: created.AddDate(0, 1, 0), Due: formats.Date{Year: 2026, Month: 3, Day: 10}, Source: "schedule"}}}
		if err := tx.PutDoc(r); err != nil {
			return err
		}
		r.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: 100}
		return tx.PutDoc(r)
	})

	states := map[string]int64{}
	payments := map[store.PaymentState]int64{}
	dunning := map[string]formats.Date{}
	err := s.ScanDocsNewestFirst(func(d *store.Doc) error {
		states[string(d.State)+"|"+d.Channel]++
		if p := d.PaymentState(); p != "" {
			payments[p]++
		}
		if at, ok := d.DunningDate(); ok {
			dunning[d.ID] = at
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var counts map[store.DocState]map[string]int64
	var pays map[store.PaymentState]int64
	indexed := map[string]formats.Date{}
	view(t, s, func(tx store.Tx) (err error) {
		if counts, err = tx.Counts(); err != nil {
			return err
		}
		if pays, err = tx.PaymentCounts(); err != nil {
			return err
		}
		return tx.ForEachDunning("acme", formats.Date{Year: 2100, Month: 1, Day: 1}, func(id string, at formats.Date) error {
			indexed[id] = at
			return nil
		})
	})
	flat := map[string]int64{}
	for st, byChannel := range counts {
		for ch, n := range byChannel {
			flat[string(st)+"|"+ch] = n
		}
	}
	if !maps.Equal(flat, states) {
		t.Errorf("counts per state and channel %v, recounted %v", flat, states)
	}
	if !maps.Equal(pays, payments) {
		t.Errorf("counts per payment state %v, recounted %v", pays, payments)
	}
	if !maps.Equal(indexed, dunning) {
		t.Errorf("dunning index %v, recounted %v", indexed, dunning)
	}
	if got, want := distribution(t, s, "acme"), recount(t, s, "acme"); !sameDistribution(got, want) {
		t.Errorf("overview %+v, recounted %+v", got, want)
	}
}
