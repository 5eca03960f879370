package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/store"
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

// A stop right after a burst of refused files leaves every file a receipt:
// refused ones say so, final; one claimed but not read yet says
// "received", and the next start finishes it. The refusals are recorded in
// the background (rejectFile) and the stop waits for them before the
// receipt writer's last turn.
func TestStopLeavesEveryRefusedFileItsReceipt(t *testing.T) {
	cfg := config.Default(t.TempDir())
	cfg.HTTP.Listen, cfg.SFTP.Listen = "", ""
	run := func() (*Daemon, func()) {
		t.Helper()
		d, err := New(Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		waitUntil(t, func() bool { return d.ready.Load() })
		return d, func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	d, stop := run()
	inbox, receipts := d.inboxDir("demo"), d.receiptsDir("demo")
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(inbox); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		tmp := filepath.Join(inbox, fmt.Sprintf(".junk-%03d", i))
		if err := os.WriteFile(tmp, []byte(fmt.Sprintf("not an invoice %d\n", i)), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(inbox, fmt.Sprintf("junk-%03d.txt", i))); err != nil {
			t.Fatal(err)
		}
	}
	// Stop the moment the last file is claimed (moved out of the inbox),
	// while refusals are still being recorded.
	for claimed := 0; claimed < n; {
		select {
		case ev := <-w.Events:
			if ev.Has(fsnotify.Rename) && filepath.Ext(ev.Name) == ".txt" {
				claimed++
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of %d files claimed after 20 s", claimed, n)
		}
	}
	stop()
	read := func(i int) Receipt {
		t.Helper()
		path := filepath.Join(receipts, fmt.Sprintf("junk-%03d.txt.receipt.json", i))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("file %d of %d: %v", i, n, err)
		}
		var r Receipt
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return r
	}
	pending := 0
	for i := range n {
		switch r := read(i); {
		case r.State == store.FileRejected && r.Final:
		case r.State == store.FileReceived && !r.Final:
			pending++
		default:
			t.Fatalf("junk-%03d.txt after the stop: state %q, final %v", i, r.State, r.Final)
		}
	}
	t.Logf("after the stop: %d refused, %d received and not read yet", n-pending, pending)

	_, stop = run()
	waitUntil(t, func() bool {
		for i := range n {
			if r := read(i); r.State != store.FileRejected || !r.Final {
				return false
			}
		}
		return true
	})
	stop()
}
