package registry

import (
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// fakeTx holds registrations by key and counts the reads.
type fakeTx struct {
	regs  map[store.RecipientKey][]*store.Registration
	reads int
}

func (f *fakeTx) PutRegistration(*store.Registration) error { return nil }
func (f *fakeTx) ForEachRegistration(string, func(*store.Registration) error) error {
	return nil
}
func (f *fakeTx) Registrations(_ string, k store.RecipientKey) ([]*store.Registration, error) {
	f.reads++
	return f.regs[k], nil
}

// A memoised lookup finds for every channel what a plain one finds, reading
// each of the document's keys once however many channels ask; a second
// document is read afresh.
func TestMemoReadsEachKeyOnce(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	pnr := store.RecipientKey{Type: store.KeyPNR, Value: "198112289874"}
	mobile := store.RecipientKey{Type: store.KeyMobile, Value: "+46701234567"}
	tx := &fakeTx{regs: map[store.RecipientKey][]*store.Registration{
		pnr: {
			{Channel: "kivra", Source: "old", ValidFrom: now.AddDate(-2, 0, 0), Keys: []store.RecipientKey{pnr}},
			{Channel: "kivra", Source: "new", ValidFrom: now.AddDate(-1, 0, 0), Keys: []store.RecipientKey{pnr}},
			{Channel: "efaktura", Source: "bank", Address: "bank-1", ValidFrom: now.AddDate(0, -1, 0), Keys: []store.RecipientKey{pnr}},
		},
		mobile: {{Channel: "sms", Source: "crm", ValidFrom: now.AddDate(0, 0, -3), Keys: []store.RecipientKey{mobile}}},
	}}
	doc := &formats.Document{Buyer: formats.Party{PersonalID: "19811228-9874", Contact: formats.Contact{Phone: "070-123 45 67"}}}
	keys := len(Keys(doc, now))
	if keys < 2 {
		t.Fatalf("the document has %d recipient keys; the test needs two", keys)
	}
	address := func(channel string) string {
		if channel == "sms" {
			return store.KeyMobile
		}
		return ""
	}
	channels := []string{"peppol", "efaktura", "kivra", "email", "sms", "print"}
	plain := NewLookup(tx, "acme", now, address)
	type found struct {
		addr, src string
		ok        bool
	}
	want := map[string]found{}
	for _, ch := range channels {
		a, s, ok := plain.Lookup(doc, ch)
		want[ch] = found{a, s, ok}
	}
	if tx.reads != keys*len(channels) {
		t.Fatalf("a plain lookup read %d times, want %d", tx.reads, keys*len(channels))
	}
	if w := want["kivra"]; !w.ok || w.src[:3] != "new" {
		t.Fatalf("kivra: %+v, want the newer registration", w)
	}
	tx.reads = 0
	memo := plain.Memo()
	for _, ch := range channels {
		a, s, ok := memo.Lookup(doc, ch)
		if got := (found{a, s, ok}); got != want[ch] {
			t.Errorf("%s: memoised %+v, plain %+v", ch, got, want[ch])
		}
	}
	if tx.reads != keys {
		t.Errorf("a memoised lookup read %d times for %d channels, want once per key (%d)", tx.reads, len(channels), keys)
	}
	other := &formats.Document{Buyer: formats.Party{PersonalID: "19811228-9874"}}
	if _, _, ok := memo.Lookup(other, "sms"); ok {
		t.Error("a second document got the first one's registrations")
	}
}
