package postgres

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// A database of version 2 gets the overview's counters of the documents
// it holds when migrated to version 3, and a node then adds to them.
func TestMigrationCountsTheOverviewOfVersion2(t *testing.T) {
	ctx := context.Background()
	dsn, conn := databaseAt(t, 2)
	mar := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	for i, d := range []*store.Doc{
		{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "email"},
		{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "print",
			Collection: &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: 100}},
		{Tenant: "acme", Kind: formats.KindReminder, State: store.DocDelivered, Channel: "print"},
		{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocFailed, Channel: "email"},
		{Tenant: "other", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "email"},
	} {
		d.ID, d.Amount, d.Created = fmt.Sprintf("F0000001-%07d", i), 100, mar
		rec, err := marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO docs (id, attention, rec) VALUES ($1, false, $2)", d.ID, rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	s := open(t, Options{DSN: dsn, Node: "n1"})
	read := func() *store.Distribution {
		t.Helper()
		var got *store.Distribution
		if err := s.View(func(tx store.Tx) (err error) { got, err = tx.Distribution("acme"); return err }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	sent := map[store.SentKey]int64{
		{Month: "2026-03", Channel: "email"}: 1, {Month: "2026-03", Channel: "print"}: 1, {Month: "2026-03", Channel: "print", Reminder: true}: 1,
	}
	life := map[string]int64{"delivered": 1, store.LifePaid: 1}
	if got := read(); !maps.Equal(got.Sent, sent) || !maps.Equal(got.Life, life) {
		t.Errorf("counters after migrating %v, want %v %v", *got, sent, life)
	}
	// The node pays the open one: its -1 and +1 go to rows of its own.
	err := s.Update(func(tx store.Tx) error {
		d, err := tx.Doc("F0000001-0000000")
		if err != nil {
			return err
		}
		d.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: 100}
		return tx.PutDoc(d)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, life := read(), map[string]int64{store.LifePaid: 2}; !maps.Equal(got.Sent, sent) || !maps.Equal(got.Life, life) {
		t.Errorf("counters after a payment %v, want %v %v", *got, sent, life)
	}
}
