package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/gateway/store"
)

// scrape fetches the handler's text exposition and returns every sample as
// `name{label="value",...}` (labels in the order the exposition writes them,
// which is sorted by name) mapped to its value, plus the raw text.
func scrape(t *testing.T, h http.Handler) (map[string]float64, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s\n%s", resp.Status, body)
	}
	samples := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples, string(body)
}

// TestMetricsSourcesFromStore checks the daemon's sources against a real
// store after one invoice went through.
func TestMetricsSourcesFromStore(t *testing.T) {
	d, _ := runDaemon(t, map[string]*fakeTransport{"peppol": {}}, "base-example.xml")
	finalDoc(t, d)
	counts, err := d.documentCounts()
	if err != nil {
		t.Fatal(err)
	}
	if n := counts["delivered"]["peppol"]; n != 1 {
		t.Errorf("delivered on peppol = %d, want 1 (counts %v)", n, counts)
	}
	waitUntil(t, func() bool {
		q, err := d.queueSamples()
		return err == nil && q["peppol"].Depth[store.DeliveryQueued] == 0 && q["peppol"].Oldest.IsZero()
	})
	q, _ := d.queueSamples()
	for name := range d.lanes {
		if _, ok := q[name]; !ok {
			t.Errorf("idle channel %s has no queue sample", name)
		}
	}
}
