package gateway

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// TestRoutingTable runs one invoice through priority lists × what the
// recipient can be reached by × which channels fail, and checks where it
// ends and that the reason explains it: fallback, forced channel,
// do-not-send and AutoGiro mandate cancellation.
func TestRoutingTable(t *testing.T) {
	src, err := os.ReadFile("../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	var row string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "invoice;2025-1001;") { // Peppol participant with an address
			row += l + "\n"
		}
	}
	perm := outbound.Permanentf("refused")
	cases := []struct {
		name     string
		priority []string
		columns  map[string]string // CSV columns set on the invoice
		failing  []string          // channels whose transport always refuses
		mandate  string            // "active" or "cancelled" AutoGiro mandate for payer 777
		noSend   bool              // the buyer's customer number is on do_not_send
		state    store.DocState
		channel  string
		reason   string             // in the document's reason or its route
		collect  store.PaymentState // payment state, when a payer number is set
	}{
		{name: "first eligible wins", priority: []string{"peppol", "email", "print"}, columns: map[string]string{"buyer_email": "a@b.se"},
			state: store.DocDelivered, channel: "peppol", reason: "buyer endpoint 0007:5567432108"},
		{name: "not in the priority list, not used", priority: []string{"email", "print"},
			state: store.DocDelivered, channel: "print", reason: "email: skipped, no e-mail address"},
		{name: "permanent failure falls back", priority: []string{"peppol", "email", "print"}, columns: map[string]string{"buyer_email": "a@b.se"},
			failing: []string{"peppol"}, state: store.DocDelivered, channel: "email", reason: "peppol failed"},
		{name: "falls back twice", priority: []string{"peppol", "email", "print"}, columns: map[string]string{"buyer_email": "a@b.se"},
			failing: []string{"peppol", "email"}, state: store.DocDelivered, channel: "print", reason: "email failed"},
		{name: "no channel left", priority: []string{"peppol", "print"}, failing: []string{"peppol", "print"},
			state: store.DocDead, reason: "no channel left"},
		{name: "nothing reaches the buyer", priority: []string{"email", "sms"},
			state: store.DocDead, reason: "no channel can reach the recipient"},
		{name: "forced channel", priority: []string{"peppol", "email", "print"}, columns: map[string]string{"channel": "sms", "buyer_mobile": "070-123 45 67"},
			state: store.DocDelivered, channel: "sms", reason: "forced by the input"},
		{name: "forced channel that cannot reach: no fallback", priority: []string{"peppol", "print"}, columns: map[string]string{"channel": "email"},
			state: store.DocDead, reason: "forced by the input; no e-mail address"},
		{name: "do not send", priority: []string{"peppol"}, noSend: true,
			state: store.DocHeld, reason: "do-not-send list"},
		{name: "active mandate: collected beside distribution", priority: []string{"peppol"}, columns: map[string]string{"autogiro_payer_number": "777"},
			mandate: "active", state: store.DocDelivered, channel: "peppol", collect: store.PaymentScheduled},
		{name: "cancelled mandate: not collected, and why", priority: []string{"peppol"}, columns: map[string]string{"autogiro_payer_number": "777"},
			mandate: "cancelled", state: store.DocDelivered, channel: "peppol", collect: store.PaymentOpen, reason: "the mandate was cancelled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fakes := map[string]*fakeTransport{}
			for _, ch := range c.failing {
				fakes[ch] = &fakeTransport{always: perm}
			}
			d := startTestDaemon(t, func(cfg *config.Config) {
				cfg.Tenants[0].Priority = c.priority
				if c.noSend {
					cfg.Tenants[0].DoNotSend = []string{"10017"}
				}
			}, fakes)
			if c.mandate != "" {
				now := time.Now().UTC()
				reg := &store.Registration{Tenant: "demo", Keys: []store.RecipientKey{{Type: store.KeyCustomer, Value: "777"}},
					Channel: "autogiro", Address: "777", Source: "test mandate", ValidFrom: now.Add(-time.Hour), Created: now}
				if c.mandate == "cancelled" {
					reg.RevokedAt, reg.RevokedBy = now.Add(-time.Minute), "test advice"
				}
				if err := d.store.Update(func(tx store.Tx) error { return tx.PutRegistration(reg) }); err != nil {
					t.Fatal(err)
				}
			}
			body := []byte(lines[0] + "\n" + row)
			for col, v := range c.columns {
				body = setColumn(t, body, col, v)
			}
			drop(t, d, "one.csv", body)
			var r *api.Receipt
			waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
			doc := r.Documents[0]
			steps := routeLine(doc.Route)
			reason := c.reason
			if c.collect != "" {
				reason = "" // checked on the collection below
			}
			if doc.State != api.DocState(c.state) || doc.Channel != c.channel || !strings.Contains(doc.Reason+" | "+steps, reason) {
				t.Errorf("%s on %q, want %s on %q with %q\nreason: %s\nroute: %s", doc.State, doc.Channel, c.state, c.channel, reason, doc.Reason, steps)
			}
			if c.collect != "" {
				if doc.Collection == nil || doc.Collection.State != api.PaymentState(c.collect) || !strings.Contains(doc.Collection.Reason+" "+doc.Reason, c.reason) {
					t.Errorf("collection %+v, want %s", doc.Collection, c.collect)
				}
			}
		})
	}
}

// routeLine is a route in one line, as route.Summary writes it.
func routeLine(steps []api.RouteStep) string {
	rs := make([]store.RouteStep, len(steps))
	for i, s := range steps {
		rs[i] = store.RouteStep{Channel: s.Channel, Eligible: s.Eligible, Address: s.Address, Reason: s.Reason}
	}
	return route.Summary(rs)
}
