package metrics

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/metrics/metricstest"
	"github.com/multikanal/multikanal/gateway/store"
)

func TestMetricsEvents(t *testing.T) {
	m := New("v1.2.3")
	m.FileReceived("acme")
	m.FileReceived("acme")
	m.FileRejected("acme", RejectUnknownFormat)
	m.FileRejected("acme", "looks like PDF") // free text must not become a label
	m.DocumentState("", store.DocRejected)
	m.DocumentState("peppol", store.DocQueued)
	m.DocumentState("peppol", store.DocDelivered)
	m.DeliveryAttempt("peppol")
	m.DeliveryAttempt("peppol")
	m.DeliveryError("peppol", "temporary")
	m.EndToEnd("peppol", 700*time.Millisecond)
	m.SFTPSession(+1)
	m.SFTPSession(+1)
	m.SFTPSession(-1)
	for range 3 {
		m.AuthFailure()
	}
	m.Ban()

	got, text := metricstest.Scrape(t, m.Handler())
	want := map[string]float64{
		`multikanal_files_received_total{tenant="acme"}`:                                2,
		`multikanal_files_rejected_total{reason="unknown_format",tenant="acme"}`:        1,
		`multikanal_files_rejected_total{reason="other",tenant="acme"}`:                 1,
		`multikanal_document_transitions_total{channel="none",state="rejected"}`:        1,
		`multikanal_document_transitions_total{channel="peppol",state="queued"}`:        1,
		`multikanal_document_transitions_total{channel="peppol",state="delivered"}`:     1,
		`multikanal_delivery_attempts_total{channel="peppol"}`:                          2,
		`multikanal_delivery_errors_total{channel="peppol",class="temporary"}`:          1,
		`multikanal_end_to_end_seconds_bucket{channel="peppol",le="0.5"}`:               0,
		`multikanal_end_to_end_seconds_bucket{channel="peppol",le="1"}`:                 1,
		`multikanal_end_to_end_seconds_bucket{channel="peppol",le="+Inf"}`:              1,
		`multikanal_end_to_end_seconds_count{channel="peppol"}`:                         1,
		`multikanal_end_to_end_seconds_sum{channel="peppol"}`:                           0.7,
		`multikanal_sftp_sessions_open`:                                                 1,
		`multikanal_sftp_sessions_total`:                                                2,
		`multikanal_sftp_auth_failures_total`:                                           3,
		`multikanal_sftp_bans_total`:                                                    1,
		`multikanal_build_info{goversion="` + runtime.Version() + `",version="v1.2.3"}`: 1,
	}
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
	for _, typ := range []string{
		"multikanal_end_to_end_seconds histogram",
		"multikanal_sftp_sessions_open gauge",
		"multikanal_files_received_total counter",
	} {
		if !strings.Contains(text, "# TYPE "+typ+"\n") {
			t.Errorf("no # TYPE %s", typ)
		}
	}
	if _, ok := got["process_resident_memory_bytes"]; !ok {
		t.Error("process metrics missing")
	}
	// Before setSources the store gauges are absent rather than zero: a
	// zero would claim an empty queue nobody measured.
	if strings.Contains(text, "multikanal_documents{") {
		t.Error("document gauges present before setSources")
	}
}

func TestMetricsSources(t *testing.T) {
	oldest := time.Now().Add(-time.Minute)
	cases := []struct {
		name      string
		countsErr error
		want      map[string]float64
		absent    []string
	}{
		{
			name: "all sources",
			want: map[string]float64{
				`multikanal_documents{channel="peppol",state="delivered"}`: 5,
				`multikanal_documents{channel="none",state="rejected"}`:    2,
				`multikanal_queue_depth{channel="print",state="batched"}`:  3,
				`multikanal_queue_depth{channel="print",state="retrying"}`: 1,
				`multikanal_queue_oldest_age_seconds{channel="email"}`:     0,
				`multikanal_store_size_bytes`:                              4096,
			},
		},
		{
			name:      "a failing source leaves only its gauges out",
			countsErr: errors.New("store closed"),
			want: map[string]float64{
				`multikanal_queue_depth{channel="print",state="batched"}`: 3,
				`multikanal_store_size_bytes`:                             4096,
			},
			absent: []string{`multikanal_documents{channel="peppol",state="delivered"}`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := New("dev")
			m.SetSources(
				func() (map[string]map[string]int64, error) {
					if c.countsErr != nil {
						return nil, c.countsErr
					}
					return map[string]map[string]int64{"delivered": {"peppol": 5}, "rejected": {"": 2}}, nil
				},
				func() (map[string]QueueSample, error) {
					return map[string]QueueSample{
						"print": {Depth: map[store.DeliveryState]int{store.DeliveryBatched: 3, store.DeliveryRetrying: 1}, Oldest: oldest},
						"email": {Depth: map[store.DeliveryState]int{store.DeliveryQueued: 0}},
					}, nil
				},
				func() int64 { return 4096 },
			)
			got, _ := metricstest.Scrape(t, m.Handler())
			for series, v := range c.want {
				if g, ok := got[series]; !ok || g != v {
					t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
				}
			}
			for _, series := range c.absent {
				if _, ok := got[series]; ok {
					t.Errorf("%s present, want absent", series)
				}
			}
			if age := got[`multikanal_queue_oldest_age_seconds{channel="print"}`]; age < 60 || age > 120 {
				t.Errorf("oldest age %v s, want about 60", age)
			}
		})
	}
}
