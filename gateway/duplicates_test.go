package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// outboxFiles lists what the spool transports have written, per channel.
func outboxFiles(t *testing.T, d *Daemon) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dirs, _ := os.ReadDir(filepath.Join(d.dataDir, "outbox"))
	for _, dir := range dirs {
		entries, _ := os.ReadDir(filepath.Join(d.dataDir, "outbox", dir.Name()))
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				out[dir.Name()] = append(out[dir.Name()], e.Name())
			}
		}
	}
	return out
}

func countFiles(m map[string][]string) int {
	n := 0
	for _, files := range m {
		n += len(files)
	}
	return n
}

// windows1252CRLF is the file as a Windows ERP writes it: "ANSI" and CRLF.
func windows1252CRLF(t *testing.T, utf8 []byte) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes(bytes.ReplaceAll(utf8, []byte("\n"), []byte("\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// docsByNumber indexes a receipt's documents by kind and number.
func docsByNumber(r *api.Receipt) map[string]api.ReceiptDocument {
	m := map[string]api.ReceiptDocument{}
	for _, doc := range r.Documents {
		m[string(doc.Kind)+" "+doc.Number] = doc
	}
	return m
}

func hasRule(doc api.ReceiptDocument, rule string, sev string) bool {
	for _, p := range doc.Problems {
		if p.Rule == rule && string(p.Severity) == sev {
			return true
		}
	}
	return false
}

// The example file, then the same invoices re-encoded to Windows-1252 with
// CRLF line ends (other bytes, so the file hash does not catch them): the
// second file delivers nothing, and each of its invoices is refused naming
// the first file and document.
func TestReencodedFileIsNotSentAgain(t *testing.T) {
	src, err := os.ReadFile("../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "invoices.csv", src)
	first := waitFinalReceipt(t, d, "F0000001", 60*time.Second)
	// 2025-1004 names only a personnummer, which nothing here reaches: it
	// is dead, and recorded all the same.
	if first.Summary["delivered"] != 7 || first.Summary["dead"] != 1 {
		t.Fatalf("the first file: %v", first.Summary)
	}
	before := outboxFiles(t, d)

	ansi := windows1252CRLF(t, src)
	if bytes.Equal(ansi, src) || !bytes.Contains(ansi, []byte("\r\n")) {
		t.Fatal("the re-encoded file has the same bytes")
	}
	drop(t, d, "invoices-ansi.csv", ansi)
	second := waitFinalReceipt(t, d, "F0000002", 60*time.Second)
	if second.State != api.FileParsed || second.Summary["rejected"] != 8 {
		t.Fatalf("the re-encoded file: %s %v (%s)", second.State, second.Summary, second.Reason)
	}
	// Batch channels cut at the end of each file: give a stray batch the
	// time to appear.
	time.Sleep(300 * time.Millisecond)
	if after := outboxFiles(t, d); countFiles(after) != countFiles(before) {
		t.Errorf("the re-encoded file was delivered again: outbox before %v, after %v", before, after)
	}
	firstByNumber := docsByNumber(first)
	for _, doc := range second.Documents {
		orig := firstByNumber[string(doc.Kind)+" "+doc.Number]
		want := `was received before in file "invoices.csv" (F0000001) as document ` + orig.ID + " (" + string(orig.State) + "); not sent again"
		if doc.State != api.DocRejected || !strings.HasPrefix(doc.Reason, "MK-DUPLICATE: ") || !strings.Contains(doc.Reason, want) ||
			!strings.Contains(doc.Reason, "multikanal docs resend "+orig.ID) || !hasRule(doc, "MK-DUPLICATE", "error") {
			t.Errorf("%s %s: %s: %q\nwant it rejected naming the first: %q", doc.Kind, doc.Number, doc.State, doc.Reason, want)
		}
	}
}

// Two files with the same invoice read at the same time: the check runs in
// the routing transaction, so exactly one copy goes out.
func TestCopiesReadAtOnceGoOutOnce(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	body := exampleInvoices(t, "2025-1002", "2025-1003")
	drop(t, d, "a.csv", body)
	drop(t, d, "b.csv", windows1252CRLF(t, body))
	a := waitFinalReceipt(t, d, "F0000001", 60*time.Second)
	b := waitFinalReceipt(t, d, "F0000002", 60*time.Second)
	for _, number := range []string{"2025-1002", "2025-1003"} {
		da, db := docsByNumber(a)["invoice "+number], docsByNumber(b)["invoice "+number]
		states := string(da.State) + "/" + string(db.State)
		if states != "delivered/rejected" && states != "rejected/delivered" {
			t.Errorf("invoice %s: %s, want one delivered and one refused", number, states)
		}
	}
	if n := len(outboxFiles(t, d)["email"]); n != 1 {
		t.Errorf("%d e-mails, want 1", n)
	}
}

// With duplicates = "warn" the copy goes out, with the first named in a
// warning; a credit note is never a copy of the invoice with its number;
// a row marked resend goes out under the default policy too.
func TestDuplicatePolicyCreditNotesAndResendColumn(t *testing.T) {
	invoice := exampleInvoices(t, "2025-1002")
	credit := bytes.Replace(exampleInvoices(t, "2025-1007"), []byte("creditnote;2025-1007;"), []byte("creditnote;2025-1002;"), 1)
	if !bytes.Contains(credit, []byte("creditnote;2025-1002;")) {
		t.Fatal("no credit note in the example")
	}
	lines := strings.Split(strings.TrimSpace(string(invoice)), "\n")
	for i := range lines {
		lines[i] += map[bool]string{true: ";resend", false: ";yes"}[i == 0]
	}
	resent := []byte(strings.Join(lines, "\n") + "\n")

	t.Run("refuse", func(t *testing.T) {
		d := startTestDaemon(t, nil, nil)
		drop(t, d, "inv.csv", invoice)
		waitFinalReceipt(t, d, "F0000001", 60*time.Second)
		drop(t, d, "credit.csv", credit)
		cn := waitFinalReceipt(t, d, "F0000002", 60*time.Second).Documents[0]
		if cn.State != api.DocDelivered || cn.Kind != "creditnote" || hasRule(cn, "MK-DUPLICATE", "error") || hasRule(cn, "MK-DUPLICATE", "warning") {
			t.Errorf("credit note 2025-1002 after invoice 2025-1002: %s: %s %+v", cn.State, cn.Reason, cn.Problems)
		}
		drop(t, d, "again.csv", windows1252CRLF(t, invoice))
		if doc := waitFinalReceipt(t, d, "F0000003", 60*time.Second).Documents[0]; doc.State != api.DocRejected {
			t.Errorf("the copy: %s: %s", doc.State, doc.Reason)
		}
		drop(t, d, "resend.csv", resent)
		doc := waitFinalReceipt(t, d, "F0000004", 60*time.Second).Documents[0]
		if doc.State != api.DocDelivered || !hasRule(doc, "MK-DUPLICATE", "warning") {
			t.Errorf("the resend: %s: %s %+v", doc.State, doc.Reason, doc.Problems)
		}
		detail, _ := receipts.Detail(d.store, doc.ID)
		if !eventSays(detail.Events, "sent again as the input asks (resend)") {
			t.Errorf("the resend's history does not say why: %+v", detail.Events)
		}
		if n := len(outboxFiles(t, d)["email"]); n != 2 {
			t.Errorf("%d e-mails, want 2: the invoice and its resend", n)
		}
	})
	t.Run("warn", func(t *testing.T) {
		d := startTestDaemon(t, func(c *config.Config) { c.Tenants[0].Duplicates = config.DuplicatesWarn }, nil)
		drop(t, d, "inv.csv", invoice)
		waitFinalReceipt(t, d, "F0000001", 60*time.Second)
		drop(t, d, "again.csv", windows1252CRLF(t, invoice))
		doc := waitFinalReceipt(t, d, "F0000002", 60*time.Second).Documents[0]
		if doc.State != api.DocDelivered || !hasRule(doc, "MK-DUPLICATE", "warning") {
			t.Fatalf("the copy under warn: %s: %s %+v", doc.State, doc.Reason, doc.Problems)
		}
		for _, p := range doc.Problems {
			if p.Rule == "MK-DUPLICATE" && !strings.Contains(p.Message, `in file "inv.csv" (F0000001) as document F0000001-0000000`) {
				t.Errorf("the warning does not name the first: %s", p.Message)
			}
		}
		if n := len(outboxFiles(t, d)["email"]); n != 2 {
			t.Errorf("%d e-mails, want 2", n)
		}
	})
}

func eventSays(events []api.Event, s string) bool {
	for _, e := range events {
		if strings.Contains(e.Reason, s) {
			return true
		}
	}
	return false
}

// An invoice whose payment AutoGiro collects is never collected twice: a
// copy marked resend is refused and points at `docs resend`, which
// delivers the invoice again without a second withdrawal.
func TestCollectedInvoiceIsResentWithoutASecondWithdrawal(t *testing.T) {
	advice, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "medav.txt", advice)
	waitFinalReceipt(t, d, "F0000001", 60*time.Second)
	// Payer 101 has an active mandate in Bankgirot's example advice.
	body := bytes.Replace(emailBatch(t, 1), []byte(";;;;;;;;;;30 dagar netto;"), []byte(";;;;;101;;;;;30 dagar netto;"), -1)
	drop(t, d, "ag.csv", body)
	first := waitFinalReceipt(t, d, "F0000002", 60*time.Second).Documents[0]
	if c := first.Collection; c == nil || c.State != api.PaymentScheduled || !c.AtBank {
		t.Fatalf("the invoice is not collected: %+v", first.Collection)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	for i := range lines {
		lines[i] += map[bool]string{true: ";resend", false: ";yes"}[i == 0]
	}
	drop(t, d, "ag-resend.csv", []byte(strings.Join(lines, "\n")+"\n"))
	doc := waitFinalReceipt(t, d, "F0000003", 60*time.Second).Documents[0]
	if doc.State != api.DocRejected || !strings.Contains(doc.Reason, "collected by autogiro") || !strings.Contains(doc.Reason, "multikanal docs resend "+first.ID) {
		t.Errorf("a resend of a collected invoice: %s: %s", doc.State, doc.Reason)
	}
	payments := func() int {
		n, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "autogiro", "BFEP.IAG*"))
		return len(n)
	}
	if payments() != 1 {
		t.Fatalf("%d payment files, want 1", payments())
	}
	if _, err := d.engine.Resend(first.ID, "test", "the payer lost the e-mail"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		r, _ := receipts.Build(d.store, "F0000002")
		return r != nil && r.Final && r.Documents[0].State == api.DocDelivered
	})
	if n := len(outboxFiles(t, d)["email"]); n != 2 || payments() != 1 {
		t.Errorf("after docs resend: %d e-mails (want 2) and %d payment files (want 1)", n, payments())
	}
}

// `docs resend` over the API: the document is delivered again under a new
// delivery id, so its spool file (and a receiver's idempotency key) is new;
// who asked and why are in its history. Only delivered or dead documents
// are resent, and only with a reason.
func TestResendAPI(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "inv.csv", exampleInvoices(t, "2025-1002"))
	doc := waitFinalReceipt(t, d, "F0000001", 60*time.Second).Documents[0]
	srv := httptest.NewServer(d.httpapi.Routes())
	defer srv.Close()
	post := func(id, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/api/v1/docs/"+id+"/resend", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, msg := post(doc.ID, `{}`); code != http.StatusBadRequest || !strings.Contains(msg, "say why") {
		t.Errorf("without a reason: %d %s", code, msg)
	}
	if code, msg := post("F0000009-0000000", `{"reason": "x"}`); code != http.StatusNotFound {
		t.Errorf("unknown document: %d %s", code, msg)
	}
	code, msg := post(doc.ID, `{"reason": "the buyer says it never arrived", "by": "anna"}`)
	if code != http.StatusOK {
		t.Fatalf("resend: %d %s", code, msg)
	}
	var got store.Doc
	json.Unmarshal([]byte(msg), &got)
	if got.Resends != 1 {
		t.Errorf("resend answer %+v", got)
	}
	waitUntil(t, func() bool {
		r, _ := receipts.Build(d.store, "F0000001")
		return r != nil && r.Final && r.Documents[0].State == api.DocDelivered
	})
	mails := outboxFiles(t, d)["email"]
	if len(mails) != 2 || !slices.Contains(mails, doc.ID+".email.eml") || !slices.Contains(mails, doc.ID+"-r1.email.eml") {
		t.Errorf("e-mails in the outbox: %v, want the first and the resend under its own key", mails)
	}
	detail, err := receipts.Detail(d.store, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !eventSays(detail.Events, "resend 1 requested by anna (unauthenticated from ") || !eventSays(detail.Events, "): the buyer says it never arrived") {
		t.Errorf("history: %+v", detail.Events)
	}
	if len(detail.Deliveries) != 2 || detail.Deliveries[1].ID != doc.ID+"-r1.email" || detail.Deliveries[1].State != string(store.DeliveryDelivered) {
		t.Errorf("deliveries: %+v", detail.Deliveries)
	}

	// A refused copy is not resent: it never went out, the first did.
	drop(t, d, "again.csv", windows1252CRLF(t, exampleInvoices(t, "2025-1002")))
	dup := waitFinalReceipt(t, d, "F0000002", 60*time.Second).Documents[0]
	if code, msg := post(dup.ID, `{"reason": "x"}`); code != http.StatusConflict || !strings.Contains(msg, "only delivered and dead documents can be resent") {
		t.Errorf("resend of a rejected document: %d %s", code, msg)
	}
}
