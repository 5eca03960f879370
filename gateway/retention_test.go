package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/metrics/metricstest"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/upkeep"
	"github.com/multikanal/multikanal/outbound"
)

// fileByName returns the record of the demo tenant's file of that name.
func fileByName(t *testing.T, d *Daemon, name string) *store.File {
	t.Helper()
	var out *store.File
	d.store.View(func(tx store.Tx) error {
		return tx.ForEachFile(func(f *store.File) error {
			if f.Name == name {
				out = f
			}
			return nil
		})
	})
	if out == nil {
		t.Fatalf("no file %s", name)
	}
	return out
}

// waitFinal waits until the named file's receipt is final on disk.
func waitFinal(t *testing.T, d *Daemon, name string) *store.File {
	t.Helper()
	var f *store.File
	waitUntil(t, func() bool {
		f = nil
		d.store.View(func(tx store.Tx) error {
			return tx.ForEachFile(func(r *store.File) error {
				if r.Name == name && r.Final {
					f = r
				}
				return nil
			})
		})
		return f != nil
	})
	return f
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// docsOf returns a file's documents, with whether each still has a body,
// and the number of its events.
func docsOf(t *testing.T, d *Daemon, fileID string) (docs []*store.Doc, bodies, events int) {
	t.Helper()
	d.store.View(func(tx store.Tx) error {
		return tx.FileDocs(fileID, func(doc *store.Doc) error {
			docs = append(docs, doc)
			if _, err := tx.Body(doc.ID); err == nil {
				bodies++
			}
			ev, _ := tx.Events(doc.ID)
			events += len(ev)
			return nil
		})
	})
	return docs, bodies, events
}

// Retention removes a final file's payloads (bodies, histories,
// deliveries, outbox files, batch files), its receipt and, when rejected,
// its input; each document keeps a summary small enough for the store to
// hold it for years, and the input stays as long as the archive mode
// says. A file not yet final is never touched, and the indexes stay.
func TestRetentionRemovesPayloadsKeepsSummaries(t *testing.T) {
	for _, mode := range []string{config.ArchiveInput, config.ArchiveSummary, config.ArchiveNone} {
		t.Run(mode, func(t *testing.T) {
			// E-mail fails for ever (temporarily): the file sent by e-mail
			// stays open whatever the clock says.
			email := &fakeTransport{always: outbound.Temporaryf("relay down")}
			d := startTestDaemon(t, func(c *config.Config) {
				c.Tenants[0].Retention.Archive = mode
				c.Delivery.MaxAttempts, c.Delivery.MaxAge = 1<<30, config.Duration(1<<62)
			}, map[string]*fakeTransport{"email": email})
			// Peppol, Kivra, SMS (per document) and print (a batch file).
			drop(t, d, "done.csv", exampleInvoices(t, "2025-1001", "2025-1003", "2025-1004", "2025-1005"))
			drop(t, d, "open.csv", exampleInvoices(t, "2025-1002"))
			drop(t, d, "junk.pdf", []byte("%PDF-1.7 not an invoice file"))
			done := waitFinal(t, d, "done.csv")
			junk := waitFinal(t, d, "junk.pdf")
			open := fileByName(t, d, "open.csv")
			waitUntil(t, func() bool { return email.count() == 0 && exists(d.receipts.Path(open)) })

			before, bodies, events := docsOf(t, d, done.ID)
			var outputs []string
			for _, doc := range before {
				if len(doc.Keys) == 0 {
					t.Fatalf("document without key pseudonyms: %+v", doc)
				}
				if doc.State == store.DocDead { // 2025-1004: no channel reaches Maria
					continue
				}
				if doc.State != store.DocDelivered || doc.Output == "" || !exists(doc.Output) || doc.SentSHA256 == "" {
					t.Fatalf("delivered document without output or hash: %+v", doc)
				}
				outputs = append(outputs, doc.Output)
			}
			if len(before) != 4 || bodies != 4 || events == 0 || len(outputs) != 3 {
				t.Fatalf("%d documents, %d bodies, %d events, %d outputs before retention", len(before), bodies, events, len(outputs))
			}
			for _, p := range []string{d.spoolPath(done.ID), d.spoolPath(junk.ID), d.spoolPath(open.ID), d.receipts.Path(done), d.receipts.Path(junk)} {
				if !exists(p) {
					t.Fatalf("%s missing before retention", p)
				}
			}

			// 20 days on: only the rejected file's input goes (14 days).
			rep := d.upkeep.Sweep(context.Background(), time.Now().Add(20*24*time.Hour))
			if rep.Error != "" || rep.InputFiles != 1 || rep.Summarised != 0 || exists(d.spoolPath(junk.ID)) || !exists(d.receipts.Path(junk)) {
				t.Fatalf("after 20 days: %+v; junk input there %v", rep, exists(d.spoolPath(junk.ID)))
			}

			// 100 days on: payloads, outbox files and receipts go.
			rep = d.upkeep.Sweep(context.Background(), time.Now().Add(100*24*time.Hour))
			if rep.Error != "" || rep.Summarised != 4 || rep.Receipts != 2 || rep.OutboxFiles != len(outputs) {
				t.Fatalf("after 100 days: %+v", rep)
			}
			after, bodies, events := docsOf(t, d, done.ID)
			if bodies != 0 || events != 0 {
				t.Errorf("after 100 days: %d bodies, %d events left", bodies, events)
			}
			for i, doc := range after {
				b, _ := json.Marshal(doc)
				// The output path is as long as the test's temporary folder.
				if doc.Summarised.IsZero() || doc.Buyer != "" || doc.Route != nil || len(b)-len(doc.Output) > 600 {
					t.Errorf("not a summary (%d bytes): %s", len(b), b)
				}
				was := before[i]
				if doc.Number != was.Number || doc.Amount != was.Amount || doc.State != was.State || doc.Channel != was.Channel ||
					doc.Output != was.Output || doc.SentSHA256 != was.SentSHA256 || !doc.Created.Equal(was.Created.Truncate(time.Second)) {
					t.Errorf("summary lost what it must keep:\n%+v\nwas\n%+v", doc, was)
				}
				if anonymised := mode == config.ArchiveNone; anonymised != (doc.Keys == nil) {
					t.Errorf("archive %s: keys %v", mode, doc.Keys)
				}
				d.store.View(func(tx store.Tx) error {
					if _, err := tx.Delivery(store.DeliveryID(doc.ID, doc.Channel)); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("delivery of %s: %v", doc.ID, err)
					}
					if id, err := tx.NumberRef("demo", doc.Number); err != nil || id != doc.ID {
						t.Errorf("invoice number %s no longer indexed: %q %v", doc.Number, id, err)
					}
					return nil
				})
			}
			for _, p := range outputs {
				if exists(p) {
					t.Errorf("outbox file %s still there", p)
				}
			}
			if exists(d.receipts.Path(done)) || exists(d.receipts.Path(junk)) {
				t.Error("final receipts still there after 100 days")
			}
			if kept := exists(d.spoolPath(done.ID)); kept != (mode == config.ArchiveInput) {
				t.Errorf("archive %s: input file kept %v", mode, kept)
			}
			d.store.View(func(tx store.Tx) error {
				if f, err := tx.FileByHash("demo", done.SHA256); err != nil || f.ID != done.ID {
					t.Errorf("duplicate index lost: %v", err)
				}
				return nil
			})

			// The open file is untouched, whatever the clock.
			docs, bodies, _ := docsOf(t, d, open.ID)
			if len(docs) != 1 || bodies != 1 || !exists(d.spoolPath(open.ID)) || !exists(d.receipts.Path(open)) || !docs[0].Summarised.IsZero() {
				t.Errorf("a file not final was touched: %d docs, %d bodies, spool %v, receipt %v",
					len(docs), bodies, exists(d.spoolPath(open.ID)), exists(d.receipts.Path(open)))
			}

			// Eight years on the archive period is over: the input goes and
			// the summaries lose their keys.
			rep = d.upkeep.Sweep(context.Background(), time.Now().Add(8*366*24*time.Hour))
			after, _, _ = docsOf(t, d, done.ID)
			for _, doc := range after {
				if doc.Keys != nil || doc.Anonymised.IsZero() || doc.Number == "" {
					t.Errorf("after the archive period: %+v", doc)
				}
			}
			if exists(d.spoolPath(done.ID)) {
				t.Error("input file kept after the archive period")
			}

			// Each step ran once: a receipt rewrite finds the file's
			// receipt removed and does not write it again.
			d.receipts.Touch(done.ID)
			time.Sleep(200 * time.Millisecond)
			if exists(d.receipts.Path(done)) {
				t.Error("a receipt retention removed was written again")
			}
			got, _ := metricstest.Scrape(t, d.metrics.Handler())
			if got[`multikanal_retention_removed_total{what="documents_summarised"}`] != 4 || got[`multikanal_retention_removed_total{what="bodies"}`] != 4 {
				t.Errorf("retention metrics: %v", got[`multikanal_retention_removed_total{what="documents_summarised"}`])
			}
		})
	}
}

// Over store.max_size a new file is refused, not read, with a receipt
// saying why; status and metrics say why too. The same bytes are taken
// once the store is within its quota again.
func TestQuotaRefusesNewFilesWithAReceipt(t *testing.T) {
	d := startTestDaemon(t, func(c *config.Config) { c.Store.MaxSize = 1 }, nil)
	body := exampleInvoices(t, "2025-1001")
	drop(t, d, "a.csv", body)
	f := waitFinal(t, d, "a.csv")
	if f.State != store.FileRejected || !strings.Contains(f.Reason, "store.max_size") {
		t.Fatalf("file %s: %s", f.State, f.Reason)
	}
	if !exists(d.spoolPath(f.ID)) {
		t.Error("the refused file is not kept in the spool")
	}
	waitUntil(t, func() bool { return exists(d.receipts.Path(f)) })
	r, _ := os.ReadFile(d.receipts.Path(f))
	var rc api.Receipt
	if err := json.Unmarshal(r, &rc); err != nil || !rc.Final || rc.State != api.FileRejected || !strings.Contains(rc.Reason, "store.max_size") {
		t.Errorf("receipt %v: %s", err, r)
	}
	st, err := d.httpapi.Status()
	if err != nil || st.Store == nil || !strings.Contains(st.Store.OverQuota, "over store.max_size") {
		t.Errorf("status: %v %+v", err, st.Store)
	}
	got, _ := metricstest.Scrape(t, d.metrics.Handler())
	if got["multikanal_store_over_quota"] != 1 || got[`multikanal_files_rejected_total{reason="quota",tenant="demo"}`] != 1 {
		t.Errorf("quota metrics: over %v, rejected %v", got["multikanal_store_over_quota"], got[`multikanal_files_rejected_total{reason="quota",tenant="demo"}`])
	}
	srv := httptest.NewServer(d.httpapi.Routes())
	defer srv.Close()
	page, _ := http.Get(srv.URL + "/")
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(html), `id="quota"`) {
		t.Error("the status page does not say the store is over its quota")
	}

	// A reload with a larger quota: the same bytes are taken.
	cfg := *d.live.Load()
	cfg.Store.MaxSize = 1 << 40
	d.live.Store(&cfg)
	drop(t, d, "a.csv", body)
	var again *store.File
	waitUntil(t, func() bool {
		d.store.View(func(tx store.Tx) error { again, _ = tx.File("F0000002"); return nil })
		return again != nil && again.Final
	})
	if again.State != store.FileParsed || again.DuplicateOf != "" {
		t.Errorf("sent again under the quota: %s %s (duplicate of %q)", again.State, again.Reason, again.DuplicateOf)
	}
}

// An erasure by personnummer shows first what it would remove (changing
// nothing), then removes the person's payload, name, address and keys,
// their registry entries, rewrites the receipt without them, keeps the
// input file the law asks for, and leaves an audit line with no
// personal data. The others' documents are untouched.
func TestEraseByKeyLeavesAnAuditLine(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "batch.csv", exampleInvoices(t, "2025-1002", "2025-1004", "2025-1005"))
	f := waitFinal(t, d, "batch.csv")
	waitUntil(t, func() bool { return exists(d.receipts.Path(f)) })
	rcpt, _ := os.ReadFile(d.receipts.Path(f))
	if !bytes.Contains(rcpt, []byte("Maria Svensson")) {
		t.Fatalf("the receipt does not name the buyer to erase:\n%s", rcpt)
	}
	rows, err := recipients.Parse(strings.NewReader("key;channel\npnr:198112189876;kivra\n"), time.Now(), registry.RecipientChannels(d.live.Load()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.registry.Import("demo", "test", rows); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.httpapi.Routes())
	defer srv.Close()
	erase := func(dry bool) *api.EraseReport {
		t.Helper()
		body, _ := json.Marshal(api.EraseRequest{Key: "pnr:19811218-9876", DryRun: dry, By: "operator anna"})
		resp, err := http.Post(srv.URL+"/api/v1/tenants/demo/erase", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rep api.EraseReport
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("erase: %s %v", resp.Status, err)
		}
		return &rep
	}
	maria := func() (*store.Doc, bool) {
		docs, _, _ := docsOf(t, d, f.ID)
		for _, doc := range docs {
			if doc.Number == "2025-1004" {
				var body bool
				d.store.View(func(tx store.Tx) error { _, err := tx.Body(doc.ID); body = err == nil; return nil })
				return doc, body
			}
		}
		t.Fatal("no document 2025-1004")
		return nil, false
	}

	dry := erase(true)
	if len(dry.Documents) != 1 || dry.Documents[0].Number != "2025-1004" || dry.Registrations != 1 || dry.Store.Bodies != 1 {
		t.Fatalf("dry run: %+v", dry)
	}
	if doc, body := maria(); !body || doc.Buyer == "" {
		t.Fatal("a dry run changed the store")
	}

	rep := erase(false)
	if len(rep.Documents) != 1 || rep.Registrations != 1 || rep.Store.Bodies != 1 || rep.Store.Events == 0 || rep.InputFiles != 0 {
		t.Fatalf("erase: %+v", rep)
	}
	kept := false
	for _, k := range rep.Kept {
		kept = kept || strings.HasPrefix(k.What, "input file "+f.ID) && strings.Contains(k.Why, "Bokföringslagen")
	}
	if !kept || !exists(d.spoolPath(f.ID)) {
		t.Errorf("the input file, the biller's archive copy, must stay and be listed as kept: %+v", rep.Kept)
	}
	doc, body := maria()
	if body || doc.Buyer != "" || doc.Address != "" || doc.Keys != nil || doc.Anonymised.IsZero() || doc.Number != "2025-1004" {
		t.Errorf("after the erasure: body %v, %+v", body, doc)
	}
	if _, regs, _ := d.registry.ByKey("demo", "pnr:198112189876"); len(regs) != 0 {
		t.Errorf("registrations left: %+v", regs)
	}
	docs, bodies, _ := docsOf(t, d, f.ID)
	if len(docs) != 3 || bodies != 2 {
		t.Errorf("the other documents: %d documents, %d bodies (want 3, 2)", len(docs), bodies)
	}
	waitUntil(t, func() bool {
		rcpt, _ = os.ReadFile(d.receipts.Path(f))
		return len(rcpt) > 0 && !bytes.Contains(rcpt, []byte("Maria Svensson"))
	})
	if !bytes.Contains(rcpt, []byte("Lisa Andersson")) {
		t.Error("the rewritten receipt lost the other buyers")
	}

	audit, err := os.ReadFile(filepath.Join(d.dataDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(audit)), "\n")
	if len(lines) != 2 {
		t.Fatalf("audit log has %d lines, want 2 (dry run, erasure):\n%s", len(lines), audit)
	}
	// The personnummer in every form it is written (a timestamp or a hash
	// may hold its last four digits by chance, so those alone are not
	// looked for), the name and the invoice number.
	for _, secret := range []string{"198112189876", "19811218-9876", "8112189876", "811218-9876", "Maria", "Svensson", "2025-1004"} {
		if strings.Contains(string(audit), secret) {
			t.Errorf("the audit log holds %q:\n%s", secret, audit)
		}
	}
	var line upkeep.AuditLine
	if err := json.Unmarshal([]byte(lines[1]), &line); err != nil {
		t.Fatal(err)
	}
	wantHash := d.store.HashKey(store.RecipientKey{Type: store.KeyPNR, Value: "198112189876"})
	if line.Action != "erase" || !strings.HasPrefix(line.By, "operator anna") || line.KeyType != "pnr" || line.KeyHash != wantHash ||
		line.Documents != 1 || line.Registrations != 1 || line.At.IsZero() {
		t.Errorf("audit line %+v", line)
	}

	// Erasing again finds nothing more; a bad key is refused.
	if again := erase(false); len(again.Documents) != 0 || again.Registrations != 0 {
		t.Errorf("second erasure: %+v", again)
	}
	resp, _ := http.Post(srv.URL+"/api/v1/tenants/demo/erase", "application/json", strings.NewReader(`{"key":"pnr:19811218-9877"}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad personnummer: %s", resp.Status)
	}
	resp.Body.Close()
}

// Compaction through the API shrinks a store that retention emptied while
// files keep arriving and being delivered.
func TestCompactOnlineShrinksTheStore(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "big.csv", mixedBatch(t, 300))
	big := waitFinal(t, d, "big.csv")
	rep := d.upkeep.Sweep(context.Background(), time.Now().Add(100*24*time.Hour))
	if rep.Summarised != big.Docs {
		t.Fatalf("sweep: %+v", rep)
	}
	before, free := d.store.Size(), d.store.FreeBytes()
	if free < before/3 {
		t.Fatalf("%d of %d bytes free after the sweep", free, before)
	}
	srv := httptest.NewServer(d.httpapi.Routes())
	defer srv.Close()
	for i := range 5 {
		drop(t, d, "during-"+string(rune('a'+i))+".csv", exampleInvoices(t, "2025-1001", "2025-1003"))
	}
	resp, err := http.Post(srv.URL+"/api/v1/store/compact", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var c api.CompactReport
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || c.MBAfter >= c.MBBefore || d.store.Size() >= before {
		t.Fatalf("compaction: %s %+v, size %d → %d", resp.Status, c, before, d.store.Size())
	}
	t.Logf("compacted %.1f → %.1f MB in %.2f s (writes paused %.2f s)", c.MBBefore, c.MBAfter, c.Seconds, c.WritesPaused)
	for i := range 5 {
		waitFinal(t, d, "during-"+string(rune('a'+i))+".csv")
	}
	docs, _, _ := docsOf(t, d, big.ID)
	if len(docs) != big.Docs {
		t.Errorf("%d documents of %d after compaction", len(docs), big.Docs)
	}
	if st, _ := d.httpapi.Status(); st.Store.LastCompaction == nil || st.Store.LastCompaction.Cause != "api" {
		t.Errorf("status does not show the compaction: %+v", st.Store)
	}
}

// A document whose body retention removed can be neither retried nor
// resent: each refusal says so and what to do instead, and nothing is
// queued.
func TestSummarisedIsNotSentAgain(t *testing.T) {
	d, _ := runDaemon(t, map[string]*fakeTransport{"peppol": {}}, "base-example.xml")
	doc, _ := finalDoc(t, d)
	err := d.store.Update(func(tx store.Tx) error {
		rec, err := tx.Doc(doc.ID)
		if err != nil {
			return err
		}
		if _, err := tx.RemovePayload(rec); err != nil {
			return err
		}
		rec.Summarise(time.Now())
		return tx.PutDoc(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.engine.Resend(doc.ID, "anna", "lost"); !errors.Is(err, deliver.ErrNotResendable) || !strings.Contains(err.Error(), "summarised by retention") || !strings.Contains(err.Error(), "marked as a resend") {
		t.Errorf("resend of a summarised document: %v", err)
	}
	// Dead, it still cannot be retried.
	d.store.Update(func(tx store.Tx) error {
		rec, _ := tx.Doc(doc.ID)
		rec.State = store.DocDead
		return tx.PutDoc(rec)
	})
	if _, err := d.engine.Retry(doc.ID); !errors.Is(err, deliver.ErrNotRetryable) || !strings.Contains(err.Error(), "summarised by retention") {
		t.Errorf("retry of a summarised document: %v", err)
	}
}
