package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// TestDocsShowPayment prints every invoice's payment state in docs show:
// its collection, or open for an invoice nobody reported paid yet.
func TestDocsShowPayment(t *testing.T) {
	tests := []struct {
		name string
		doc  store.Doc
		want string
	}{
		{"partly paid by transfer", store.Doc{Kind: formats.KindInvoice, Amount: formats.MustAmount("1353.79"), State: store.DocDelivered,
			Collection: &store.Collection{Method: store.MethodTransfer, State: store.PaymentPartlyPaid, Paid: formats.MustAmount("1000"), Reason: "1000.00 of 1353.79 paid"}},
			"payment   partly paid (transfer, paid 1000.00): 1000.00 of 1353.79 paid\n"},
		{"AutoGiro withdrawal at the bank", store.Doc{Kind: formats.KindInvoice, Amount: 100, State: store.DocDelivered,
			Collection: &store.Collection{Method: "autogiro", Payer: "101", State: store.PaymentScheduled, AtBank: true, Reason: "collected by AutoGiro in file F"}},
			"payment   scheduled (autogiro payer 101): collected by AutoGiro in file F\n"},
		{"invoice nobody paid yet", store.Doc{Kind: formats.KindInvoice, Amount: 100, State: store.DocDelivered},
			"payment   open (transfer)\n"},
		{"credit note", store.Doc{Kind: formats.KindCreditNote, Amount: 100, State: store.DocDelivered}, ""},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		// As the daemon answers GET /api/v1/docs/{id}.
		printDocDetail(&out, &api.DocDetail{Doc: receipts.DocOf(&tt.doc), File: &api.File{}})
		line := ""
		for _, l := range strings.SplitAfter(out.String(), "\n") {
			if strings.HasPrefix(l, "payment ") {
				line = l
			}
		}
		if line != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, line, tt.want)
		}
	}
}
