package storetest

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// recount is the overview's counters of a tenant counted the slow way:
// every document scanned, as the overview was read before the store
// kept them.
func recount(t *testing.T, s store.Store, tenant string) *store.Distribution {
	t.Helper()
	out := store.NewDistribution()
	err := s.ScanDocsNewestFirst(func(d *store.Doc) error {
		if d.Tenant != tenant || d.State != store.DocDelivered {
			return nil
		}
		if d.Kind == formats.KindInvoice {
			out.Life[d.Life()]++
		}
		if d.Channel != "" {
			out.Sent[store.SentKey{Month: d.Created.Format("2006-01"), Channel: d.Channel, Reminder: d.Kind == formats.KindReminder}]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func distribution(t *testing.T, s store.Store, tenant string) *store.Distribution {
	t.Helper()
	var d *store.Distribution
	view(t, s, func(tx store.Tx) (err error) { d, err = tx.Distribution(tenant); return err })
	return d
}

func sk(month, channel string, reminder bool) store.SentKey {
	return store.SentKey{Month: month, Channel: channel, Reminder: reminder}
}

func sameDistribution(a, b *store.Distribution) bool {
	return maps.Equal(a.Sent, b.Sent) && maps.Equal(a.Life, b.Life)
}

// The overview's counters follow every PutDoc: documents delivered and
// re-put, invoices paid, opened, reminded, disputed, credited, handed to
// debt collection, a document taken back to be resent, summaries and
// erasures by retention (which change no count: a summarised invoice is
// still delivered in its month); each tenant's apart. After every step
// they equal a full recount, in the transaction that wrote them and after
// a restart.
func overviewCounts(t *testing.T, b Backend) {
	s := b.Open(t)
	jan := time.Date(2026, 1, 31, 23, 59, 59, 700_000_000, time.UTC) // a summary truncates it to the second: still January
	feb := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
	id := func(i int) string { return fmt.Sprintf("F0000001-%07d", i) }
	docs := []*store.Doc{
		{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "alpha", Created: jan},
		{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "paper", Created: jan},
		{Tenant: "acme", Kind: formats.KindReminder, State: store.DocDelivered, Channel: "alpha", Created: jan},
		{Tenant: "acme", Kind: formats.KindCreditNote, State: store.DocDelivered, Channel: "alpha", Created: jan},
		{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocQueued, Channel: "beta", Created: feb},
		{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "beta", Created: feb},
		{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocRejected, Created: feb},
		{Tenant: "other", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "alpha", Created: feb},
	}
	for i, d := range docs {
		d.ID, d.FileID, d.Amount, d.DueDate = id(i), "F0000001", 100, formats.Date{Year: 2026, Month: 3, Day: 1}
	}
	check := func(step string, want *store.Distribution) {
		t.Helper()
		for _, tenant := range []string{"acme", "other", "nobody"} {
			got, full := distribution(t, s, tenant), recount(t, s, tenant)
			if !sameDistribution(got, full) {
				t.Errorf("%s: %s's counters %v, a recount %v", step, tenant, *got, *full)
			}
			if tenant == "acme" && want != nil && !sameDistribution(got, want) {
				t.Errorf("%s: acme's counters %v, want %v", step, *got, *want)
			}
		}
	}
	put := func(i int, change func(d *store.Doc)) {
		t.Helper()
		update(t, s, func(tx store.Tx) error {
			d, err := tx.Doc(id(i))
			if err != nil {
				return err
			}
			change(d)
			return tx.PutDoc(d)
		})
	}
	var inTx *store.Distribution
	update(t, s, func(tx store.Tx) (err error) {
		for _, d := range docs {
			if err := tx.PutDoc(d); err != nil {
				return err
			}
		}
		// What the transaction wrote, it reads.
		inTx, err = tx.Distribution("acme")
		return err
	})
	first := &store.Distribution{
		Sent: map[store.SentKey]int64{sk("2026-01", "alpha", false): 2, sk("2026-01", "paper", false): 1, sk("2026-01", "alpha", true): 1,
			sk("2026-02", "beta", false): 1},
		Life: map[string]int64{"delivered": 3},
	}
	if !sameDistribution(inTx, first) {
		t.Errorf("in the writing transaction: %v, want %v", *inTx, *first)
	}
	check("delivered", first)

	put(0, func(*store.Doc) {}) // re-put as it was
	check("re-put", first)

	put(0, func(d *store.Doc) {
		d.Opened = feb
		d.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: 100}
	})
	put(1, func(d *store.Doc) {
		d.Dunning = &store.Dunning{Reminders: []store.SentReminder{{Doc: id(2), Number: "R1", At: feb, Due: formats.Date{Year: 2026, Month: 3, Day: 15}, Source: "schedule"}}}
	})
	put(5, func(d *store.Doc) { d.Disputed = &store.Ack{At: feb, By: "op", Why: "wrong amount"} })
	put(4, func(d *store.Doc) { d.State = store.DocDelivered }) // the queued one arrives
	check("life", &store.Distribution{
		Sent: map[store.SentKey]int64{sk("2026-01", "alpha", false): 2, sk("2026-01", "paper", false): 1, sk("2026-01", "alpha", true): 1,
			sk("2026-02", "beta", false): 2},
		Life: map[string]int64{store.LifePaid: 1, store.LifeReminded: 1, store.LifeDisputed: 1, "delivered": 1},
	})

	put(1, func(d *store.Doc) { d.Dunning.Agency = feb })
	put(5, func(d *store.Doc) { d.CreditedBy = id(3) })
	put(4, func(d *store.Doc) { d.State, d.Channel = store.DocRetrying, "paper" }) // taken back to be resent on another channel
	afterMoves := &store.Distribution{
		Sent: map[store.SentKey]int64{sk("2026-01", "alpha", false): 2, sk("2026-01", "paper", false): 1, sk("2026-01", "alpha", true): 1,
			sk("2026-02", "beta", false): 1},
		Life: map[string]int64{store.LifePaid: 1, store.LifeCollectionAgency: 1, store.LifeCredited: 1},
	}
	check("moved", afterMoves)

	// Retention summarises (payload removed, summary put) and erasure
	// anonymises: the counts stay.
	now := time.Now()
	update(t, s, func(tx store.Tx) error {
		for _, i := range []int{0, 1, 2, 3, 5} {
			d, err := tx.Doc(id(i))
			if err != nil {
				return err
			}
			if _, err := tx.RemovePayload(d); err != nil {
				return err
			}
			if i == 3 {
				d.Anonymise(now)
			} else {
				d.Summarise(now)
			}
			if err := tx.PutDoc(d); err != nil {
				return err
			}
		}
		return nil
	})
	check("summarised", afterMoves)

	put(4, func(d *store.Doc) { d.State = store.DocDelivered }) // the resend arrives, on the other channel
	afterResend := &store.Distribution{
		Sent: map[store.SentKey]int64{sk("2026-01", "alpha", false): 2, sk("2026-01", "paper", false): 1, sk("2026-01", "alpha", true): 1,
			sk("2026-02", "beta", false): 1, sk("2026-02", "paper", false): 1},
		Life: map[string]int64{store.LifePaid: 1, store.LifeCollectionAgency: 1, store.LifeCredited: 1, "delivered": 1},
	}
	check("resent", afterResend)

	if b.Peer != nil {
		// Another node's changes add to its own counters: the sum is the
		// count.
		p := b.Peer(t, s)
		if err := p.Update(func(tx store.Tx) error {
			d, err := tx.Doc(id(4))
			if err != nil {
				return err
			}
			d.Opened = feb
			return tx.PutDoc(d)
		}); err != nil {
			t.Fatal(err)
		}
		delete(afterResend.Life, "delivered")
		afterResend.Life[store.LifeOpened] = 1
		check("another node", afterResend)
	}

	s = b.Reopen(t, s)
	check("reopened", afterResend)
}
