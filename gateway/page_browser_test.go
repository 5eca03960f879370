package gateway

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The invoice page in headless chromium, at a phone's width and a
// desktop's: on the phone the Swish button opens the app and the QR code
// is hidden; on the desktop the QR code shows and the button is hidden.
// Both widths fit without sideways scrolling, the page declares its
// language, every image has a text alternative, and no script runs.
// Screenshots land in the test's temp dir and, when
// MULTIKANAL_PAGE_SCREENSHOTS names a folder, there too (docs/img).
func TestInvoicePageInBrowser(t *testing.T) {
	browser := chromium(t)
	_, dl := pageDaemon(t, nil)
	eml, err := os.ReadFile(dl.Ref)
	if err != nil {
		t.Fatal(err)
	}
	link := pageLink(t, eml)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()

	out := []string{t.TempDir()}
	if dir := os.Getenv("MULTIKANAL_PAGE_SCREENSHOTS"); dir != "" {
		out = append(out, dir)
	}
	for _, c := range []struct {
		name          string
		width, height int64
		mobile        bool
		qr, app       bool
	}{
		{"phone", 390, 844, true, false, true},
		{"desktop", 1280, 900, false, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			view := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if c.mobile {
				view = append(view, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(c.width, c.height, view...), chromedp.Navigate(link),
				chromedp.WaitVisible(chromedp.ID("amount"))); err != nil {
				t.Fatalf("chromium: %v", err)
			}
			eval := func(js string) bool {
				t.Helper()
				v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
				if err != nil {
					t.Fatalf("chromium: %s: %v", js, err)
				}
				return v
			}
			qrShown := eval(`getComputedStyle(document.querySelector("#swish-qr")).display !== "none"`)
			appShown := eval(`getComputedStyle(document.querySelector("#swish-app").parentElement).display !== "none"`)
			fits := eval(`document.documentElement.scrollWidth <= window.innerWidth`)
			allAlt := eval(`[...document.images].every(i => i.alt.trim() !== "" && i.complete && i.naturalWidth > 0)`)
			lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
			scripts, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`))
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("chromium: screenshot: %v", err)
			}
			if qrShown != c.qr || appShown != c.app {
				t.Errorf("QR code shown %v (want %v), Swish app button shown %v (want %v)", qrShown, c.qr, appShown, c.app)
			}
			if !fits {
				t.Error("the page scrolls sideways")
			}
			if !allAlt {
				t.Error("an image has no text alternative or did not load")
			}
			if lang != "sv" || scripts != 0 {
				t.Errorf("lang %q, %d scripts", lang, scripts)
			}
			for _, dir := range out {
				if err := os.WriteFile(filepath.Join(dir, "invoice-page-"+c.name+".png"), shot, 0o644); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
