package gateway

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// setColumn sets a column of every data row of a Multikanal CSV.
func setColumn(t testing.TB, csv []byte, column, value string) []byte {
	lines := strings.Split(string(csv), "\n")
	col := -1
	for i, h := range strings.Split(lines[0], ";") {
		if h == column {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no column %s", column)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		f := strings.Split(lines[i], ";")
		f[col] = value
		lines[i] = strings.Join(f, ";")
	}
	return []byte(strings.Join(lines, "\n"))
}

// smsDaemon runs a daemon with the public listener on and sends the
// invoices of body, one SMS each (the buyers have a mobile number and an
// address, so paper is the fallback).
func smsDaemon(t *testing.T, body []byte, mutate func(*config.Config)) *Daemon {
	t.Helper()
	body = setColumn(t, body, "buyer_street", "Storgatan 1")
	body = setColumn(t, body, "buyer_postal_code", "111 22")
	body = setColumn(t, body, "buyer_city", "Stockholm")
	d := startTestDaemon(t, func(c *config.Config) {
		c.Public.Listen = "127.0.0.1:0"
		if mutate != nil {
			mutate(c)
		}
	}, nil)
	drop(t, d, "sms.csv", body)
	return d
}

// sentSMS is what the SMS channel gave the gateway for one delivery: the
// whendelivered URL in the request it rendered, and the message id the
// transport answered (the spool's is its file).
func sentSMS(t *testing.T, d *Daemon, docID string) (hook, msgID string) {
	t.Helper()
	var dl *store.Delivery
	if err := d.store.View(func(tx store.Tx) (err error) {
		dl, err = tx.Delivery(store.DeliveryID(docID, "sms"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dl.Ref)
	if err != nil {
		t.Fatal(err)
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	hook = form.Get("whendelivered")
	if !strings.HasPrefix(hook, "http://"+d.info.Load().Public+"/hooks/sms?") {
		t.Fatalf("whendelivered %q is not on the public listener %s", hook, d.info.Load().Public)
	}
	return hook, dl.Ref
}

// report posts a delivery report as 46elks does and returns the status.
func report(t *testing.T, hook, id, status string) int {
	t.Helper()
	resp, err := http.PostForm(hook, url.Values{"id": {id}, "status": {status}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// An SMS the handset never got, reported to the URL the gateway gave the
// SMS gateway, sends the invoice on to its next channel: here paper.
func TestSMSDeliveryReportFallsBack(t *testing.T) {
	d := smsDaemon(t, exampleInvoices(t, "2025-1003"), nil)
	var r *api.Receipt
	var err error
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
	doc := r.Documents[0]
	if doc.State != api.DocDelivered || doc.Channel != "sms" {
		t.Fatalf("first delivery: %s on %s", doc.State, doc.Channel)
	}
	hook, id := sentSMS(t, d, doc.ID)
	if code := report(t, hook, id, "failed"); code != http.StatusOK {
		t.Fatalf("posting the report: %d", code)
	}
	waitUntil(t, func() bool {
		r, err = receipts.Build(d.store, "F0000001")
		return err == nil && r.Final && r.Documents[0].Channel == "print"
	})
	if doc := r.Documents[0]; doc.State != api.DocDelivered || !strings.Contains(doc.Reason, "print") {
		t.Errorf("after the failed report: %s on %s: %s", doc.State, doc.Channel, doc.Reason)
	}
}

// A report whose key the gateway did not give out is refused and changes
// nothing: the sequential delivery id alone (what moved a delivered
// invoice to dead before), a key signed for another delivery, a key
// signed for another kind of callback. A report through a valid URL that
// the delivery no longer awaits (replayed after the handset confirmed, or
// naming another message) changes nothing either. The operators'
// listener serves no callbacks at all.
func TestForgedSMSReportChangesNothing(t *testing.T) {
	one := exampleInvoices(t, "2025-1003")
	row := strings.SplitN(string(one), "\n", 2)[1]
	d := smsDaemon(t, append(one, strings.Replace(row, "2025-1003", "2025-1013", 1)...), func(c *config.Config) {
		c.HTTP.Listen = "127.0.0.1:0"
	})
	var r *api.Receipt
	var err error
	waitUntil(t, func() bool {
		r, err = receipts.Build(d.store, "F0000001")
		return err == nil && r.Final && len(r.Documents) == 2
	})
	victim, other := r.Documents[0].ID, r.Documents[1].ID
	key := store.DeliveryID(victim, "sms")
	events := func() int {
		detail, err := receipts.Detail(d.store, victim)
		if err != nil {
			t.Fatal(err)
		}
		return len(detail.Events)
	}
	before := events()
	base := "http://" + d.info.Load().Public + "/hooks/sms?"
	hook, id := sentSMS(t, d, victim)
	otherHook, _ := sentSMS(t, d, other)
	otherSig, _ := url.ParseQuery(otherHook[strings.Index(otherHook, "?")+1:])
	forged := map[string]string{
		"no key":                 base + url.Values{"key": {key}}.Encode(),
		"a guessed key":          base + url.Values{"key": {key}, "sig": {strings.Repeat("A", 43)}}.Encode(),
		"another delivery's key": base + url.Values{"key": {key}, "sig": {otherSig.Get("sig")}}.Encode(),
		"another kind's key":     base + url.Values{"key": {key}, "sig": {sigOf(t, d.httpapi.CallbackURL("kivra", key))}}.Encode(),
	}
	for name, u := range forged {
		if code := report(t, u, id, "failed"); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
	resp, err := http.PostForm("http://"+d.info.Load().HTTP+"/hooks/sms?key="+url.QueryEscape(key), url.Values{"id": {id}, "status": {"failed"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("the operators' listener took a delivery report")
	}

	// The genuine report, then the same URL replayed with "failed", and
	// one naming a message the delivery did not send.
	if code := report(t, hook, id, "delivered"); code != http.StatusOK {
		t.Fatalf("the genuine report: %d", code)
	}
	confirmed := events()
	if confirmed != before+1 {
		t.Errorf("the genuine report added %d events, want 1", confirmed-before)
	}
	if code := report(t, hook, id, "failed"); code != http.StatusOK {
		t.Errorf("the replayed report: %d, want 200 (the SMS gateway must stop posting it)", code)
	}
	otherURL, _ := sentSMS(t, d, other)
	if code := report(t, otherURL, "another-message", "failed"); code != http.StatusOK {
		t.Errorf("a report about another message: %d", code)
	}
	r, err = receipts.Build(d.store, "F0000001")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range r.Documents {
		if doc.State != api.DocDelivered || doc.Channel != "sms" {
			t.Errorf("%s moved: %s on %s (%s)", doc.ID, doc.State, doc.Channel, doc.Reason)
		}
	}
	if n := events(); n != confirmed {
		t.Errorf("the replayed report added %d events", n-confirmed)
	}
}

// With confirm_within, an SMS that no delivery report confirms in time
// counts as failed and the invoice falls back; a confirmed one stays.
func TestSMSConfirmWithin(t *testing.T) {
	one := exampleInvoices(t, "2025-1003")
	// The same consumer twice: 2025-1003 and a copy numbered 2025-1013.
	row := strings.SplitN(string(one), "\n", 2)[1]
	body := append(one, strings.Replace(row, "2025-1003", "2025-1013", 1)...)
	d := smsDaemon(t, body, func(c *config.Config) {
		c.ChannelConfig("sms").ConfirmWithin = config.Duration(400 * time.Millisecond)
	})
	var r *api.Receipt
	var err error
	waitUntil(t, func() bool {
		r, err = receipts.Build(d.store, "F0000001")
		return err == nil && len(r.Documents) == 2 && r.Documents[0].State == api.DocDelivered
	})
	// The handset confirms the first message only.
	hook, id := sentSMS(t, d, r.Documents[0].ID)
	if code := report(t, hook, id, "delivered"); code != http.StatusOK {
		t.Fatalf("report: %d", code)
	}
	waitUntil(t, func() bool {
		r, err = receipts.Build(d.store, "F0000001")
		return err == nil && r.Final && r.Documents[1].Channel == "print"
	})
	if r.Documents[0].Channel != "sms" {
		t.Errorf("the confirmed SMS moved to %s", r.Documents[0].Channel)
	}
	if doc := r.Documents[1]; !strings.Contains(doc.Reason, "no delivery report confirmed it") {
		t.Errorf("unconfirmed: %s", doc.Reason)
	}
}

// sigOf is the signature a callback URL carries.
func sigOf(t *testing.T, callback string) string {
	t.Helper()
	u, err := url.Parse(callback)
	if err != nil || u.Query().Get("sig") == "" {
		t.Fatalf("callback URL %q: %v", callback, err)
	}
	return u.Query().Get("sig")
}
