package receipts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/bolt"
)

// noScan is a store whose full scan fails the test: the overview reads
// counters, never every document.
type noScan struct {
	store.Store
	t *testing.T
}

func (s noScan) ScanDocsNewestFirst(fn func(*store.Doc) error) error {
	s.t.Error("the overview scanned every document of the store")
	return s.Store.ScanDocsNewestFirst(fn)
}

// overviewByScan is the overview as it was read before the store kept
// its counters: every document scanned and counted. The counters must
// give the same, byte for byte.
func overviewByScan(st store.DocScanner, tenant string, prices map[string]formats.Amount, paper func(string) bool) (*api.Overview, map[string]int64, error) {
	months := map[string]*api.OverviewMonth{}
	life := map[string]int64{}
	err := st.ScanDocsNewestFirst(func(d *store.Doc) error {
		if d.Tenant != tenant {
			return nil
		}
		if d.Kind == formats.KindInvoice && d.State == store.DocDelivered {
			life[d.Life()]++
		}
		if d.State != store.DocDelivered || d.Channel == "" {
			return nil
		}
		key := d.Created.Format("2006-01")
		m := months[key]
		if m == nil {
			m = &api.OverviewMonth{Month: key, Channels: map[string]int64{}, CostByCh: map[string]int64{}}
			months[key] = m
		}
		m.Channels[d.Channel]++
		if paper(d.Channel) {
			m.Paper++
		} else {
			m.Digital++
		}
		if d.Kind == formats.KindReminder {
			m.Reminders++
		}
		if p, ok := prices[d.Channel]; ok {
			m.Cost += p
			m.CostByCh[d.Channel] += int64(p)
		}
		return nil
	})
	out := &api.Overview{Tenant: tenant, Months: []api.OverviewMonth{}}
	for _, m := range months {
		if n := m.Digital + m.Paper; n > 0 {
			m.Share = float64(m.Digital) / float64(n)
		}
		out.Months = append(out.Months, *m)
	}
	slices.SortFunc(out.Months, func(a, b api.OverviewMonth) int { return cmpString(a.Month, b.Month) })
	return out, life, err
}

// The overview from the store's counters is the overview a scan of every
// document gives, as JSON and as CSV, over a mixed store: three tenants,
// fourteen months across a new year, channels paper and digital with and
// without a price, reminders, credit notes, documents that did not go
// out, invoices paid, reminded, disputed, credited, with debt collection,
// resent, summarised and erased. It reads no document to make it.
func TestOverviewFromCountersIsTheScansOverview(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rnd := rand.New(rand.NewPCG(22, 1))
	tenants := []string{"acme", "bolaget", "cirkus"}
	channels := []string{"email", "print", "kivra", "sms", "peppol", ""}
	states := []store.DocState{store.DocDelivered, store.DocDelivered, store.DocDelivered, store.DocQueued, store.DocRejected, store.DocDead, store.DocRetrying}
	kinds := []formats.Kind{formats.KindInvoice, formats.KindInvoice, formats.KindInvoice, formats.KindReminder, formats.KindCreditNote}
	start := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	const n = 3000
	id := func(i int) string { return fmt.Sprintf("F%07d-%07d", i/100+1, i%100) }
	err = st.Update(func(tx store.Tx) error {
		for i := range n {
			d := &store.Doc{ID: id(i), FileID: id(i)[:8], Tenant: tenants[rnd.IntN(len(tenants))], Kind: kinds[rnd.IntN(len(kinds))],
				State: states[rnd.IntN(len(states))], Channel: channels[rnd.IntN(len(channels))], Amount: 12500,
				DueDate: formats.Date{Year: 2026, Month: 6, Day: 30},
				Created: start.Add(time.Duration(rnd.Int64N(int64(14 * 30 * 24 * time.Hour))))}
			if err := tx.PutDoc(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Lives change, documents are resent, retention summarises and erases.
	at := start.AddDate(0, 3, 0)
	err = st.Update(func(tx store.Tx) error {
		for i := range n {
			d, err := tx.Doc(id(i))
			if err != nil {
				return err
			}
			switch rnd.IntN(10) {
			case 0:
				d.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: d.Amount}
			case 1:
				d.Collection = &store.Collection{Method: store.MethodTransfer, State: store.PaymentPartlyPaid, Paid: 100}
			case 2:
				d.Dunning = &store.Dunning{Reminders: []store.SentReminder{{Doc: id((i + 1) % n), Number: "R", At: at, Due: formats.Date{Year: 2026, Month: 7, Day: 15}, Source: "schedule"}}}
			case 3:
				d.Disputed = &store.Ack{At: at, By: "op", Why: "wrong"}
			case 4:
				d.CreditedBy = id((i + 2) % n)
			case 5:
				d.Dunning = &store.Dunning{Agency: at}
			case 6:
				d.Opened = at
			case 7:
				if d.State == store.DocDelivered {
					d.State, d.Channel = store.DocRetrying, "print"
				} else if d.State == store.DocRetrying {
					d.State = store.DocDelivered
				}
			case 8:
				if d.State.End() {
					d.Summarise(at)
				}
			case 9:
				if d.State.End() {
					d.Anonymise(at)
				}
			}
			if err := tx.PutDoc(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	prices := map[string]formats.Amount{"email": 10, "print": 850, "kivra": 150}
	paper := func(ch string) bool { return ch == "print" }
	for _, tenant := range append(tenants, "nobody") {
		got, gotLife, err := Overview(noScan{st, t}, tenant, prices, paper)
		if err != nil {
			t.Fatal(err)
		}
		want, wantLife, err := overviewByScan(st, tenant, prices, paper)
		if err != nil {
			t.Fatal(err)
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("%s: the overview from the counters\n%s\nfrom a scan\n%s", tenant, gotJSON, wantJSON)
		}
		if g, w := OverviewCSV(got), OverviewCSV(want); !bytes.Equal(g, w) {
			t.Errorf("%s: the CSV from the counters\n%s\nfrom a scan\n%s", tenant, g, w)
		}
		if !maps.Equal(gotLife, wantLife) {
			t.Errorf("%s: lives from the counters %v, from a scan %v", tenant, gotLife, wantLife)
		}
		if tenant != "nobody" && (len(want.Months) < 14 || len(wantLife) < 6) {
			t.Errorf("%s: the data set is not mixed enough: %d months, lives %v", tenant, len(want.Months), wantLife)
		}
	}
}
