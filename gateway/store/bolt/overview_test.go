package bolt

import (
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// A store written before the overview's counters gets them counted from
// its documents at its first open by a version that keeps them.
func TestOverviewCountersBuiltAtFirstOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mar := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	err = s.Update(func(tx store.Tx) error {
		for i, d := range []*store.Doc{
			{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "email"},
			{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "print",
				Collection: &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: 100}},
			{Tenant: "acme", Kind: formats.KindReminder, State: store.DocDelivered, Channel: "print"},
			{Tenant: "acme", Kind: formats.KindInvoice, State: store.DocFailed, Channel: "email"},
			{Tenant: "other", Kind: formats.KindInvoice, State: store.DocDelivered, Channel: "email"},
		} {
			d.ID, d.Amount, d.Created = fmt.Sprintf("F0000001-%07d", i), 100, mar
			if err := tx.PutDoc(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bOverview) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got *store.Distribution
	if err := s.View(func(tx store.Tx) (err error) { got, err = tx.Distribution("acme"); return err }); err != nil {
		t.Fatal(err)
	}
	sent := map[store.SentKey]int64{
		{Month: "2026-03", Channel: "email"}: 1, {Month: "2026-03", Channel: "print"}: 1, {Month: "2026-03", Channel: "print", Reminder: true}: 1,
	}
	if life := map[string]int64{"delivered": 1, store.LifePaid: 1}; !maps.Equal(got.Sent, sent) || !maps.Equal(got.Life, life) {
		t.Errorf("counters after the first open %v, want %v %v", *got, sent, life)
	}
}
