package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/registry"
)

// A consumer registered for e-faktura gets the invoice in a Svefaktura batch
// file; the bank's report rejecting it fails the delivery after the fact
// and the invoice falls back to its next channel (paper here).
func TestEfakturaBatchAndBankReport(t *testing.T) {
	b := setColumn(t, exampleInvoices(t, "2025-1004"), "buyer_street", "Storgatan 1") // personnummer only
	b = setColumn(t, b, "buyer_postal_code", "111 22")
	b = setColumn(t, b, "buyer_city", "Stockholm")
	d := startTestDaemon(t, nil, nil)
	rows, err := recipients.Parse(strings.NewReader("key;channel\npnr:198112189876;efaktura\n"), nowForTest(), registry.RecipientChannels(d.live.Load()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.registry.Import("demo", "test", rows); err != nil {
		t.Fatal(err)
	}
	drop(t, d, "ef.csv", b)
	var r *api.Receipt
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
	doc := r.Documents[0]
	if doc.State != api.DocDelivered || doc.Channel != "efaktura" {
		t.Fatalf("first: %s on %s: %s", doc.State, doc.Channel, doc.Reason)
	}
	files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "efaktura", "*.xml"))
	if len(files) != 1 {
		t.Fatalf("efaktura outbox: %v", files)
	}
	svefaktura, _ := os.ReadFile(files[0])
	if !strings.Contains(string(svefaktura), "urn:sfti:documents:BasicInvoice:1:0") || !strings.Contains(string(svefaktura), "2025-1004") {
		t.Errorf("the batch file is not a Svefaktura batch with the invoice")
	}
	batchID := strings.TrimSuffix(filepath.Base(files[0]), ".xml")
	report := fmt.Sprintf(`<InvoiceBatchReport xmlns="urn:multikanal:efaktura:report:1"><BatchID>%s</BatchID>`+
		`<Invoice status="rejected"><ID>2025-1004</ID><Reason code="E-REG">the payer has cancelled the registration</Reason></Invoice></InvoiceBatchReport>`, batchID)
	drop(t, d, "report.xml", []byte(report))
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000002"); return err == nil && r.Final })
	if r.State != api.FileApplied || !strings.Contains(r.Reason, "1 rejected") {
		t.Fatalf("report: %s: %s", r.State, r.Reason)
	}
	waitUntil(t, func() bool {
		r, err = receipts.Build(d.store, "F0000001")
		return err == nil && r.Final && r.Documents[0].Channel == "print"
	})
	if doc := r.Documents[0]; doc.State != api.DocDelivered || !strings.Contains(doc.Reason, "print") {
		t.Errorf("after the rejection: %s on %s: %s", doc.State, doc.Channel, doc.Reason)
	}
	// A report for a batch this gateway never sent is refused whole.
	drop(t, d, "stray.xml", []byte(strings.Replace(report, batchID, "nope", 1)))
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000003"); return err == nil && r.Final })
	if r.State != api.FileRejected || !strings.Contains(r.Reason, "not one this gateway sent") {
		t.Errorf("stray report: %s: %s", r.State, r.Reason)
	}
}
