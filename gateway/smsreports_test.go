package gateway

import (
	"time"

	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/config"

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

// An SMS the handset never got, reported by the SMS gateway's webhook,
// sends the invoice on to its next channel: here paper.
func TestSMSDeliveryReportFallsBack(t *testing.T) {
	body := setColumn(t, exampleInvoices(t, "2025-1003"), "buyer_street", "Storgatan 1")
	body = setColumn(t, body, "buyer_postal_code", "111 22")
	body = setColumn(t, body, "buyer_city", "Stockholm")
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "sms.csv", body)
	var r *Receipt
	var err error
	waitUntil(t, func() bool { r, err = d.buildReceipt("F0000001"); return err == nil && r.Final })
	doc := r.Documents[0]
	if doc.State != store.DocDelivered || doc.Channel != "sms" {
		t.Fatalf("first delivery: %s on %s", doc.State, doc.Channel)
	}
	srv := httptest.NewServer(d.httpHandler())
	defer srv.Close()
	key := store.DeliveryID(doc.ID, "sms")
	resp, err := http.PostForm(srv.URL+"/hooks/sms?key="+url.QueryEscape(key), url.Values{"id": {"s1"}, "status": {"failed"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("posting the report: %v %v", err, resp.Status)
	}
	waitUntil(t, func() bool {
		r, err = d.buildReceipt("F0000001")
		return err == nil && r.Final && r.Documents[0].Channel == "print"
	})
	if doc := r.Documents[0]; doc.State != store.DocDelivered || !strings.Contains(doc.Reason, "print") {
		t.Errorf("after the failed report: %s on %s: %s", doc.State, doc.Channel, doc.Reason)
	}
	// A report for a delivery that does not exist is refused, so the SMS
	// gateway sees the error.
	resp, _ = http.PostForm(srv.URL+"/hooks/sms?key=nope", url.Values{"id": {"s2"}, "status": {"failed"}})
	if resp.StatusCode == http.StatusOK {
		t.Error("a report for an unknown delivery was accepted")
	}
}

// With confirm_within, an SMS that no delivery report confirms in time
// counts as failed and the invoice falls back; a confirmed one stays.
func TestSMSConfirmWithin(t *testing.T) {
	one := exampleInvoices(t, "2025-1003")
	// The same consumer twice: 2025-1003 and a copy numbered 2025-1013.
	row := strings.SplitN(string(one), "\n", 2)[1]
	body := append(one, strings.Replace(row, "2025-1003", "2025-1013", 1)...)
	body = setColumn(t, body, "buyer_street", "Storgatan 1")
	body = setColumn(t, body, "buyer_postal_code", "111 22")
	body = setColumn(t, body, "buyer_city", "Stockholm")
	d := startTestDaemon(t, func(c *config.Config) {
		c.Channels.SMS.ConfirmWithin = config.Duration(400 * time.Millisecond)
	}, nil)
	drop(t, d, "sms.csv", body)
	var r *Receipt
	var err error
	waitUntil(t, func() bool {
		r, err = d.buildReceipt("F0000001")
		return err == nil && len(r.Documents) == 2 && r.Documents[0].State == store.DocDelivered
	})
	// The handset confirms the first message only.
	srv := httptest.NewServer(d.httpHandler())
	defer srv.Close()
	key := store.DeliveryID(r.Documents[0].ID, "sms")
	if resp, err := http.PostForm(srv.URL+"/hooks/sms?key="+url.QueryEscape(key), url.Values{"id": {"s1"}, "status": {"delivered"}}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("report: %v", err)
	}
	waitUntil(t, func() bool {
		r, err = d.buildReceipt("F0000001")
		return err == nil && r.Final && r.Documents[1].Channel == "print"
	})
	if r.Documents[0].Channel != "sms" {
		t.Errorf("the confirmed SMS moved to %s", r.Documents[0].Channel)
	}
	if doc := r.Documents[1]; !strings.Contains(doc.Reason, "no delivery report confirmed it") {
		t.Errorf("unconfirmed: %s", doc.Reason)
	}
}
