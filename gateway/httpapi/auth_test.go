package httpapi

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/outbound/channels"
)

// requestFor turns a route pattern into a request path: wildcards become
// "x", {$} goes.
func requestFor(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	return method, regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "x")
}

// Every route of the operators' mux needs authentication but the health
// checks and the login link's exchange: the table is the mux's own, so a
// route added later without thought fails here.
func TestEveryRouteNeedsAuthentication(t *testing.T) {
	// Pprof's routes show memory, personal data included.
	s, _, token := testServer(t, func(_ *config.Config, o *Options) { o.Pprof = true })
	mux := s.httpHandler()
	if len(mux.patterns) < 15 {
		t.Fatalf("only %d routes recorded: %v", len(mux.patterns), mux.patterns)
	}
	h := s.auth.guard(mux, s.Log.Warn)
	srv := &http.Server{Handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	root := "http://" + ln.Addr().String()

	var open []string
	for _, p := range mux.patterns {
		method, path := requestFor(p)
		code, body := call(t, nil, method, root+path, http.Header{"Content-Type": {"application/json"}}, "{}")
		if code != http.StatusUnauthorized {
			open = append(open, p)
			if !openRoutes[p] {
				t.Errorf("%s: %d without credentials, want 401: %s", p, code, body)
			}
			continue
		}
		// With the token the route is reached (whatever it makes of "x").
		// (seconds=1: the CPU profile would take 30 s.)
		code, body = call(t, nil, method, root+path+"?seconds=1", bearer(token, "Content-Type", "application/json"), "{}")
		if code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusUnsupportedMediaType {
			t.Errorf("%s with the token: %d %s", p, code, body)
		}
	}
	slices.Sort(open)
	if want := []string{"GET /healthz", "GET /login", "GET /readyz"}; !slices.Equal(open, want) {
		t.Errorf("served without authentication: %v, want only %v", open, want)
	}
	// A wrong token is no token; the daemon's own listener is guarded too.
	if code, _ := call(t, nil, "GET", root+"/api/v1/status", bearer(strings.Repeat("0", len(token))), ""); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d", code)
	}
	if code, _ := call(t, nil, "GET", base(s)+"/api/v1/backup", nil, ""); code != http.StatusUnauthorized {
		t.Errorf("backup on the server's own listener without a token: %d", code)
	}
}

// The listeners drop a client that sends its request body slowly and an
// idle keep-alive connection; both are set on either listener.
func TestHTTPTimeouts(t *testing.T) {
	for name, l := range map[string]serverLimits{"operators": operatorLimits, "public": publicLimits} {
		if l.ReadHeader <= 0 || l.Read <= 0 || l.Write <= 0 || l.Idle <= 0 || l.MaxHeaderBytes <= 0 {
			t.Errorf("%s listener: a limit is not set: %+v", name, l)
		}
	}
	saved := operatorLimits
	operatorLimits = serverLimits{ReadHeader: 300 * time.Millisecond, Read: 500 * time.Millisecond, Write: time.Second, Idle: 300 * time.Millisecond, MaxHeaderBytes: 4 << 10}
	t.Cleanup(func() { operatorLimits = saved })
	s, _, token := testServer(t, nil)
	op, _, _ := s.Addrs()
	closedWithin := func(what, send string) {
		t.Helper()
		c, err := net.Dial("tcp", op)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, send)
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err = io.Copy(io.Discard, c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%s: the connection was still open after 30 s", what)
		}
	}
	closedWithin("a slow header", "GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
	closedWithin("a slow body", "POST /api/v1/tenants/demo/autogiro/mandates HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "+token+
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	closedWithin("an idle connection", "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
	closedWithin("a header too large", "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: "+strings.Repeat("a", 8<<10)+"\r\n\r\n")
}

// A login link works within loginTTL of its making, and once.
func TestLoginLinkExpires(t *testing.T) {
	a, err := newOperatorAuth(config.Default(t.TempDir(), channels.All()), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := a.newLogin()
	if err != nil {
		t.Fatal(err)
	}
	a.now = func() time.Time { return time.Now().Add(loginTTL + time.Second) }
	if _, _, ok := a.redeem(code); ok {
		t.Error("a login link opened after loginTTL opened a session")
	}
	a.now = time.Now
	code, _, _ = a.newLogin()
	if _, _, ok := a.redeem(code); !ok {
		t.Error("a fresh login link opened no session")
	}
	if _, _, ok := a.redeem(code); ok {
		t.Error("a login link opened a second session")
	}
}
