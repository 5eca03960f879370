package bolt

import (
	"maps"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// TestPaymentStates reads every document's payment state, and counts
// them as they change, including in a store written before the payment
// state: its collections carry queued, submitted, stopped and none, which
// read as the payment states they were.
func TestPaymentStates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	legacy := map[string]string{
		"F0000001-0000000": `{"id":"F0000001-0000000","kind":"invoice","amount":"125.00","state":"delivered","collection":{"method":"autogiro","payer":"101","state":"queued","reason":"r","at":"2026-01-01T00:00:00Z"}}`,
		"F0000001-0000001": `{"id":"F0000001-0000001","kind":"invoice","amount":"125.00","state":"delivered","collection":{"method":"autogiro","payer":"102","state":"submitted","file":"BFEP.IAGAG.K0471117.D260101.T120000","reason":"r","at":"2026-01-01T00:00:00Z"}}`,
		"F0000001-0000002": `{"id":"F0000001-0000002","kind":"invoice","amount":"125.00","state":"delivered","collection":{"method":"autogiro","payer":"103","state":"stopped","reason":"r","at":"2026-01-01T00:00:00Z"}}`,
		"F0000001-0000003": `{"id":"F0000001-0000003","kind":"invoice","amount":"125.00","state":"delivered","collection":{"method":"autogiro","payer":"104","state":"none","reason":"r","at":"2026-01-01T00:00:00Z"}}`,
		"F0000001-0000004": `{"id":"F0000001-0000004","kind":"invoice","amount":"125.00","state":"delivered"}`,
		"F0000001-0000005": `{"id":"F0000001-0000005","kind":"creditnote","amount":"-5.00","state":"delivered"}`,
		"F0000001-0000006": `{"id":"F0000001-0000006","kind":"invoice","amount":"125.00","state":"rejected"}`,
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for id, raw := range legacy {
			if err := tx.Bucket(bDocs).Put([]byte(id), []byte(raw)); err != nil {
				return err
			}
		}
		return tx.DeleteBucket(bPayCounts)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	want := []struct {
		id     string
		state  store.PaymentState
		atBank bool
		end    bool
	}{
		{"F0000001-0000000", store.PaymentScheduled, false, false},
		{"F0000001-0000001", store.PaymentScheduled, true, true},
		{"F0000001-0000002", store.PaymentFailed, false, true},
		{"F0000001-0000003", store.PaymentOpen, false, true},
		{"F0000001-0000004", store.PaymentOpen, false, true},
		{"F0000001-0000005", "", false, true},
		{"F0000001-0000006", "", false, true},
	}
	counts := func() map[store.PaymentState]int64 {
		t.Helper()
		var c map[store.PaymentState]int64
		if err := s.View(func(tx store.Tx) (err error) { c, err = tx.PaymentCounts(); return err }); err != nil {
			t.Fatal(err)
		}
		return c
	}
	err = s.View(func(tx store.Tx) error {
		for _, w := range want {
			d, err := tx.Doc(w.id)
			if err != nil {
				return err
			}
			p := d.Payment()
			switch {
			case w.state == "" && p != nil:
				t.Errorf("%s: payment %+v, want none", w.id, p)
			case w.state != "" && (p == nil || p.State != w.state || p.AtBank != w.atBank):
				t.Errorf("%s: payment %+v, want %s (at bank %v)", w.id, p, w.state, w.atBank)
			case p.End() != w.end:
				t.Errorf("%s: End() = %v, want %v", w.id, p.End(), w.end)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts(), map[store.PaymentState]int64{store.PaymentScheduled: 2, store.PaymentFailed: 1, store.PaymentOpen: 2}; !maps.Equal(got, want) {
		t.Errorf("counts built at open: %v, want %v", got, want)
	}

	// PutDoc moves a document between the counts.
	err = s.Update(func(tx store.Tx) error {
		d, err := tx.Doc("F0000001-0000004")
		if err != nil {
			return err
		}
		d.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPartlyPaid, Paid: formats.Amount(500)}
		if err := tx.PutDoc(d); err != nil {
			return err
		}
		return tx.PutDoc(&store.Doc{ID: "F0000002-0000000", Kind: formats.KindInvoice, Amount: 100, State: store.DocQueued})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts(), map[store.PaymentState]int64{store.PaymentScheduled: 2, store.PaymentFailed: 1, store.PaymentOpen: 2, store.PaymentPartlyPaid: 1}; !maps.Equal(got, want) {
		t.Errorf("counts after PutDoc: %v, want %v", got, want)
	}
}
