package gateway

import (
	"net/http"
	"testing"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// A confirmation is one more event in the document's history, and the
// document counts it: the next event is appended after it, not over it.
// (Applying an SMS report wrote the event but not the document, so its
// count stayed behind and the next event took the confirmation's place.)
func TestReportEventIsCounted(t *testing.T) {
	d := smsDaemon(t, exampleInvoices(t, "2025-1003"), nil)
	var r *api.Receipt
	var err error
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
	id := r.Documents[0].ID
	hook, msg := sentSMS(t, d, id)
	if code := report(t, hook, msg, "delivered"); code != http.StatusOK {
		t.Fatalf("posting the report: %d", code)
	}
	var doc *store.Doc
	var events []store.Event
	if err := d.store.View(func(tx store.Tx) (err error) {
		if doc, err = tx.Doc(id); err != nil {
			return err
		}
		events, err = tx.Events(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if doc.Events != len(events) || events[len(events)-1].Reason[:len("the handset confirmed")] != "the handset confirmed" {
		t.Errorf("the document counts %d events, the history holds %d, the last %q", doc.Events, len(events), events[len(events)-1].Reason)
	}
}
