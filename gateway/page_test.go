package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// pageDaemon runs the embedded default with its public listener on and
// sends one invoice by e-mail (the buyer has an e-mail address and a
// postal address, so paper is its next channel).
func pageDaemon(t *testing.T, mutate func(*config.Config)) (*Daemon, *store.Delivery) {
	t.Helper()
	body := emailBatch(t, 1)
	body = setColumn(t, body, "buyer_street", "Storgatan 1")
	body = setColumn(t, body, "buyer_postal_code", "111 22")
	body = setColumn(t, body, "buyer_city", "Stockholm")
	d := startTestDaemon(t, func(c *config.Config) {
		c.Public.Listen = "127.0.0.1:0"
		if mutate != nil {
			mutate(c)
		}
	}, nil)
	drop(t, d, "mail.csv", body)
	var dl *store.Delivery
	waitUntil(t, func() bool {
		d.store.View(func(tx store.Tx) (err error) {
			dl, err = tx.Delivery(store.DeliveryID("F0000001-0000000", "email"))
			return err
		})
		return dl != nil && dl.State == store.DeliveryDelivered
	})
	return d, dl
}

// pageLink is the invoice page's link in a spooled e-mail.
func pageLink(t *testing.T, eml []byte) string {
	t.Helper()
	m := regexp.MustCompile(`http://127\.0\.0\.1:\d+/i/\S+`).Find(qpDecode(eml))
	if m == nil {
		t.Fatalf("the e-mail carries no link to the invoice page:\n%s", eml)
	}
	return string(m)
}

// qpDecode undoes quoted-printable soft line breaks and =3D, enough to
// read a link out of the text part.
func qpDecode(b []byte) []byte {
	s := strings.ReplaceAll(string(b), "=\r\n", "")
	s = strings.ReplaceAll(s, "=\n", "")
	return []byte(strings.ReplaceAll(s, "=3D", "="))
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// On the embedded default, an e-mailed invoice's .eml links to its page,
// which loads (200) with the amount and a Swish QR code, offers its PDF
// (whose Swish code zbar scans back to the tenant's number and the
// amount), and records the visit as "opened" in the document's history
// and on the delivery. A link with another signature is 404; an expired
// one 410.
func TestInvoicePageOpened(t *testing.T) {
	d, dl := pageDaemon(t, nil)
	eml, err := os.ReadFile(dl.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(eml), "application/pdf") {
		t.Error("attach = true: the e-mail should carry the PDF beside the link")
	}
	link := pageLink(t, eml)
	code, page, h := get(t, link)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", link, code, page)
	}
	for _, want := range []string{`lang="sv"`, "Att betala: 1\u00a0353,79 SEK", `<img src="data:image/svg&#43;xml;base64,`, "Swish 123 118 11 89", "swish://payment?data=", "991-2346", "2025100203", "Demo AB"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if strings.Contains(page, "<script") {
		t.Error("the page has a script")
	}

	var after *store.Delivery
	var events []store.Event
	d.store.View(func(tx store.Tx) (err error) {
		if after, err = tx.Delivery(dl.ID); err != nil {
			return err
		}
		events, err = tx.Events(dl.DocID)
		return err
	})
	if after.Opened.IsZero() {
		t.Error("the delivery does not say it was opened")
	}
	opened := 0
	for _, e := range events {
		if strings.HasPrefix(e.Reason, "opened:") {
			opened++
		}
	}
	get(t, link) // a second visit is not a second opening
	d.store.View(func(tx store.Tx) (err error) { events, err = tx.Events(dl.DocID); return err })
	again := 0
	for _, e := range events {
		if strings.HasPrefix(e.Reason, "opened:") {
			again++
		}
	}
	if opened != 1 || again != 1 {
		t.Errorf("opened events: %d after the first visit, %d after the second", opened, again)
	}
	detail, err := receipts.Detail(d.store, dl.DocID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(eventReasons(detail.Events), "\n"), "opened: the recipient opened the invoice page") {
		t.Errorf("docs show does not say opened: %+v", detail.Events)
	}

	if detail.Doc.Opened.IsZero() {
		t.Error("docs show has no opened time")
	}
	if r, err := receipts.Build(d.store, "F0000001"); err != nil || r.Documents[0].Opened.IsZero() {
		t.Errorf("the receipt does not say opened (%v)", err)
	}

	rec := httptest.NewRecorder()
	d.httpapi.Routes().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "1 opened") {
		t.Errorf("the status page does not say the invoice was opened")
	}

	code, pdf, h := get(t, link+"/faktura.pdf")
	if code != http.StatusOK || !strings.HasPrefix(pdf, "%PDF") || h.Get("Content-Type") != "application/pdf" {
		t.Fatalf("the page's PDF: %d %q", code, h.Get("Content-Type"))
	}
	if codes := zbarPDF(t, []byte(pdf)); len(codes) != 1 || codes[0] != "C1231181189;1353,79;2025100203;0" {
		t.Errorf("zbar reads %q from the page's PDF", codes)
	}

	forged := link[:len(link)-4] + "AAAA"
	if code, _, _ := get(t, forged); code != http.StatusNotFound {
		t.Errorf("a forged link: %d, want 404", code)
	}
	other := strings.Replace(link, "F0000001-0000000.email", "F0000001-0000001.email", 1)
	if code, _, _ := get(t, other); code != http.StatusNotFound {
		t.Errorf("another delivery's link with this signature: %d, want 404", code)
	}
	if code, _, _ := get(t, d.httpapi.PageURL(dl.ID, time.Now().Add(-time.Minute))); code != http.StatusGone {
		t.Errorf("an expired link: %d, want 410", code)
	}
}

func eventReasons(events []api.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

// An e-mail whose page is not opened within page.not_opened falls back to
// the next channel, the letter, with the reason in the receipt.
func TestNotOpenedFallsBack(t *testing.T) {
	d, _ := pageDaemon(t, func(c *config.Config) {
		c.Tenant("demo").Page.NotOpened = map[string]config.Duration{"email": config.Duration(300 * time.Millisecond)}
	})
	var doc *store.Doc
	waitUntil(t, func() bool {
		d.store.View(func(tx store.Tx) (err error) { doc, err = tx.Doc("F0000001-0000000"); return err })
		return doc.Channel == "print" && doc.State == store.DocDelivered
	})
	r, err := receipts.Build(d.store, "F0000001")
	if err != nil {
		t.Fatal(err)
	}
	if why := r.Documents[0].Reason; !strings.Contains(why, "not opened: the recipient did not open the invoice page within 300ms") {
		t.Errorf("the receipt's reason: %q", why)
	}
}

// zbarPDF scans the QR codes of a PDF's first page.
func zbarPDF(t *testing.T, pdf []byte) []string {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (poppler-utils, zbar-tools)", tool)
		}
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, pdf, 0o644)
	if out, err := exec.Command("pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	out, _ := exec.Command("zbarimg", "--quiet", "--raw", pages[0]).Output()
	return strings.Fields(string(out))
}
