package sms

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Delivery report statuses, as 46elks posts them on every change: "sent"
// when the operator took the message (not an end state), then "delivered"
// or "failed".
const (
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
	StatusSent      = "sent"
)

// Report is a delivery report: what became of one sent SMS.
type Report struct {
	ID        string    // the gateway's message id: Sent.Ref of the delivery
	Key       string    // the delivery key Render put in the webhook URL; "" without it
	Status    string    // StatusDelivered, StatusFailed or StatusSent
	Delivered time.Time // when the phone got it (UTC); zero unless reported
}

// maxReport bounds a report's body: a real one is a few hundred bytes.
const maxReport = 64 << 10

// ParseReport reads a delivery report as the gateway posts it to the
// whendelivered URL: form fields id, status and delivered (a timestamp, UTC
// when it carries no zone), and the key Render added to the URL.
func ParseReport(r *http.Request) (Report, error) {
	if r.Method != http.MethodPost {
		return Report{}, fmt.Errorf("sms report: method %s, the gateway posts reports", r.Method)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxReport)
	if err := r.ParseForm(); err != nil {
		return Report{}, fmt.Errorf("sms report: %w", err)
	}
	rep := Report{
		ID:     strings.TrimSpace(r.PostForm.Get("id")),
		Key:    r.URL.Query().Get("key"),
		Status: strings.ToLower(strings.TrimSpace(r.PostForm.Get("status"))),
	}
	if rep.ID == "" {
		return Report{}, errors.New("sms report: no id")
	}
	switch rep.Status {
	case StatusDelivered, StatusFailed, StatusSent:
	default:
		return Report{}, fmt.Errorf("sms report %s: status %q is none of delivered, failed, sent", rep.ID, rep.Status)
	}
	if v := strings.TrimSpace(r.PostForm.Get("delivered")); v != "" {
		t, err := parseTimestamp(v)
		if err != nil {
			return Report{}, fmt.Errorf("sms report %s: %w", rep.ID, err)
		}
		rep.Delivered = t
	}
	return rep, nil
}

// parseTimestamp reads 46elks' "2018-07-26T10:10:10.123000" (UTC, no zone)
// and RFC 3339.
func parseTimestamp(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("delivered %q is not a timestamp like 2018-07-26T10:10:10.123000", v)
}

// ReportHandler serves the whendelivered webhook: it parses each report and
// hands it to apply. It answers 200 when apply succeeded, 400 for a report
// it cannot read (sending it again will not help) and 500 when apply failed,
// so the gateway posts the report again later (46elks keeps trying for
// hours on anything outside 200-204).
func ReportHandler(apply func(Report) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "delivery reports are posted", http.StatusMethodNotAllowed)
			return
		}
		rep, err := ParseReport(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := apply(rep); err != nil {
			http.Error(w, "report not recorded, post it again later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
