package gateway

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/hooks"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// letterPDF is a real one-page PDF that says what it is.
func letterPDF(t *testing.T, text string) []byte {
	t.Helper()
	r, err := pdf.NewRenderer(pdf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	doc := &formats.Document{Number: "L-1", Currency: "SEK", Seller: formats.Party{Name: "Demo AB"}, Buyer: formats.Party{Name: "Lisa"},
		Notes: []string{text}}
	if err := r.Render(&b, doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipOf(t *testing.T, files ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		w, _ := zw.Create(files[i].(string))
		w.Write(files[i+1].([]byte))
	}
	zw.Close()
	return b.Bytes()
}

// A letter, a notice and a statement dropped as PDFs with an index: each
// reaches the outbox of its recipient's channel (e-mail with the PDF
// attached, Kivra as a letter, print in the batch with its attachment as
// an insert); e-faktura and Peppol are passed over with the reason; a
// channel constraint is kept. On the old code the ZIP was read as UBL and
// every entry rejected.
func TestLettersReachTheirChannels(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	main, terms := letterPDF(t, "Nya priser"), letterPDF(t, "Villkor")
	index := "file;kind;subject;number;name;personal_id;peppol_id;email;street;postal_code;city;channels;attachments\n" +
		"a.pdf;letter;Välkommen som kund;B-1;Lisa Andersson;;0007:5567432108;lisa@example.se;;;;;\n" +
		"b.pdf;notice;Nya priser från 1 januari;N-1;Per Persson;;;per@example.se;Storgatan 1;111 22;Stockholm;print;villkor.pdf\n"
	drop(t, d, "letters.zip", zipOf(t, "index.csv", []byte(index), "a.pdf", main, "b.pdf", main, "villkor.pdf", terms))
	var r *api.Receipt
	waitUntil(t, func() bool {
		var err error
		r, err = receipts.Build(d.store, fileID(1))
		return err == nil && r.Final
	})
	if r.Format != "letters" || len(r.Documents) != 2 {
		t.Fatalf("receipt: format %q, %+v", r.Format, r.Documents)
	}
	a, b := r.Documents[0], r.Documents[1]
	if a.State != api.DocDelivered || a.Channel != "email" || a.Kind != formats.KindLetter {
		t.Errorf("the letter: %s on %q (%s)", a.State, a.Channel, a.Reason)
	}
	if !strings.Contains(a.Route[0].Reason, "does not carry documents of kind letter") || !strings.Contains(a.Route[1].Reason, "does not carry documents of kind letter") {
		t.Errorf("peppol and e-faktura: %+v", a.Route[:2])
	}
	if b.State != api.DocDelivered || b.Channel != "print" || !strings.Contains(b.Route[3].Reason, "not among the channels the input allows") {
		t.Errorf("the notice, kept to print: %s on %q, route %+v", b.State, b.Channel, b.Route)
	}
	eml, err := os.ReadFile(filepath.Join(d.dataDir, "outbox", "email", a.ID+".email.eml"))
	if err != nil {
		files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "email", "*"))
		t.Fatalf("the letter's e-mail: %v (%v)", err, files)
	}
	text := string(eml)
	for _, want := range []string{"Subject: =?utf-8?q?V=C3=A4lkommen_som_kund", "brev-B-1.pdf", base64.StdEncoding.EncodeToString(main)[:60]} {
		if !strings.Contains(text, want) {
			t.Errorf("the letter's e-mail lacks %q", want)
		}
	}
	zips, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "print", "*.zip"))
	if len(zips) != 1 {
		t.Fatalf("print batches: %v", zips)
	}
	zr, err := zip.OpenReader(zips[0])
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		got[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	if !bytes.Equal(got["0001-N-1.pdf"], main) || !bytes.Equal(got["0001-N-1-bilaga-1.pdf"], terms) ||
		!strings.Contains(string(got["manifest.json"]), `"inserts": [`) {
		t.Errorf("the print batch: %v", keysOf(got))
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Every event of the tenant's log is posted to its webhook, signed with
// HMAC-SHA256 over the timestamp and the body, in order; a failed post is
// retried; the ERP pages through the same log over the API with its own
// token (not another tenant's), and a replay posts again. On the old
// code there was no log and no webhook.
func TestWebhookPostsSignedEvents(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	var mu sync.Mutex
	var got []api.ERPEvent
	fails := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get(hooks.HeaderSignature)
		ts, v1, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
		m := hmac.New(sha256.New, key)
		m.Write([]byte(ts + "."))
		m.Write(body)
		if !hmac.Equal([]byte(v1), []byte(hex.EncodeToString(m.Sum(nil)))) {
			t.Errorf("bad signature %q", sig)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var e api.ERPEvent
		json.Unmarshal(body, &e)
		if r.Header.Get(hooks.HeaderEvent) != e.Type {
			t.Errorf("event header %q, body %q", r.Header.Get(hooks.HeaderEvent), e.Type)
		}
		got = append(got, e)
	}))
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hook.key"), key, 0o600)
	os.WriteFile(filepath.Join(dir, "api.token"), []byte("tenant-token-0123456789"), 0o600)
	b := newBank(t, func(c *config.Config) {
		c.Tenants[0].Webhook = &config.Webhook{URL: srv.URL, SecretFile: filepath.Join(dir, "hook.key"), Timeout: config.Duration(5 * time.Second),
			MaxAge: config.Duration(time.Hour)}
		c.Tenants[0].API = &config.TenantAPI{TokenFile: filepath.Join(dir, "api.token")}
		c.HTTP.Listen = "127.0.0.1:0"
		other := c.Tenants[0]
		other.ID, other.API, other.Webhook = "other", nil, nil
		c.Tenants = append(c.Tenants, other)
	})
	b.drop("inv.csv", invoicesCSV(t, inv{number: "2025-9901", ocr: "990100", due: inDays(10)}), nil)
	b.applied("bgmax.txt", bgMaxFile(formats.DateOf(time.Now()), 41, [2]any{ocrOf("990100"), int64(135379)}))
	types := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, e := range got {
			out = append(out, e.Type)
		}
		return out
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.Join(types(), ",") != "delivered,paid" {
		if time.Now().After(deadline) {
			page, _ := b.d.hooks.Page("demo", 0, 10)
			t.Fatalf("posted %v; the log %+v", types(), page)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if e := got[1]; e.Number != "2025-9901" || e.State != string(store.PaymentPaid) || got[0].Seq >= e.Seq || got[0].Channel != "email" {
		t.Errorf("events: %+v", got)
	}
	mu.Unlock()
	// The poster records a post once the ERP answered it, after the
	// server above saw it: wait for the record.
	var page *api.EventPage
	var err error
	recorded := func() bool {
		page, err = b.d.hooks.Page("demo", 0, 10)
		return err == nil && len(page.Events) == 2 && page.Events[1].Hook != nil && !page.Events[1].Hook.Delivered.IsZero()
	}
	for deadline := time.Now().Add(20 * time.Second); !recorded() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || len(page.Events) != 2 || page.Events[0].Hook == nil || page.Events[0].Hook.Attempts != 2 || page.Events[0].Hook.Delivered.IsZero() {
		t.Fatalf("the log: %v %+v", err, page)
	}
	// The ERP reads its log with its own token, and no other tenant's.
	addr, _, _ := b.d.httpapi.Addrs()
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/api/v1/tenants/demo/events?after=1", "tenant-token-0123456789", http.StatusOK},
		{"/api/v1/tenants/other/events", "tenant-token-0123456789", http.StatusUnauthorized},
		{"/api/v1/tenants/demo/reminders", "tenant-token-0123456789", http.StatusUnauthorized},
		{"/api/v1/tenants/demo/events", "wrong", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest("GET", "http://"+addr+c.path, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p api.EventPage
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != c.want || c.want == http.StatusOK && (len(p.Events) != 1 || p.Events[0].Type != "paid") {
			t.Errorf("GET %s with %s: %d %+v, want %d", c.path, c.token, resp.StatusCode, p, c.want)
		}
	}
	// The distribution overview, as CSV, with the tenant's token: one
	// e-mail this month at the demo's price, all digital.
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/tenants/demo/overview?format=csv", nil)
	req.Header.Set("Authorization", "Bearer tenant-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := time.Now().Format("2006-01") + ";email;1;0.10;1;0;100.0;"; resp.StatusCode != http.StatusOK || !strings.Contains(string(csvBody), want) {
		t.Errorf("overview: %d\n%s\nwant a row %q", resp.StatusCode, csvBody, want)
	}
	if err := b.d.hooks.Replay("demo", 0); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return len(types()) == 4 })
}
