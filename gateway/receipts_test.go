package gateway

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fsnotify/fsnotify"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// A file that settles at once (a rejected upload, a single invoice) gets
// one receipt, its final one: no "received" receipt replaced a moment
// later.
func TestQuicklySettledFileGetsOneReceipt(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	// Settling takes milliseconds here, but more than the 100 ms the first
	// receipt waits on a machine busy with other work; a file that settles
	// within the wait gets one receipt, which is what is counted.
	d.receipts.SetFirstDelay(10 * time.Second)
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
		var r api.Receipt
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
	cfg := config.Default(t.TempDir(), registered)
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
	read := func(i int) api.Receipt {
		t.Helper()
		path := filepath.Join(receipts, fmt.Sprintf("junk-%03d.txt.receipt.json", i))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("file %d of %d: %v", i, n, err)
		}
		var r api.Receipt
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return r
	}
	pending := 0
	for i := range n {
		switch r := read(i); {
		case r.State == api.FileRejected && r.Final:
		case r.State == api.FileReceived && !r.Final:
			pending++
		default:
			t.Fatalf("junk-%03d.txt after the stop: state %q, final %v", i, r.State, r.Final)
		}
	}
	t.Logf("after the stop: %d refused, %d received and not read yet", n-pending, pending)

	_, stop = run()
	waitUntil(t, func() bool {
		for i := range n {
			if r := read(i); r.State != api.FileRejected || !r.Final {
				return false
			}
		}
		return true
	})
	stop()
}

// readReceiptFile reads a receipt from the demo tenant's receipts folder.
func readReceiptFile(t *testing.T, d *Daemon, name string) (api.Receipt, error) {
	t.Helper()
	var r api.Receipt
	b, err := os.ReadFile(filepath.Join(d.receiptsDir("demo"), name))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r, nil
}

// waitReceiptFile waits until the named receipt is on disk, for the file,
// final.
func waitReceiptFile(t *testing.T, d *Daemon, name, fileID string) api.Receipt {
	t.Helper()
	var r api.Receipt
	waitUntil(t, func() bool {
		var err error
		r, err = readReceiptFile(t, d, name)
		return err == nil && r.FileID == fileID && r.Final
	})
	return r
}

// Two files with one name each keep their own receipt: the first the
// plain name, a later one the name with its file id; a same-bytes
// duplicate too. Once the ERP deleted the plain receipt, the next file of
// that name gets the plain name again. The name is on the file record.
func TestRepeatedNamesKeepTheirReceipts(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	first := exampleInvoices(t, "2025-1002")
	drop(t, d, "inv.csv", first)
	waitFinalReceipt(t, d, "F0000001", 20*time.Second)
	drop(t, d, "inv.csv", exampleInvoices(t, "2025-1003"))
	waitFinalReceipt(t, d, "F0000002", 20*time.Second)
	drop(t, d, "inv.csv", first) // the same bytes again: a duplicate, with its own receipt
	waitFinalReceipt(t, d, "F0000003", 20*time.Second)

	for _, c := range []struct{ name, file, number string }{
		{"inv.csv.receipt.json", "F0000001", "2025-1002"},
		{"inv.csv.F0000002.receipt.json", "F0000002", "2025-1003"},
		{"inv.csv.F0000003.receipt.json", "F0000003", ""},
	} {
		r := waitReceiptFile(t, d, c.name, c.file)
		if r.Receipt != c.name || r.File != "inv.csv" {
			t.Errorf("%s: names itself %q, file %q", c.name, r.Receipt, r.File)
		}
		if c.number != "" && (len(r.Documents) != 1 || r.Documents[0].Number != c.number) {
			t.Errorf("%s: documents %+v, want invoice %s", c.name, r.Documents, c.number)
		}
		if c.number == "" && r.State != api.FileDuplicate {
			t.Errorf("%s: %s, want duplicate", c.name, r.State)
		}
		// The writer records the name it chose after the file is on
		// disk, in a commit of its own: wait for that commit.
		var f *store.File
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			d.store.View(func(tx store.Tx) (err error) { f, err = tx.File(c.file); return err })
			if f != nil && f.Receipt == c.name {
				break
			}
		}
		if f == nil || f.Receipt != c.name {
			t.Errorf("file %s records receipt %+v, want %s", c.file, f, c.name)
		}
		if api, err := receipts.Build(d.store, c.file); err != nil || api.Receipt != c.name {
			t.Errorf("the API's receipt of %s names %q (%v), want %s", c.file, api.Receipt, err, c.name)
		}
	}
	// The ERP read and deleted the first receipt: its name is free again.
	if err := os.Remove(filepath.Join(d.receiptsDir("demo"), "inv.csv.receipt.json")); err != nil {
		t.Fatal(err)
	}
	drop(t, d, "inv.csv", exampleInvoices(t, "2025-1005"))
	waitReceiptFile(t, d, "inv.csv.receipt.json", "F0000004")
	if r, _ := readReceiptFile(t, d, "inv.csv.F0000002.receipt.json"); r.FileID != "F0000002" {
		t.Errorf("the second file's receipt now names %s", r.FileID)
	}
}

// A receipt the ERP deleted before its file was final keeps its name: a
// file of the same name arriving meanwhile gets the id-qualified name, and
// the first receipt comes back, whole and final, at its file's next change.
func TestDeletedOpenReceiptComesBackUnderItsName(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(examples, "base-example.xml"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	other, err := os.ReadFile(filepath.Join(examples, "vat-category-E.xml"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	ap := &fakeTransport{always: outbound.Temporaryf("access point down")}
	d := startTestDaemon(t, func(c *config.Config) { c.Delivery.MaxAttempts = 1 << 30 }, map[string]*fakeTransport{"peppol": ap})
	drop(t, d, "open.xml", body)
	plain := filepath.Join(d.receiptsDir("demo"), "open.xml.receipt.json")
	waitUntil(t, func() bool {
		r, err := readReceiptFile(t, d, "open.xml.receipt.json")
		return err == nil && len(r.Documents) == 1 && r.Documents[0].State == api.DocRetrying
	})
	if err := os.Remove(plain); err != nil { // the ERP deletes it
		t.Fatal(err)
	}
	drop(t, d, "open.xml", other)
	waitUntil(t, func() bool {
		r, err := readReceiptFile(t, d, "open.xml.F0000002.receipt.json")
		return err == nil && r.FileID == "F0000002"
	})
	ap.mu.Lock()
	ap.always = nil // the access point is back
	ap.mu.Unlock()
	r := waitReceiptFile(t, d, "open.xml.receipt.json", "F0000001")
	if len(r.Documents) != 1 || r.Documents[0].State != api.DocDelivered || r.Summary["delivered"] != 1 {
		t.Errorf("the receipt came back as %s %v: %+v", r.State, r.Summary, r.Documents)
	}
	waitReceiptFile(t, d, "open.xml.F0000002.receipt.json", "F0000002")
}

// A name so long that "<name>.receipt.json" passes NAME_MAX (255 bytes)
// gets a receipt named by its cut name and file id, and holds back no
// other receipt: before, its rename failed and took every receipt of the
// turn with it, at every turn, across restarts.
func TestLongNameGetsABoundedReceipt(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	long := strings.Repeat("å", 121) + ".csv" // 246 bytes: a valid name, its receipt's is not
	drop(t, d, long, exampleInvoices(t, "2025-1002"))
	drop(t, d, "short.csv", exampleInvoices(t, "2025-1003"))
	waitReceiptFile(t, d, "short.csv.receipt.json", "F0000002")
	var f *store.File
	waitUntil(t, func() bool {
		d.store.View(func(tx store.Tx) (err error) { f, err = tx.File("F0000001"); return err })
		return f != nil && f.Final
	})
	if len(f.Receipt) > 255 || !strings.HasSuffix(f.Receipt, ".F0000001.receipt.json") ||
		!strings.HasPrefix(f.Receipt, strings.Repeat("å", 100)) || !utf8.ValidString(f.Receipt) {
		t.Fatalf("receipt name %q (%d bytes): want the name cut at a character, the file id, at most %d bytes", f.Receipt, len(f.Receipt), 255)
	}
	r := waitReceiptFile(t, d, f.Receipt, "F0000001")
	if r.File != long || len(r.Documents) != 1 {
		t.Errorf("receipt of the long name: file %q, %d documents", r.File, len(r.Documents))
	}
}

// What a tenant reads (the receipt file, the API's receipt, the document
// endpoints) names its own files, never the daemon's file system: the
// output is the base name of the file in the outbox.
func TestReceiptsShowNoServerPaths(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "one.csv", exampleInvoices(t, "2025-1002"))
	waitUntil(t, func() bool { return fileFinal(d, "F0000001") })
	raw, err := os.ReadFile(filepath.Join(d.receiptsDir("demo"), "one.csv.receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r api.Receipt
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Documents) != 1 {
		t.Fatalf("receipt: %v, %d documents", err, len(r.Documents))
	}
	doc := r.Documents[0]
	if doc.State != api.DocDelivered || doc.Output == "" || strings.Contains(doc.Output, "/") {
		t.Errorf("output %q (%s): want the base name of the file delivered", doc.Output, doc.State)
	}
	if _, err := os.Stat(filepath.Join(d.dataDir, "outbox", doc.Channel, doc.Output)); err != nil {
		t.Errorf("the output named is not the file in the outbox: %v", err)
	}
	bodies := map[string]string{"receipt file": string(raw)}
	h := d.httpapi.Routes()
	for _, p := range []string{"/api/v1/files/F0000001/receipt", "/api/v1/docs/" + doc.ID, "/api/v1/docs", "/api/v1/docs?file=F0000001"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, rec.Code, rec.Body)
		}
		bodies[p] = rec.Body.String()
	}
	for what, body := range bodies {
		for _, leak := range []string{d.dataDir, "/outbox/", "/spool/", "/tenants/"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s shows the server path %q", what, leak)
			}
		}
	}
}

// Every entry of a ZIP has its line in the receipt: an entry whose name
// would leave the archive is rejected naming the rule, a folder is
// skipped saying so, an invoice is delivered.
func TestZIPEntriesInReceipt(t *testing.T) {
	invoice, err := os.ReadFile(filepath.Join(examples, "base-example.xml"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []struct {
		name string
		data []byte
	}{{"invoices/", nil}, {"../../x.xml", invoice}, {"invoices/a.xml", invoice}} {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	d := startTestDaemon(t, nil, map[string]*fakeTransport{"peppol": {}})
	drop(t, d, "batch.zip", buf.Bytes())
	r := waitFinalReceipt(t, d, "F0000001", 20*time.Second)
	if len(r.Documents) != 3 {
		t.Fatalf("%d receipt lines for 3 entries: %+v", len(r.Documents), r.Documents)
	}
	for i, want := range []struct {
		source string
		state  api.DocState
		reason string
	}{
		{"entry invoices/", api.DocSkipped, "entry invoices/: skipped: a folder entry"},
		{"entry ../../x.xml", api.DocRejected, "entry ../../x.xml: not read: the name leaves the archive with '..'; an entry name must be a relative path"},
		{"entry invoices/a.xml", api.DocDelivered, ""},
	} {
		got := r.Documents[i]
		if got.Source != want.source || got.State != want.state || !strings.HasPrefix(got.Reason, want.reason) {
			t.Errorf("line %d: %s %s %q, want %s %s %q", i, got.Source, got.State, got.Reason, want.source, want.state, want.reason)
		}
	}
	if r.Summary["skipped"] != 1 || r.Summary["rejected"] != 1 || r.Summary["delivered"] != 1 {
		t.Errorf("summary %v", r.Summary)
	}
}
