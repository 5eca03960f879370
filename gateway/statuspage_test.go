package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// chromium finds Debian's chromium, or skips: the browser test needs a real
// browser (`apt-get install chromium`; `.ci/run` installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (apt-get install chromium): skipping the status page browser test")
	return ""
}

// TestStatusPageInBrowser renders the status page of a daemon that
// delivered one invoice and rejected one file, in headless chromium, and
// checks what an operator would read. The screenshot lands in the test's
// temp dir and, when MULTIKANAL_SCREENSHOT names a file, there too.
func TestStatusPageInBrowser(t *testing.T) {
	browser := chromium(t)
	d, _ := runDaemon(t, map[string]*fakeTransport{"peppol": {}}, "base-example.xml")
	finalDoc(t, d)
	if err := os.WriteFile(filepath.Join(d.inboxDir("demo"), "scan.pdf"), []byte("%PDF-1.4\n% not an invoice\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		rc, err := receipts.Build(d.store, "F0000002")
		return err == nil && rc.Final
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.statusPage)
	mux.Handle("/", d.httpHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Without network, chromium waits on its own background connections
	// (updates, sync, QUIC probes); these flags keep it from trying.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("channels"))); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	// read runs one query and fails the test on error, naming what it read.
	read := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("chromium: reading %s: %v", what, err)
		}
		return v
	}
	title := read("the title", chromedp.Title())
	tiles := read("the tiles", chromedp.Text(chromedp.CSS(".tiles")))
	channels := read("the channels", chromedp.Text(chromedp.ID("channels")))
	files := read("the files", chromedp.Text(chromedp.ID("files")))
	stuck := read("needs attention", chromedp.Text(chromedp.CSS("#h-stuck + *")))
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#files a[href$="/receipt"]`), "href"))
	if err != nil {
		t.Fatalf("chromium: reading the receipt link: %v", err)
	}
	receiptHref := link.Value
	// Charts that drew at least one bar; -1 when none did.
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect:not(.hit)").length > 0 ? document.querySelectorAll("svg.chart").length : -1`))
	if err != nil {
		t.Fatalf("chromium: counting charts: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	shot := filepath.Join(t.TempDir(), "status.png")
	for _, p := range []string{shot, os.Getenv("MULTIKANAL_SCREENSHOT")} {
		if p == "" {
			continue
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Errorf("saving the screenshot: %v", err)
		}
	}
	t.Logf("screenshot: %s", shot)

	if title != "Multikanal status" {
		t.Errorf("title %q", title)
	}
	if !strings.Contains(tiles, "1\nDelivered") && !strings.Contains(tiles, "1 Delivered") {
		t.Errorf("the delivered tile does not say 1:\n%s", tiles)
	}
	if !strings.Contains(channels, "peppol") {
		t.Errorf("channel table without peppol:\n%s", channels)
	}
	for _, want := range []string{"base-example.xml", "scan.pdf", string(store.FileRejected), "1 / 1"} {
		if !strings.Contains(files, want) {
			t.Errorf("recent files lack %q:\n%s", want, files)
		}
	}
	if !strings.Contains(stuck, "Nothing is stuck") {
		t.Errorf("needs attention: %q", stuck)
	}
	if !strings.HasSuffix(receiptHref, "/api/v1/files/F0000002/receipt") {
		t.Errorf("first receipt link %q, want the newest file's", receiptHref)
	}
	if charts != 3 {
		t.Errorf("%d charts with bars, want 3 (-1: no bars drawn)", charts)
	}

	// The link works: it is the receipt API's own route.
	resp, err := http.Get(srv.URL + receiptHref)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("receipt link: %s", resp.Status)
	}
}

// TestStatusPageHourly checks the 24 h series against a store with one
// delivered invoice and one rejected file.
func TestStatusPageHourly(t *testing.T) {
	d, _ := runDaemon(t, map[string]*fakeTransport{"peppol": {}}, "base-example.xml")
	finalDoc(t, d)
	hs, err := d.hourly(time.Now().Add(-(chartHours - 1) * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	last := hs.Hours - 1
	if hs.Hours != chartHours || hs.Files[last] != 1 || hs.Delivered["peppol"][last] != 1 {
		t.Errorf("hours %d, files %v, delivered %v", hs.Hours, hs.Files, hs.Delivered)
	}
	if len(hs.Recent) != 1 || hs.Recent[0].Delivered() != 1 {
		t.Errorf("recent %+v", hs.Recent)
	}
	rec := httptest.NewRecorder()
	d.statusPage(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("status %d, headers %v", rec.Code, rec.Header())
	}
	body := rec.Body.String()
	for _, ref := range []string{`src="http`, `href="http`, `href="//`, `url(http`, `url(//`, "<script"} {
		if strings.Contains(body, ref) {
			t.Errorf("the page holds %s: it must fetch nothing and need no script", ref)
		}
	}
}

// The status reads only what it shows: the counts per file state, the open
// files, and the newest files back to the start of the series. A store
// with many older files gives the same page.
func TestStatusReadsTheNewestFiles(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	now := time.Now().UTC()
	err := d.store.Update(func(tx store.Tx) error {
		for i := 1; i <= 40; i++ {
			// Older files are large: their documents are not read.
			f := &store.File{ID: fmt.Sprintf("F%07d", i), Tenant: "demo", Name: fmt.Sprintf("old-%d.csv", i),
				ReceivedAt: now.Add(-72 * time.Hour), State: store.FileParsed, Final: true, Docs: maxOlderFileDocs + 1}
			switch {
			case i > 37: // the last three arrived within the series
				f.ReceivedAt = now.Add(-time.Duration(41-i) * time.Hour)
			case i%10 == 0:
				f.State = store.FileRejected
			}
			if i == 39 {
				f.Final = false // still being delivered
			}
			if err := tx.PutFile(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Files[store.FileParsed] != 37 || st.Files[store.FileRejected] != 3 || st.FilesOpen != 1 {
		t.Errorf("files %v, %d open; want 37 parsed, 3 rejected, 1 open", st.Files, st.FilesOpen)
	}
	hs, err := d.hourly(now.Add(-(chartHours - 1) * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs.Recent) != maxRecentFiles || hs.Recent[0].ID != "F0000040" || hs.Recent[maxRecentFiles-1].ID != "F0000026" {
		t.Fatalf("recent files: %d, from %s to %s; want %d from F0000040 to F0000026", len(hs.Recent),
			hs.Recent[0].ID, hs.Recent[len(hs.Recent)-1].ID, maxRecentFiles)
	}
	inSeries := 0
	for _, n := range hs.Files {
		inSeries += n
	}
	if inSeries != 3 || hs.Recent[2].Docs == nil || hs.Recent[3].Docs != nil {
		t.Errorf("%d files in the series, want the 3 newest (only their documents read)", inSeries)
	}
}
