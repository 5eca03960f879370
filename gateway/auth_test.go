package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// operatorDaemon runs a daemon whose operators' listener is on a free
// loopback port, and returns it with its base URL and bearer token.
func operatorDaemon(t *testing.T, mutate func(*config.Config)) (*Daemon, string, string) {
	t.Helper()
	d := startTestDaemon(t, func(c *config.Config) {
		c.HTTP.Listen = "127.0.0.1:0"
		if mutate != nil {
			mutate(c)
		}
	}, nil)
	token, err := os.ReadFile(filepath.Join(d.dataDir, config.TokenName))
	if err != nil {
		t.Fatal(err)
	}
	return d, "http://" + d.info.Load().HTTP, strings.TrimSpace(string(token))
}

// call sends one request and returns the status and body.
func call(t *testing.T, c *http.Client, method, u string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func bearer(token string, more ...string) http.Header {
	h := http.Header{"Authorization": {"Bearer " + token}}
	for i := 0; i+1 < len(more); i += 2 {
		h.Set(more[i], more[i+1])
	}
	return h
}

const attackCSV = "key;channel;address\npnr:198112189876;email;attacker@evil.example\n"

// The attack that worked: a web page anywhere posts text/plain (which
// fetch sends with mode "no-cors", no preflight) to add a registration
// that routes a person's invoices to the attacker, and to queue a mandate
// order. Refused whether or not the operator is logged in, and the
// registry and the orders stay as they were.
func TestCrossOriginPostRefused(t *testing.T) {
	d, base, token := operatorDaemon(t, nil)
	_, client := loggedIn(t, d, base, token)
	recipients := base + "/api/v1/tenants/demo/recipients?name=evil.csv"
	mandates := base + "/api/v1/tenants/demo/autogiro/mandates"
	order := `{"orders":[{"action":"new","payer":"201","account":"3300-1212121212","personal_id":"19121212-1212"}]}`
	for _, c := range []struct {
		name   string
		client *http.Client
		header http.Header
		want   int
	}{
		{"cross-origin, not logged in", nil, http.Header{"Origin": {"http://evil.example"}, "Content-Type": {"text/plain"}}, http.StatusForbidden},
		{"cross-origin, logged in", client, http.Header{"Origin": {"http://evil.example"}, "Content-Type": {"text/plain"}}, http.StatusForbidden},
		{"same-site port, logged in", client, http.Header{"Origin": {"http://localhost:3000"}, "Sec-Fetch-Site": {"same-site"}, "Content-Type": {"text/plain"}}, http.StatusForbidden},
		{"no Origin, logged in", client, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"text/plain"}}, http.StatusForbidden},
		{"text/plain with the token", nil, bearer(token, "Content-Type", "text/plain"), http.StatusUnsupportedMediaType},
		{"no Content-Type with the token", nil, bearer(token), http.StatusUnsupportedMediaType},
		{"a form with the token", nil, bearer(token, "Content-Type", "application/x-www-form-urlencoded"), http.StatusForbidden},
		{"JSON in a session without its CSRF token", client, http.Header{"Content-Type": {"application/json"}}, http.StatusForbidden},
		{"not logged in at all", nil, http.Header{"Content-Type": {"text/csv"}}, http.StatusUnauthorized},
	} {
		if code, body := call(t, c.client, "POST", recipients, c.header, attackCSV); code != c.want {
			t.Errorf("%s: recipients %d, want %d: %s", c.name, code, c.want, body)
		}
		if code, body := call(t, c.client, "POST", mandates, c.header, order); code != c.want {
			t.Errorf("%s: mandates %d, want %d: %s", c.name, code, c.want, body)
		}
	}
	regs, err := d.registry.List("demo", false)
	if err != nil {
		t.Fatal(err)
	}
	orders, err := d.collection.ListOrders("demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 0 || len(orders.Orders) != 0 {
		t.Fatalf("the attack changed the store: %d registrations, %d mandate orders", len(regs), len(orders.Orders))
	}
	// The CLI's way works: the token and text/csv.
	if code, body := call(t, nil, "POST", recipients, bearer(token, "Content-Type", "text/csv"), attackCSV); code != http.StatusOK {
		t.Errorf("import with the token: %d %s", code, body)
	}
}

// A page whose name the attacker points at 127.0.0.1 (DNS rebinding) sends
// its own name as Host: refused, token or not.
func TestHostSpoofingRefused(t *testing.T) {
	d, base, token := operatorDaemon(t, func(c *config.Config) { c.HTTP.Hostnames = []string{"gw.example.se"} })
	for host, want := range map[string]int{
		"evil.example":        http.StatusMisdirectedRequest,
		"evil.example:8080":   http.StatusMisdirectedRequest,
		"gw.example.se.evil":  http.StatusMisdirectedRequest,
		"localhost:1":         http.StatusOK,
		"127.0.0.1":           http.StatusOK,
		"[::1]:8080":          http.StatusOK,
		"GW.Example.SE:443":   http.StatusOK,
		d.info.Load().HTTP:    http.StatusOK,
		"gw.example.se.:8080": http.StatusOK,
	} {
		req, _ := http.NewRequest("GET", base+"/api/v1/status", nil)
		req.Header = bearer(token)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// loggedIn does what `multikanal login` and a browser do: ask for a link
// with the token, open it, keep the cookie.
func loggedIn(t *testing.T, d *Daemon, base, token string) (*cookiejar.Jar, *http.Client) {
	t.Helper()
	code, body := call(t, nil, "POST", base+"/api/v1/login", bearer(token, "Content-Type", "application/json"), "{}")
	if code != http.StatusOK {
		t.Fatalf("login link: %d %s", code, body)
	}
	var link struct{ URL string }
	json.Unmarshal([]byte(body), &link)
	if !strings.HasPrefix(link.URL, base+"/login?code=") {
		t.Fatalf("login link %q, want one under %s", link.URL, base)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("Multikanal status")) {
		t.Fatalf("opening the login link: %s, %.200s", resp.Status, page)
	}
	// The link works once.
	if code, _ := call(t, &http.Client{}, "GET", link.URL, nil, ""); code != http.StatusForbidden {
		t.Errorf("the login link opened twice: %d", code)
	}
	return jar, client
}

// The status page: a login link opens a session (an HttpOnly, Strict
// cookie), the page's forms carry the session's CSRF token, a form without
// it is refused, and logging out ends the session.
func TestStatusPageSession(t *testing.T) {
	d, base, token := operatorDaemon(t, nil)
	if code, body := call(t, nil, "GET", base+"/", http.Header{"Accept": {"text/html"}}, ""); code != http.StatusUnauthorized || !strings.Contains(body, "multikanal login") {
		t.Errorf("the page without a session: %d %s", code, body)
	}

	// The cookie's attributes, as the login answers them.
	code, body := call(t, nil, "POST", base+"/api/v1/login", bearer(token, "Content-Type", "application/json"), "{}")
	if code != http.StatusOK {
		t.Fatal(body)
	}
	var link struct{ URL string }
	json.Unmarshal([]byte(body), &link)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login: %s", resp.Status)
	}
	for _, attr := range []string{"multikanal_session=", "Path=/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie %q is Secure on plain http: the browser would never send it", cookie)
	}

	_, client := loggedIn(t, d, base, token)
	code, page := call(t, client, "GET", base+"/", nil, "")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("the page in a session: %d, CSRF field found: %v", code, m != nil)
	}
	csrf := m[1]
	if code, _ := call(t, client, "GET", base+"/api/v1/status", nil, ""); code != http.StatusOK {
		t.Errorf("the API in a session: %d", code)
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {base}, "Sec-Fetch-Site": {"same-origin"}}
	if code, _ := call(t, client, "POST", base+"/logout", form, "csrf=wrong"); code != http.StatusForbidden {
		t.Errorf("a form with a wrong CSRF token: %d", code)
	}
	if code, _ := call(t, client, "POST", base+"/logout", form, ""); code != http.StatusForbidden {
		t.Errorf("a form without its CSRF token: %d", code)
	}
	if code, _ := call(t, client, "POST", base+"/logout", form, url.Values{"csrf": {csrf}}.Encode()); code != http.StatusOK {
		t.Errorf("logging out: %d", code)
	}
	if code, _ := call(t, client, "GET", base+"/api/v1/status", nil, ""); code != http.StatusUnauthorized {
		t.Errorf("after logging out: %d", code)
	}

	// A link not opened in time is dead: httpapi's TestLoginLinkExpires,
	// on the login's own clock.
}

// The socket in the data directory authenticates by its file mode: no
// token is needed, a proxied request is refused.
func TestSocketNeedsNoToken(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	path := filepath.Join(d.dataDir, config.SocketName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Skipf("no socket (its path may be too long here): %v", err)
	}
	if fi.Mode().Perm() != 0o660 || d.info.Load().Socket != path {
		t.Errorf("socket mode %v, daemon.json names %q", fi.Mode().Perm(), d.info.Load().Socket)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	if code, body := call(t, client, "GET", "http://localhost/api/v1/status", nil, ""); code != http.StatusOK {
		t.Errorf("status through the socket: %d %s", code, body)
	}
	if code, _ := call(t, client, "GET", "http://localhost/api/v1/status", http.Header{"X-Forwarded-For": {"192.0.2.7"}}, ""); code != http.StatusForbidden {
		t.Errorf("a proxied request through the socket: %d", code)
	}
}

// A list answers at most 1,000 items: a larger limit is refused with the
// way to page on, and the pages, followed by their Link headers, hold
// every document once.
func TestListLimitCapped(t *testing.T) {
	d, base, token := operatorDaemon(t, nil)
	drop(t, d, "invoices.csv", emailBatch(t, 7))
	waitUntil(t, func() bool {
		r, err := receipts.Build(d.store, "F0000001")
		return err == nil && r.Final && len(r.Documents) == 7
	})
	code, body := call(t, nil, "GET", base+"/api/v1/docs?limit=100000000", bearer(token), "")
	if code != http.StatusBadRequest || !strings.Contains(body, "1 to 1000") {
		t.Errorf("limit=100000000: %d %s", code, body)
	}
	for _, q := range []string{"?file=F0000001&limit=3", "?limit=3"} {
		var seen []string
		next := base + "/api/v1/docs" + q
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatalf("%s: more pages than documents", q)
			}
			req, _ := http.NewRequest("GET", next, nil)
			req.Header = bearer(token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var docs []*store.Doc
			json.NewDecoder(resp.Body).Decode(&docs)
			resp.Body.Close()
			if len(docs) > 3 {
				t.Fatalf("%s: a page of %d", q, len(docs))
			}
			for _, doc := range docs {
				seen = append(seen, doc.ID)
			}
			next = ""
			if m := regexp.MustCompile(`<([^>]+)>; rel="next"`).FindStringSubmatch(resp.Header.Get("Link")); m != nil {
				next = base + m[1]
			}
		}
		sorted := slices.Clone(seen)
		slices.Sort(sorted)
		if len(seen) != 7 || len(slices.Compact(sorted)) != 7 {
			t.Errorf("%s: pages hold %v, want the 7 documents once each", q, seen)
		}
	}
}

// A client that reads the backup slowly holds no transaction: commits
// that must grow the store go on while the download is open. (bbolt
// cannot grow its map under a reader, so a backup streamed from inside one
// read transaction held every such commit for as long as the client took.)
func TestSlowBackupReaderDoesNotBlockWrites(t *testing.T) {
	d, base, token := operatorDaemon(t, nil)
	// Some 24 MB of store: more than the socket buffers between the
	// daemon and a client that does not read.
	fill := func(from, n int) error {
		note := strings.Repeat("x", 64<<10)
		for i := from; i < from+n; i += 64 {
			err := d.store.Update(func(tx store.Tx) error {
				for j := i; j < i+64 && j < from+n; j++ {
					f := &store.File{ID: fmt.Sprintf("Z%07d", j), Tenant: "demo", Name: note, State: store.FileParsed, Final: true}
					if err := tx.PutFile(f); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := fill(0, 384); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/backup", nil)
	req.Header = bearer(token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("backup: %s", resp.Status)
	}
	// Read a little, then nothing while the store grows by as much again.
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	start := time.Now()
	var fillErr error
	go func() { defer close(done); fillErr = fill(384, 384) }()
	select {
	case <-done:
		if fillErr != nil {
			t.Fatal(fillErr)
		}
		t.Logf("%d MB written in %v while the download stood still", 384*64>>10, time.Since(start).Round(time.Millisecond))
	case <-time.After(2 * time.Minute):
		t.Fatal("store writes waited for the backup's reader")
	}
	// The download is still open, and whole when read to the end.
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n+4096 != resp.ContentLength {
		t.Errorf("backup: %d of %d bytes, %v", n+4096, resp.ContentLength, err)
	}
	if left, _ := filepath.Glob(filepath.Join(d.dataDir, ".backup-*")); len(left) > 0 {
		t.Errorf("the backup's copy was left behind: %v", left)
	}
}
