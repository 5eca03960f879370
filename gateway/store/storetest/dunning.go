package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// The dunning index follows each invoice as PutDoc records it: in under
// its due date once delivered and open, under its reminder's due date
// once reminded (the old entry gone), out once paid; a tenant sees only
// its own, up to the day asked, oldest first; and it survives a restart.
// The ERP's log holds the events of the documents' histories it follows,
// in order, paged per tenant.
func dunningIndex(t *testing.T, b Backend) {
	s := b.Open(t)
	due := formats.Date{Year: 2026, Month: 1, Day: 31}
	doc := &store.Doc{ID: "F0000001-0000000", FileID: "F0000001", Tenant: "acme", Kind: formats.KindInvoice, Number: "7", Amount: 100,
		DueDate: due, State: store.DocQueued}
	far := formats.Date{Year: 2030, Month: 1, Day: 1}
	index := func(tenant string, until formats.Date) (ids []string, dates []formats.Date) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			return tx.ForEachDunning(tenant, until, func(id string, at formats.Date) error {
				ids, dates = append(ids, id), append(dates, at)
				return nil
			})
		})
		return ids, dates
	}
	put := func(d *store.Doc, change func(d *store.Doc), events ...store.Event) {
		t.Helper()
		change(d)
		update(t, s, func(tx store.Tx) error {
			for _, e := range events {
				if err := tx.AppendEvent(d, e); err != nil {
					return err
				}
			}
			return tx.PutDoc(d)
		})
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	put(doc, func(d *store.Doc) {})
	if ids, _ := index("acme", far); len(ids) != 0 {
		t.Errorf("queued: %v", ids)
	}
	put(doc, func(d *store.Doc) { d.State = store.DocDelivered }, store.Event{At: now, State: store.DocDelivered, Channel: "ch-mail", Reason: "delivered: x.eml"})
	if ids, dates := index("acme", far); len(ids) != 1 || ids[0] != doc.ID || dates[0] != due {
		t.Errorf("delivered: %v %v", ids, dates)
	}
	// Another tenant's invoice, due earlier, and one of acme's due later.
	other := &store.Doc{ID: "F0000002-0000000", FileID: "F0000002", Tenant: "other", Kind: formats.KindInvoice, Number: "1", Amount: 50,
		DueDate: formats.Date{Year: 2025, Month: 12, Day: 1}, State: store.DocDelivered}
	put(other, func(d *store.Doc) {})
	second := &store.Doc{ID: "F0000003-0000000", FileID: "F0000003", Tenant: "acme", Kind: formats.KindInvoice, Number: "8", Amount: 70,
		DueDate: formats.Date{Year: 2026, Month: 1, Day: 15}, State: store.DocDelivered}
	put(second, func(d *store.Doc) {})
	if ids, _ := index("acme", far); !slices.Equal(ids, []string{second.ID, doc.ID}) {
		t.Errorf("acme's index, oldest first: %v", ids)
	}
	if ids, _ := index("acme", formats.Date{Year: 2026, Month: 1, Day: 30}); !slices.Equal(ids, []string{second.ID}) {
		t.Errorf("until the day before the first's due date: %v", ids)
	}
	if ids, _ := index("acme", due); !slices.Equal(ids, []string{second.ID, doc.ID}) {
		t.Errorf("until a due date, that day included: %v", ids)
	}
	if ids, _ := index("other", far); !slices.Equal(ids, []string{other.ID}) {
		t.Errorf("other's index: %v", ids)
	}
	// Summarised by retention, an invoice cannot be reminded by the
	// daemon (a reminder is built from its content): it leaves the index
	// instead of being visited every day.
	gone := &store.Doc{ID: "F0000004-0000000", FileID: "F0000004", Tenant: "gone", Kind: formats.KindInvoice, Number: "2", Amount: 50,
		DueDate: formats.Date{Year: 2025, Month: 12, Day: 1}, State: store.DocDelivered}
	put(gone, func(d *store.Doc) {})
	put(gone, func(d *store.Doc) { d.Summarise(now) })
	if ids, _ := index("gone", far); len(ids) != 0 {
		t.Errorf("a summarised invoice stays in the index: %v", ids)
	}
	later := formats.Date{Year: 2026, Month: 2, Day: 20}
	put(doc, func(d *store.Doc) {
		d.Dunning = &store.Dunning{Reminders: []store.SentReminder{{Doc: "F2-0", Due: later}}}
	}, store.Event{At: now, State: store.DocDelivered, Reason: store.ReasonReminded + "reminder 1"})
	if ids, dates := index("acme", far); !slices.Equal(ids, []string{second.ID, doc.ID}) || dates[1] != later {
		t.Errorf("reminded: %v %v", ids, dates)
	}
	if ids, _ := index("acme", due); !slices.Equal(ids, []string{second.ID}) {
		t.Errorf("the entry under the old due date stayed: %v", ids)
	}
	// An ERP's reminder with no due date: held under the day it was sent
	// (PostgreSQL refused the empty date; bbolt held it under the year 1,
	// so the next reminder fell due at once).
	sent := time.Date(2026, 2, 25, 9, 0, 0, 0, time.UTC)
	put(doc, func(d *store.Doc) {
		d.Dunning.Reminders = append(d.Dunning.Reminders, store.SentReminder{Doc: "F3-0", At: sent, Source: "erp.csv"})
	})
	if ids, dates := index("acme", far); !slices.Equal(ids, []string{second.ID, doc.ID}) || dates[1] != formats.DateOf(sent) {
		t.Errorf("reminded by the ERP without a due date: %v %v", ids, dates)
	}
	put(doc, func(d *store.Doc) {
		d.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: 100}
	}, store.Event{At: now, State: store.DocDelivered, Reason: "payment paid: 100 of 100"})
	if ids, _ := index("acme", far); !slices.Equal(ids, []string{second.ID}) || doc.Life() != store.LifePaid {
		t.Errorf("paid: %v, life %s", ids, doc.Life())
	}
	// Disputed leaves it too, and a change in one transaction that puts a
	// document in and out again leaves it out.
	update(t, s, func(tx store.Tx) error {
		d, err := tx.Doc(second.ID)
		if err != nil {
			return err
		}
		d.Disputed = &store.Ack{By: "op", Why: "wrong amount"}
		if err := tx.PutDoc(d); err != nil {
			return err
		}
		d.Disputed = nil
		if err := tx.PutDoc(d); err != nil {
			return err
		}
		d.Disputed = &store.Ack{By: "op", Why: "wrong amount"}
		return tx.PutDoc(d)
	})
	if ids, _ := index("acme", far); len(ids) != 0 {
		t.Errorf("disputed: %v", ids)
	}

	var page []*store.ERPEvent
	view(t, s, func(tx store.Tx) (err error) { page, err = tx.ERPEvents("acme", 0, 10); return })
	var types []string
	for _, e := range page {
		types = append(types, e.Type)
	}
	if !slices.Equal(types, []string{store.ERPDelivered, store.ERPReminded, store.ERPPaid}) || page[2].State != "paid" ||
		page[0].Doc != doc.ID || page[0].Channel != "ch-mail" || !page[0].At.Equal(now) {
		t.Errorf("the log: %v %+v", types, page)
	}
	if !(page[0].Seq < page[1].Seq && page[1].Seq < page[2].Seq) {
		t.Errorf("seqs do not grow: %d %d %d", page[0].Seq, page[1].Seq, page[2].Seq)
	}
	var next []*store.ERPEvent
	view(t, s, func(tx store.Tx) (err error) { next, err = tx.ERPEvents("acme", page[0].Seq, 1); return })
	if len(next) != 1 || next[0].Type != store.ERPReminded || next[0].Seq != page[1].Seq {
		t.Errorf("the second page: %+v", next)
	}
	view(t, s, func(tx store.Tx) (err error) { next, err = tx.ERPEvents("other", 0, 10); return })
	if len(next) != 0 {
		t.Errorf("another tenant sees %d events", len(next))
	}

	s = b.Reopen(t, s)
	if ids, _ := index("other", far); !slices.Equal(ids, []string{other.ID}) {
		t.Errorf("after a restart: %v", ids)
	}
	view(t, s, func(tx store.Tx) (err error) { next, err = tx.ERPEvents("acme", 0, 10); return })
	if len(next) != 3 {
		t.Errorf("after a restart the log holds %d events", len(next))
	}
}

// The day of a tenant's last reminders' run is kept per tenant, read back
// in the transaction that set it, and survives a restart.
func dunningRuns(t *testing.T, b Backend) {
	s := b.Open(t)
	day := formats.Date{Year: 2026, Month: 3, Day: 2}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.DunningRun("acme")
		if err == nil && !got.IsZero() {
			t.Errorf("never run: %v", got)
		}
		return err
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.SetDunningRun("acme", day); err != nil {
			return err
		}
		got, err := tx.DunningRun("acme")
		if err == nil && got != day {
			t.Errorf("in its transaction: %v", got)
		}
		return err
	})
	update(t, s, func(tx store.Tx) error { return tx.SetDunningRun("acme", formats.Date{Year: 2026, Month: 3, Day: 3}) })
	s = b.Reopen(t, s)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.DunningRun("acme")
		if err == nil && got != (formats.Date{Year: 2026, Month: 3, Day: 3}) {
			t.Errorf("after a restart: %v", got)
		}
		none, err2 := tx.DunningRun("other")
		if err2 == nil && !none.IsZero() {
			t.Errorf("another tenant's run: %v", none)
		}
		return errors.Join(err, err2)
	})
}

// A registration added or revoked is an event of its tenant's log; a
// receiver's answer kept for a while (a Kivra match, which revokes itself
// when it expires) is not, nor is a change of nothing.
func registrationEvents(t *testing.T, b Backend) {
	s := b.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := &store.Registration{Tenant: "acme", Keys: []store.RecipientKey{{Type: "pnr", Value: "198112189876"}}, Channel: "ch-bank",
		Source: "file reg.csv line 2", ValidFrom: now, Created: now}
	match := &store.Registration{Tenant: "acme", Keys: []store.RecipientKey{{Type: "pnr", Value: "191212121212"}}, Channel: "ch-box",
		Source: "Kivra usermatch", ValidFrom: now, RevokedAt: now.Add(24 * time.Hour), RevokedBy: "time to live", Created: now}
	for _, step := range []func(tx store.Tx) error{
		func(tx store.Tx) error { return tx.PutRegistration(r) },
		func(tx store.Tx) error { return tx.PutRegistration(match) },
		func(tx store.Tx) error { return tx.PutRegistration(r) }, // nothing changed
		func(tx store.Tx) error {
			r.RevokedAt, r.RevokedBy = now, "file reg2.csv line 2"
			return tx.PutRegistration(r)
		},
	} {
		update(t, s, step)
	}
	var page []*store.ERPEvent
	view(t, s, func(tx store.Tx) (err error) { page, err = tx.ERPEvents("acme", 0, 10); return })
	if len(page) != 2 || page[0].State != "added" || page[1].State != "revoked" || page[1].Reason != "file reg2.csv line 2" ||
		page[0].Type != store.ERPRegistration || page[0].Registration != r.ID || len(page[0].Keys) != 1 || page[0].Keys[0] != "pnr:198112189876" {
		t.Errorf("registration events: %+v", page)
	}
}

// The webhook's side of the log: what it did with an event is recorded
// on it (an event pruned meanwhile is not found), its cursor is kept per
// tenant, and pruning removes a tenant's oldest events up to the first
// that is not old, at most max, never another tenant's.
func webhookLog(t *testing.T, b Backend) {
	s := b.Open(t)
	old := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	young := old.Add(48 * time.Hour)
	at := []time.Time{old, old.Add(time.Hour), young, old.Add(2 * time.Hour), young}
	for i, when := range at {
		for _, tenant := range []string{"acme", "other"} {
			d := &store.Doc{ID: "F000000" + string(rune('1'+i)) + "-" + tenant, Tenant: tenant, Kind: formats.KindInvoice, State: store.DocDelivered}
			update(t, s, func(tx store.Tx) error {
				return tx.AppendEvent(d, store.Event{At: when, State: store.DocDelivered, Reason: store.ReasonDelivered + "x"})
			})
		}
	}
	var page []*store.ERPEvent
	view(t, s, func(tx store.Tx) (err error) { page, err = tx.ERPEvents("acme", 0, 100); return })
	if len(page) != 5 {
		t.Fatalf("acme's log holds %d events, not 5", len(page))
	}
	first := page[0]
	first.Hook = &store.HookAttempts{Attempts: 2, Status: 503, Error: "the webhook answered 503", Last: young}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutERPEvent(first); err != nil {
			return err
		}
		if err := tx.SetHookCursor("acme", page[1].Seq); err != nil {
			return err
		}
		got, err := tx.HookCursor("acme")
		if err == nil && got != page[1].Seq {
			t.Errorf("the cursor in its transaction: %d", got)
		}
		return err
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ERPEvents("acme", 0, 1)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].Seq != first.Seq || got[0].Hook == nil || got[0].Hook.Attempts != 2 || got[0].Hook.Status != 503 {
			t.Errorf("the webhook's record: %+v", got)
		}
		c, err := tx.HookCursor("acme")
		if c != page[1].Seq {
			t.Errorf("acme's cursor: %d, not %d", c, page[1].Seq)
		}
		c2, err2 := tx.HookCursor("other")
		if c2 != 0 {
			t.Errorf("other's cursor: %d", c2)
		}
		return errors.Join(err, err2)
	})
	// Pruning before young: the first two go (the third is young, so the
	// fourth, old as it is, stays); at most max at a time.
	var n int
	update(t, s, func(tx store.Tx) (err error) { n, err = tx.PruneERPEvents("acme", young, 1); return })
	if n != 1 {
		t.Errorf("pruned %d with max 1", n)
	}
	update(t, s, func(tx store.Tx) (err error) { n, err = tx.PruneERPEvents("acme", young, 10); return })
	if n != 1 {
		t.Errorf("pruned %d more, not 1", n)
	}
	view(t, s, func(tx store.Tx) (err error) { page, err = tx.ERPEvents("acme", 0, 100); return })
	if len(page) != 3 || !page[0].At.Equal(young) || !page[1].At.Equal(old.Add(2*time.Hour)) {
		t.Errorf("after pruning: %+v", page)
	}
	view(t, s, func(tx store.Tx) (err error) { page, err = tx.ERPEvents("other", 0, 100); return })
	if len(page) != 5 {
		t.Errorf("pruning acme's log removed other's: %d left", len(page))
	}
	err := s.Update(func(tx store.Tx) error { return tx.PutERPEvent(first) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("recording a pruned event: %v", err)
	}
}

// Writers that append a tenant's events at once (on two nodes where the
// backend has them) leave a log a reader that follows a cursor reads
// whole: every event once, in seq order, none skipped because it
// committed after a larger seq was read.
func eventLogCursor(t *testing.T, b Backend) {
	s := b.Open(t)
	nodes := []store.Store{s}
	if b.Peer != nil {
		nodes = append(nodes, b.Peer(t, s))
	}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	stop := make(chan struct{})
	seen := map[uint64]bool{}
	var read []uint64
	var readErr error
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		var cursor uint64
		for final := false; ; {
			select {
			case <-stop:
				final = true
			default:
			}
			var page []*store.ERPEvent
			if err := s.View(func(tx store.Tx) (err error) { page, err = tx.ERPEvents("acme", cursor, 1000); return }); err != nil {
				readErr = err
				return
			}
			for _, e := range page {
				read = append(read, e.Seq)
				seen[e.Seq] = true
				cursor = e.Seq
			}
			if final && len(page) == 0 {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				d := &store.Doc{ID: "F" + string(rune('A'+w)) + "-" + string(rune('a'+i)), Tenant: "acme", Kind: formats.KindInvoice, State: store.DocDelivered}
				err := nodes[w%len(nodes)].Update(func(tx store.Tx) error {
					return tx.AppendEvent(d, store.Event{At: time.Now(), State: store.DocDelivered, Reason: store.ReasonDelivered + "x"})
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-readerDone
	if readErr != nil {
		t.Fatal(readErr)
	}
	var all []*store.ERPEvent
	view(t, s, func(tx store.Tx) (err error) { all, err = tx.ERPEvents("acme", 0, 10000); return })
	if len(all) != writers*each {
		t.Fatalf("the log holds %d events, not %d", len(all), writers*each)
	}
	if len(read) != len(all) || len(seen) != len(all) {
		t.Errorf("a reader following its cursor read %d events (%d distinct) of %d", len(read), len(seen), len(all))
	}
	if !slices.IsSorted(read) {
		t.Errorf("the reader read them out of order")
	}
}
