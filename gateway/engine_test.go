package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/channels"
	"github.com/multikanal/multikanal/outbound/spool"
)

const examples = "../../shared/testdata/peppol/openpeppol-examples"

// registered are the channels the tests run with, as the daemon registers
// them.
var registered = channels.All()

// setTransport points a channel's table at one of its real transports,
// with the transport's keys.
func setTransport(c *config.Config, channel, transport string, settings outbound.Settings) {
	cc := c.ChannelConfig(channel)
	cc.Transport, cc.Settings = transport, settings
}

// fakeTransport answers each send from a script of errors, then succeeds.
type fakeTransport struct {
	mu     sync.Mutex
	script []error
	always error
	sent   []outbound.Message
}

func (f *fakeTransport) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.always != nil {
		return outbound.Sent{}, f.always
	}
	if len(f.script) > 0 {
		err := f.script[0]
		f.script = f.script[1:]
		return outbound.Sent{}, err
	}
	f.sent = append(f.sent, m)
	return outbound.Sent{Ref: "fake:" + m.Name}, nil
}

func (f *fakeTransport) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// runDaemon starts a daemon on the embedded default with the given fake
// transports and drops the named example into the demo inbox.
func runDaemon(t *testing.T, fakes map[string]*fakeTransport, example string) (*Daemon, string) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(examples, example))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	d := startTestDaemon(t, nil, fakes)
	drop(t, d, example, body)
	return d, example
}

// startTestDaemon runs a daemon on the embedded default in a temporary data
// dir, with fast retries, no listeners, the configuration changed by mutate
// and the given fake transports, until the test ends.
func startTestDaemon(t testing.TB, mutate func(*config.Config), fakes map[string]*fakeTransport) *Daemon {
	t.Helper()
	return startDaemonWith(t, registered, mutate, fakes)
}

// startDaemonWith is startTestDaemon with the channels chans registered.
func startDaemonWith(t testing.TB, chans []outbound.Descriptor, mutate func(*config.Config), fakes map[string]*fakeTransport) *Daemon {
	t.Helper()
	cfg := config.Default(t.TempDir(), chans)
	cfg.HTTP.Listen = ""
	cfg.SFTP.Listen = ""
	cfg.Public.Listen = ""
	cfg.Delivery.BackoffMin = config.Duration(5 * time.Millisecond)
	cfg.Delivery.BackoffMax = config.Duration(20 * time.Millisecond)
	if mutate != nil {
		mutate(cfg)
	}
	d, err := New(Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range fakes {
		p := *d.lanes[name].Get()
		p.Transport = f
		d.lanes[name].Set(&p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	waitUntil(t, func() bool { return d.ready.Load() })
	return d
}

// drop puts a file into the demo inbox the way careful clients do: a hidden
// name, then a rename.
func drop(t testing.TB, d *Daemon, name string, body []byte) {
	t.Helper()
	tmp := filepath.Join(d.inboxDir("demo"), "."+name)
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(d.inboxDir("demo"), name)); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// finalDoc waits for the file's receipt to be final and returns its one document.
func finalDoc(t *testing.T, d *Daemon) (api.ReceiptDocument, []store.Event) {
	t.Helper()
	var r *api.Receipt
	waitUntil(t, func() bool {
		var err error
		r, err = receipts.Build(d.store, "F0000001")
		return err == nil && r.Final
	})
	if len(r.Documents) != 1 {
		t.Fatalf("want 1 document, got %d", len(r.Documents))
	}
	var events []store.Event
	d.store.View(func(tx store.Tx) (err error) { events, err = tx.Events(r.Documents[0].ID); return })
	return r.Documents[0], events
}

func TestDeliveryOutcomes(t *testing.T) {
	tmp := outbound.Temporaryf("connection refused")
	perm := outbound.Permanentf("550 no such participant")
	cases := []struct {
		name        string
		peppol      *fakeTransport
		email       *fakeTransport
		wantState   store.DocState
		wantChannel string
		wantSends   map[string]int
	}{
		{"delivered at once", &fakeTransport{}, &fakeTransport{}, store.DocDelivered, "peppol", map[string]int{"peppol": 1}},
		{"temporary failures are retried", &fakeTransport{script: []error{tmp, tmp}}, &fakeTransport{}, store.DocDelivered, "peppol", map[string]int{"peppol": 1}},
		{"unclassified errors are retried", &fakeTransport{script: []error{errors.New("eof")}}, &fakeTransport{}, store.DocDelivered, "peppol", map[string]int{"peppol": 1}},
		{"permanent failure falls back to the next channel", &fakeTransport{always: perm}, &fakeTransport{}, store.DocDelivered, "email", map[string]int{"email": 1}},
		{"too many temporary failures fall back", &fakeTransport{always: tmp}, &fakeTransport{}, store.DocDelivered, "email", map[string]int{"email": 1}},
		{"no channel left is dead", &fakeTransport{always: perm}, &fakeTransport{always: perm}, store.DocDead, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			print := &fakeTransport{always: perm}
			d, _ := runDaemon(t, map[string]*fakeTransport{"peppol": c.peppol, "email": c.email, "print": print}, "base-example.xml")
			doc, events := finalDoc(t, d)
			if doc.State != api.DocState(c.wantState) || doc.Channel != c.wantChannel {
				t.Fatalf("state %s on %q, want %s on %q (%s)", doc.State, doc.Channel, c.wantState, c.wantChannel, doc.Reason)
			}
			if got := map[string]int{"peppol": c.peppol.count(), "email": c.email.count()}; got["peppol"] != c.wantSends["peppol"] || got["email"] != c.wantSends["email"] {
				t.Errorf("sends %v, want %v", got, c.wantSends)
			}
			if doc.Reason == "" || len(doc.Route) != 6 {
				t.Errorf("reason %q, route %d steps: every decision must be recorded", doc.Reason, len(doc.Route))
			}
			if events[0].State != store.DocReceived || events[len(events)-1].State != c.wantState {
				t.Errorf("history %+v", events)
			}
			if c.wantState == store.DocDead && print.count() != 0 {
				t.Errorf("print got sends although it always fails")
			}
		})
	}
}

func TestBatchChannelSendsOneFilePerCutoff(t *testing.T) {
	perm := outbound.Permanentf("refused")
	print := &fakeTransport{}
	d, _ := runDaemon(t, map[string]*fakeTransport{"peppol": {always: perm}, "email": {always: perm}, "print": print}, "base-example.xml")
	doc, _ := finalDoc(t, d)
	if doc.State != api.DocDelivered || doc.Channel != "print" || print.count() != 1 {
		t.Fatalf("state %s on %s with %d print batches (%s)", doc.State, doc.Channel, print.count(), doc.Reason)
	}
	if name := print.sent[0].Name; name != "print-demo-F0000001-0000000.zip" {
		t.Errorf("batch file name %q", name)
	}
}

func nowForTest() time.Time { return time.Now() }

// exampleInvoices is the example CSV's header and every row of the named
// invoices: the realistic rows tests start from.
func exampleInvoices(t testing.TB, numbers ...string) []byte {
	src, err := os.ReadFile("../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	body := []byte(lines[0] + "\n")
	for _, l := range lines[1:] {
		for _, n := range numbers {
			if strings.SplitN(l, ";", 3)[1] == n {
				body = append(body, l+"\n"...)
			}
		}
	}
	return body
}

// flushCounter is the spool with its flushes counted; the first fail.
type flushCounter struct {
	*spool.Spool
	mu                 sync.Mutex
	unflushed, flushes int
	failFirst          int
}

func (f *flushCounter) SendUnflushed(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	f.mu.Lock()
	f.unflushed++
	f.mu.Unlock()
	return f.Spool.SendUnflushed(ctx, m)
}

func (f *flushCounter) Flush() error {
	f.mu.Lock()
	f.flushes++
	fail := f.flushes <= f.failFirst
	f.mu.Unlock()
	if err := f.Spool.Flush(); err != nil || !fail {
		return err
	}
	return outbound.Temporaryf("disk full")
}

// On a transport that flushes (the spool), a worker sends a group of
// deliveries, flushes once and records the group: far fewer syncs than
// messages. A failed flush fails its whole group, temporarily, and the
// retry replaces the files under the same names.
func TestGroupedSendsFlushOnceAndRetryAFailedFlush(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	sp, err := spool.New(filepath.Join(d.dataDir, "outbox", "email"))
	if err != nil {
		t.Fatal(err)
	}
	fc := &flushCounter{Spool: sp, failFirst: 1}
	p := *d.lanes["email"].Get()
	p.Transport = fc
	d.lanes["email"].Set(&p)

	const n = 300
	drop(t, d, "batch.csv", emailBatch(t, n))
	waitUntil(t, func() bool { return fileFinal(d, "F0000001") })
	entries, _ := os.ReadDir(sp.Dir())
	if len(entries) != n {
		t.Errorf("%d files in outbox/email, want %d", len(entries), n)
	}
	retried := 0
	err = d.store.View(func(tx store.Tx) error {
		return tx.FileDocs("F0000001", func(doc *store.Doc) error {
			if doc.State != store.DocDelivered || doc.Channel != "email" {
				t.Errorf("%s: %s on %s (%s)", doc.ID, doc.State, doc.Channel, doc.Reason)
			}
			dl, err := tx.Delivery(store.DeliveryID(doc.ID, "email"))
			if err != nil {
				return err
			}
			if dl.Attempts == 2 {
				retried++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.unflushed != n+retried {
		t.Errorf("%d sends for %d deliveries, %d of them retried", fc.unflushed, n, retried)
	}
	if retried == 0 || retried > deliver.MaxSendGroup {
		t.Errorf("%d deliveries retried after one failed flush, want its group (1..%d)", retried, deliver.MaxSendGroup)
	}
	if fc.flushes > n/4 {
		t.Errorf("%d flushes for %d sends: the sends were not grouped", fc.flushes, fc.unflushed)
	}
	t.Logf("%d sends, %d flushes, %d retried after the failed flush", fc.unflushed, fc.flushes, retried)
}

// spoolPath is where a claimed file is kept.
func (d *Daemon) spoolPath(fileID string) string { return filepath.Join(d.dataDir, "spool", fileID) }
