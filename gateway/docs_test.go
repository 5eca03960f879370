package gateway

import (
	"slices"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/receipts"
)

// `multikanal docs list` shows a file's documents in file order, stopping
// at the limit, and without a file the newest documents first.
func TestListDocs(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "five.csv", exampleBatch(t, "2025-1001", 5))
	waitFinalReceipt(t, d, "F0000001", 20*time.Second)
	drop(t, d, "two.csv", exampleInvoices(t, "2025-1003", "2025-1005"))
	waitFinalReceipt(t, d, "F0000002", 20*time.Second)

	numbers := func(f receipts.DocFilter) []string {
		t.Helper()
		docs, err := receipts.Docs(d.store, f)
		if err != nil {
			t.Fatalf("ListDocs(%+v): %v", f, err)
		}
		var out []string
		for _, doc := range docs {
			out = append(out, doc.FileID+"/"+doc.Number)
		}
		return out
	}
	for _, c := range []struct {
		filter receipts.DocFilter
		want   []string
	}{
		{receipts.DocFilter{File: "F0000001", Limit: 3}, []string{"F0000001/2025-8000", "F0000001/2025-8001", "F0000001/2025-8002"}},
		{receipts.DocFilter{File: "F0000001", State: "delivered", Channel: "peppol", Tenant: "demo"},
			[]string{"F0000001/2025-8000", "F0000001/2025-8001", "F0000001/2025-8002", "F0000001/2025-8003", "F0000001/2025-8004"}},
		{receipts.DocFilter{File: "F0000001", Channel: "sms"}, nil},
		{receipts.DocFilter{File: "F0000009"}, nil},
		{receipts.DocFilter{Limit: 3}, []string{"F0000002/2025-1005", "F0000002/2025-1003", "F0000001/2025-8004"}},
		{receipts.DocFilter{Channel: "peppol", Limit: 2}, []string{"F0000001/2025-8004", "F0000001/2025-8003"}},
	} {
		if got := numbers(c.filter); !slices.Equal(got, c.want) {
			t.Errorf("ListDocs(%+v) = %q, want %q", c.filter, got, c.want)
		}
	}
}
