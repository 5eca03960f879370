package receipts

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// receiptDoc is the i-th document of a delivered CSV file as the store
// holds it: routed, delivered, a third with a payment collected by
// AutoGiro, every tenth with a warning.
func receiptDoc(fileID string, i int, at time.Time) *store.Doc {
	channels := []string{"email", "print", "kivra", "sms", "peppol"}
	ch := channels[i%len(channels)]
	d := &store.Doc{ID: fmt.Sprintf("%s-%07d", fileID, i), FileID: fileID, Tenant: "demo", Index: i,
		Source: fmt.Sprintf("row %d", i+2), Kind: formats.KindInvoice, Number: fmt.Sprintf("2026-%06d", i),
		Buyer: "Åsa Öberg & Söner <AB>", Currency: "SEK", Amount: formats.Amount(125000 + i),
		DueDate: formats.Date{Year: 2026, Month: 6, Day: 30}, State: store.DocDelivered, Channel: ch,
		Address: fmt.Sprintf("kund%d@example.se", i), Output: fmt.Sprintf("/var/lib/multikanal/outbox/%s/%s.%s", ch, fileID, ch),
		Route: []store.RouteStep{
			{Channel: "peppol", Reason: "buyer has no Peppol participant id"},
			{Channel: ch, Eligible: true, Address: fmt.Sprintf("kund%d@example.se", i), Reason: "e-mail address in the invoice"},
		},
		Tried: 2, Created: at, Updated: at.Add(3 * time.Second), Events: 4}
	if i%3 == 0 {
		d.Collection = &store.Collection{Method: "autogiro", Payer: fmt.Sprint(1000 + i), State: store.PaymentScheduled, AtBank: true,
			File: "/var/lib/multikanal/outbox/autogiro/BFEP.IAGAG.K0123456.D260601", Date: formats.Date{Year: 2026, Month: 6, Day: 30}, At: at}
	}
	if i%10 == 0 {
		d.Problems = []formats.Problem{{Rule: "BR-SE-10", Severity: formats.SeverityWarning, Message: "the seller's \"F-skatt\" is not stated"}}
	}
	return d
}

// BenchmarkWriteReceipt builds the receipt of a delivered file of 10,000
// invoices, as the writer rewrites it while a file is delivered: read the
// documents from the store and write the receipt into its temporary file.
func BenchmarkWriteReceipt(b *testing.B) {
	w, st, _ := newTestWriter(b)
	const n = 10000
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	err := st.Update(func(tx store.Tx) error {
		f := &store.File{ID: "F0000001", Tenant: "demo", Name: "fakturor.csv", SHA256: "ab12", Size: 3 << 20, ReceivedAt: at,
			State: store.FileParsed, Format: "csv", Docs: n}
		if err := tx.PutFile(f); err != nil {
			return err
		}
		for i := range n {
			if err := tx.PutDoc(receiptDoc(f.ID, i, at)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		start := cpuTime()
		if _, err := w.write("F0000001"); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - start
		b.StopTimer()
		w.group.Commit()
		b.StartTimer()
	}
	// The machines this runs on are shared: CPU time (all threads, the
	// collector's included) depends less on the load than ns/op.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
