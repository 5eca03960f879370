package gateway

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// A file that settles at once (a rejected upload, a single invoice) gets
// one receipt, its final one: no "received" receipt replaced a moment
// later.
func TestQuicklySettledFileGetsOneReceipt(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(d.receiptsDir("demo")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		body  []byte
		state string
	}{
		{"garbage.bin", []byte("not an invoice file at all\n"), "rejected"},
		{"one.csv", exampleInvoices(t, "2025-1002"), "parsed"},
	} {
		drop(t, d, c.name, c.body)
		path := filepath.Join(d.receiptsDir("demo"), c.name+".receipt.json")
		writes := 0
		deadline := time.After(20 * time.Second)
		var r Receipt
		for !r.Final {
			select {
			case ev := <-w.Events:
				if ev.Name == path && ev.Has(fsnotify.Create) {
					writes++
					b, _ := os.ReadFile(path)
					json.Unmarshal(b, &r)
				}
			case <-deadline:
				t.Fatalf("%s: no final receipt after %d writes", c.name, writes)
			}
		}
		// Nothing more comes for a final file.
		time.Sleep(300 * time.Millisecond)
	drain:
		for {
			select {
			case ev := <-w.Events:
				if ev.Name == path && ev.Has(fsnotify.Create) {
					writes++
				}
			default:
				break drain
			}
		}
		if writes != 1 || string(r.State) != c.state {
			t.Errorf("%s: %d receipt writes, final state %s; want 1 write, %s", c.name, writes, r.State, c.state)
		}
	}
}
