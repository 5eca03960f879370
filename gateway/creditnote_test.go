package gateway

import (
	"os"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
)

// A credit note goes where the invoice it credits went, even when it would
// by itself take another channel: the buyer finds both in one place.
func TestCreditNoteFollowsInvoice(t *testing.T) {
	src, err := os.ReadFile("../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	var invoice, credit string
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "invoice;2025-1001;"):
			// Byggbolaget has an address and no e-mail: the invoice goes on paper.
			invoice += l + "\n"
		case strings.HasPrefix(l, "creditnote;2025-1007;"):
			// The credit note carries an e-mail address: by itself it
			// would go by e-mail, which is first in the priority.
			f := strings.Split(l, ";")
			f[19] = "ekonomi@byggbolaget.example"
			credit = strings.Join(f, ";") + "\n"
		}
	}
	d := startTestDaemon(t, func(c *config.Config) {
		c.Tenants[0].Priority = []string{"email", "print"}
	}, nil)
	drop(t, d, "inv.csv", []byte(lines[0]+"\n"+invoice))
	waitUntil(t, func() bool { r, err := receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
	drop(t, d, "credit.csv", []byte(lines[0]+"\n"+credit))
	var r *api.Receipt
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000002"); return err == nil && r.Final })
	doc := r.Documents[0]
	if doc.Channel != "print" || !strings.Contains(doc.Route[0].Reason, "credit note follows invoice 2025-1001") {
		t.Errorf("the credit note went by %s, not with its invoice on paper: %+v", doc.Channel, doc.Route)
	}
}
