package gateway

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/store"
)

// BenchmarkEndToEnd drops a CSV of 1,400 invoices (the example file's mix:
// Peppol, e-mail, SMS, paper, a consumer no channel reaches) into a daemon
// on the spool transports and waits until the receipt is final: the whole
// path, per invoice. Run with -cpuprofile to see where the time goes.
func BenchmarkEndToEnd(b *testing.B) {
	const rounds = 200 // 7 invoices each
	body := mixedBatch(b, rounds)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := startTestDaemon(b, nil, nil)
		b.StartTimer()
		drop(b, d, "batch.csv", body)
		// Polled directly, not with waitUntil: on a loaded machine the
		// batch may take longer than a test's wait.
		deadline := time.Now().Add(10 * time.Minute)
		for !fileFinal(d, "F0000001") {
			if time.Now().After(deadline) {
				b.Fatal("the batch was not final after 10 minutes")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	b.ReportMetric(float64(rounds*7*b.N)/b.Elapsed().Seconds(), "invoices/s")
}

// mixedBatch repeats the example CSV's invoices (without its credit note)
// under new numbers.
func mixedBatch(t testing.TB, rounds int) []byte {
	src, err := os.ReadFile("../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for round := range rounds {
		for _, l := range lines[1:] {
			num := strings.SplitN(l, ";", 3)[1]
			if num == "2025-1007" {
				continue
			}
			b.WriteString(strings.Replace(l, ";"+num+";", fmt.Sprintf(";%s-%06d;", num, round), 1) + "\n")
		}
	}
	return []byte(b.String())
}

// fileFinal reads only the file's record: polling the whole receipt would
// cost as much as the work measured.
func fileFinal(d *Daemon, id string) bool {
	final := false
	d.store.View(func(tx store.Tx) error {
		f, err := tx.File(id)
		final = err == nil && f.Final
		return nil
	})
	return final
}
