package receipts

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// keys are the JSON keys of v, recursively as "a.b", with their values
// for the leaves.
func keys(t *testing.T, v any) map[string]string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(prefix+k+".", e)
			}
		case []any:
			for _, e := range x {
				walk(prefix, e)
			}
		default:
			b, _ := json.Marshal(x)
			out[prefix[:len(prefix)-1]] = string(b)
		}
	}
	walk("", m)
	return out
}

// The API's documents, files and deliveries say what the store's records
// said before the two were apart: every key and value, in the same JSON,
// plus a document's payment and life state and less a file's server path.
func TestWireMatchesRecords(t *testing.T) {
	now := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	doc := &store.Doc{ID: "F1-1", FileID: "F1", Tenant: "acme", Index: 1, Source: "entry a.xml", Kind: formats.KindInvoice, Number: "7",
		Buyer: "B", Currency: "SEK", Amount: 100, DueDate: formats.DateOf(now), State: store.DocDead, Channel: "email", Address: "a@b",
		Reason: "why", Problems: []formats.Problem{{Rule: "R", Severity: formats.SeverityError, Message: "m"}},
		Route: []store.RouteStep{{Channel: "email", Eligible: true, Address: "a@b", Reason: "r"}}, Tried: 1, Output: "out.eml",
		Collection: &store.Collection{Method: "autogiro", Payer: "101", State: store.PaymentPartlyPaid, AtBank: true, File: "f",
			Date: formats.DateOf(now), Paid: 50, Payments: []store.Received{{Key: "k", Amount: 50, Date: formats.DateOf(now), Source: "s"}},
			Reason: "r", At: now},
		Ack: &store.Ack{At: now, By: "ops", Why: "w"}, Created: now, Updated: now, Events: 3, Resends: 1, SentSHA256: "abc",
		Keys: []string{"k1"}, Summarised: now, Anonymised: now}
	want := keys(t, doc)
	for k, v := range keys(t, doc.Payment()) {
		want["payment."+k] = v
	}
	want["life"] = `"dead"` // the life after delivery (issue 22); a dead invoice's is its state
	if got := keys(t, DocOf(doc)); !maps.Equal(got, want) {
		t.Errorf("document:\n got %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}

	f := &store.File{ID: "F1", Tenant: "acme", Name: "a.csv", InboxPath: "/srv/inbox/a.csv", SHA256: "x", Size: 9, ReceivedAt: now,
		State: store.FileParsed, Reason: "r", Format: "csv", Docs: 2, DuplicateOf: "F0", Final: true, FinalAt: now, Receipt: "a.csv.receipt.json",
		Refused: true, InputRemoved: now, PayloadsRemoved: now, ReceiptRemoved: now, ArchiveEnded: now}
	want = keys(t, f)
	delete(want, "inbox_path")
	if got := keys(t, fileOf(f)); !maps.Equal(got, want) {
		t.Errorf("file:\n got %v\nwant %v", got, want)
	}

	dl := &store.Delivery{ID: "F1-1.email", DocID: "F1-1", Tenant: "acme", Channel: "email", To: "a@b", Collection: true,
		State: store.DeliveryRetrying, Batched: true, BatchID: "b", Attempts: 2, NextAt: now, ConfirmBy: now, Confirmed: true,
		LastError: "e", Ref: "ref", Created: now, Updated: now}
	if got, want := keys(t, deliveryOf(dl)), keys(t, dl); !maps.Equal(got, want) {
		t.Errorf("delivery:\n got %v\nwant %v", got, want)
	}
}
