package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// deadFile drops a file of two invoices forced to e-mail without an
// address: both end dead, and the file final (out of the open files,
// where status used to look for failures).
func deadFile(t *testing.T, d *Daemon, name string) string {
	t.Helper()
	drop(t, d, name, setColumn(t, exampleBatch(t, "2025-1001", 2), "channel", "email"))
	var id string
	waitUntil(t, func() bool {
		docs, err := receipts.Docs(d.store, receipts.DocFilter{State: string(store.DocDead)})
		for _, doc := range docs {
			if r, _ := receipts.Build(d.store, doc.FileID); r != nil && r.File == name && r.Final {
				id = doc.FileID
			}
		}
		return err == nil && id != ""
	})
	waitUntil(t, func() bool { return fileFinal(d, id) })
	return id
}

// page renders the status page.
func page(t *testing.T, d *Daemon) string {
	t.Helper()
	rec := httptest.NewRecorder()
	d.httpapi.Routes().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status page: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// ack posts an acknowledgement to the API as a client would.
func ack(t *testing.T, h http.Handler, id, contentType, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/docs/"+id+"/ack", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// A dead document needs attention, on the page and in the status, after
// its file is final and until it is retried or acknowledged; the file of
// two dead invoices reads "2 dead", not a green "parsed". The
// acknowledgement is an explicit action, JSON only, with who and why in
// the document's history.
func TestDeadNeedsAttentionUntilAcknowledged(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	fileID := deadFile(t, d, "dead.csv")
	drop(t, d, "fine.csv", exampleInvoices(t, "2025-1003"))
	waitFinalReceipt(t, d, "F0000002", 20*time.Second)
	doc0, doc1 := fileID+"-0000000", fileID+"-0000001"

	st, err := d.httpapi.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents[api.DocDead] != 2 || st.NeedsAttention != 2 || len(st.Failures) != 2 || st.DeadAcknowledged != 0 {
		t.Fatalf("status: %d dead, %d need attention, failures %+v, %d acknowledged; want 2, 2, both, 0",
			st.Documents[api.DocDead], st.NeedsAttention, st.Failures, st.DeadAcknowledged)
	}
	html := page(t, d)
	for _, want := range []string{doc0, doc1, `<span class="state dead">2 dead</span>`, `<span class="state delivered">1 delivered</span>`} {
		if !strings.Contains(html, want) {
			t.Errorf("the status page lacks %s", want)
		}
	}
	for _, not := range []string{"Nothing is stuck", `<span class="state parsed">parsed</span>`} {
		if strings.Contains(html, not) {
			t.Errorf("the status page says %s beside 2 dead documents", not)
		}
	}
	if !regexp.MustCompile(`<div class="tile bad"><span class="n">2</span><span class="l">Dead</span>`).MatchString(html) {
		t.Error("the Dead tile is not in the attention colour")
	}

	h := d.httpapi.Routes()
	for _, c := range []struct {
		id, ctype, body string
		code            int
		err             string
	}{
		{doc0, "text/plain", `{"by":"eve","why":"cross-site"}`, http.StatusUnsupportedMediaType, "must be JSON"},
		{doc0, "application/x-www-form-urlencoded", `by=eve&why=x`, http.StatusUnsupportedMediaType, "must be JSON"},
		{doc0, "application/json", `{"by":"ops"}`, http.StatusBadRequest, "why"},
		{doc0, "application/json", `{"by":"ops","why":"x","extra":1}`, http.StatusBadRequest, "unknown field"},
		{doc0, "application/json", `{"by":"ops","why":"two\nlines"}`, http.StatusBadRequest, "control characters"},
		{fileID + "-0000009", "application/json", `{"by":"ops","why":"x"}`, http.StatusNotFound, "not found"},
		{"F0000002-0000000", "application/json", `{"by":"ops","why":"x"}`, http.StatusConflict, "only dead documents"},
	} {
		if code, body := ack(t, h, c.id, c.ctype, c.body); code != c.code || !strings.Contains(body, c.err) {
			t.Errorf("ack %s %s %s: %d %s, want %d with %q", c.id, c.ctype, c.body, code, body, c.code, c.err)
		}
	}
	code, body := ack(t, h, doc0, "application/json; charset=utf-8", `{"by":"ops","why":"the customer paid at the counter"}`)
	var acked store.Doc
	if json.Unmarshal([]byte(body), &acked); code != http.StatusOK || acked.Ack == nil || !strings.HasPrefix(acked.Ack.By, "ops (unauthenticated from ") {
		t.Fatalf("ack: %d %s", code, body)
	}
	if code, body := ack(t, h, doc0, "application/json", `{"by":"ops","why":"again"}`); code != http.StatusConflict || !strings.Contains(body, "acknowledged by ops") {
		t.Errorf("second ack: %d %s", code, body)
	}
	detail, _ := receipts.Detail(d.store, doc0)
	// Who acknowledged is the name the client gave and the identity its
	// request was authenticated as (this handler is tested without the
	// guard, so: unauthenticated).
	if last := detail.Events[len(detail.Events)-1]; !strings.HasPrefix(last.Reason, "acknowledged by ops (unauthenticated from ") ||
		!strings.HasSuffix(last.Reason, "): the customer paid at the counter") || last.State != api.DocDead {
		t.Errorf("history ends with %+v, want the acknowledgement", last)
	}
	st, _ = d.httpapi.Status()
	if st.NeedsAttention != 1 || len(st.Failures) != 1 || st.Failures[0].Doc != doc1 || st.DeadAcknowledged != 1 {
		t.Errorf("after one ack: %d need attention %+v, %d acknowledged", st.NeedsAttention, st.Failures, st.DeadAcknowledged)
	}

	if _, err := d.engine.Ack(doc1, "ops", "sent by hand"); err != nil {
		t.Fatal(err)
	}
	html = page(t, d)
	if !strings.Contains(html, "Nothing is stuck") || !strings.Contains(html, "2 dead acknowledged") || strings.Contains(html, `tile bad`) {
		t.Errorf("with every dead document acknowledged the page does not say so calmly")
	}

	// A retry clears the acknowledgement: dead again, it needs attention
	// again.
	if _, err := d.engine.Retry(doc0); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		st, err := d.httpapi.Status()
		return err == nil && st.NeedsAttention == 1 && len(st.Failures) == 1 && st.Failures[0].Doc == doc0
	})
}

// A recent file older than the chart's window still tells what its
// documents are when it is small.
func TestOlderRecentFileTellsItsDocuments(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	fileID := deadFile(t, d, "old.csv")
	err := d.store.Update(func(tx store.Tx) error {
		f, err := tx.File(fileID)
		if err != nil {
			return err
		}
		f.ReceivedAt = f.ReceivedAt.Add(-72 * time.Hour)
		return tx.PutFile(f)
	})
	if err != nil {
		t.Fatal(err)
	}
	if html := page(t, d); !strings.Contains(html, `<span class="state dead">2 dead</span>`) {
		t.Error("a file of two dead invoices from three days ago does not say 2 dead")
	}
}
