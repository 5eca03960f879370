package gateway

import (
	"testing"

	"github.com/multikanal/multikanal/gateway/store"
)

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
