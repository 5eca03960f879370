package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The attacks as a browser runs them: the operator is logged in to the
// status page; a page on another port of the same host (the same site to
// the browser, so even a SameSite=Strict cookie goes along) posts a
// registration with fetch(..., {mode: "no-cors"}) as text/plain, queues a
// mandate order the same way, and submits a text/plain form shaped as a
// registration file. None of it reaches the store. The page's own form
// (log out, with its CSRF token) still works.
func TestCrossSiteAttacksInBrowser(t *testing.T) {
	browser := chromium(t)
	d, base, token := operatorDaemon(t, nil)
	code, body := call(t, nil, "POST", base+"/api/v1/login", bearer(token, "Content-Type", "application/json"), "{}")
	if code != http.StatusOK {
		t.Fatal(body)
	}
	var link struct{ URL string }
	json.Unmarshal([]byte(body), &link)

	order := `{"orders":[{"action":"new","payer":"201","account":"3300-1212121212","personal_id":"19121212-1212"}]}`
	recipients := base + "/api/v1/tenants/demo/recipients?name=evil.csv"
	mandates := base + "/api/v1/tenants/demo/autogiro/mandates"
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/fetch":
			fmt.Fprintf(w, `<!doctype html><title>wait</title><script>
Promise.allSettled([
  fetch(%q, {method: "POST", mode: "no-cors", credentials: "include", body: %q}),
  fetch(%q, {method: "POST", mode: "no-cors", credentials: "include", body: %q}),
]).then(() => { document.title = "sent"; });
</script>`, recipients, attackCSV, mandates, order)
		case "/form":
			// text/plain form encoding is name=value: the "=" lands in the
			// e-mail address, where it is a valid character.
			name := "key;channel;address\npnr:198112189876;email;attacker"
			fmt.Fprintf(w, `<!doctype html><title>form</title><form method="post" enctype="text/plain" action="%s">
<input type="hidden" name="%s" value="x@evil.example"></form><script>document.forms[0].submit()</script>`,
				html.EscapeString(recipients), html.EscapeString(name))
		}
	}))
	defer attacker.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()
	// waitFor evaluates a JavaScript condition until it holds: it spans
	// navigations, which a poll inside the page does not survive.
	waitFor := func(what, cond string) {
		t.Helper()
		for range 200 {
			if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText : "")`))
		t.Fatalf("chromium: %s never happened; the page is %q", what, where)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(link.URL), chromedp.WaitVisible(chromedp.ID("channels"))); err != nil {
		t.Fatalf("chromium: the login link: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(attacker.URL+"/fetch")); err != nil {
		t.Fatal(err)
	}
	waitFor("the attacker's fetches", `document.title === "sent"`)
	if err := chromedp.Do(ctx, chromedp.Navigate(attacker.URL+"/form")); err != nil {
		t.Fatal(err)
	}
	waitFor("the attacker's form", fmt.Sprintf(`location.href.startsWith(%q) && document.readyState === "complete"`, base))
	answer, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))

	regs, _ := d.registry.List("demo", false)
	orders, _ := d.collection.ListOrders("demo")
	if len(regs) != 0 || len(orders.Orders) != 0 {
		t.Fatalf("the attacks changed the store: %d registrations, %d mandate orders", len(regs), len(orders.Orders))
	}
	if !strings.Contains(answer, "403") {
		t.Errorf("the form's answer: %q", answer)
	}

	// The session is intact, and the page's own form works.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("channels")),
		chromedp.Click(chromedp.CSS("form.logout button"))); err != nil {
		t.Fatalf("chromium: logging out: %v", err)
	}
	waitFor("the log out", `document.body && document.body.innerText.includes("Logged out")`)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor("the page to ask for a login", `document.body && document.body.innerText.includes("multikanal login")`)
}
