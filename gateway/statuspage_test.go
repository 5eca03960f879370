package gateway

import (
	"context"
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
	mux.Handle("/", d.httpapi.Routes())
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
