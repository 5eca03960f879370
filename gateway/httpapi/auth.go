package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/internal/durable"
)

// The operators' listener serves personal data and acts on the store, so
// every request but the health checks is authenticated, one of three ways:
//
//   - through the Unix socket <data>/http.sock: whoever may open it (mode
//     0660, the data directory's group) may read state.db anyway;
//   - with the bearer token of http.token_file (or <data>/http.token);
//   - with a status page session, which a one-time login link from
//     `multikanal login` opens. A session is a cookie, which a browser
//     sends by itself, so a session's state-changing requests must also
//     carry its CSRF token.
//
// Before that, the Host must be a name the listener answers as (a page
// that rebinds its own DNS name to 127.0.0.1 is refused) and an Origin must
// be the listener's own. State-changing requests take JSON (or text/csv),
// which no web page can send across origins without a CORS preflight that
// is never granted, or a form carrying the session's CSRF token. The
// checks wrap the whole mux: a route added to it is authenticated unless
// it is in openRoutes. docs/security.md has the threat model.

// openRoutes are the patterns served without authentication: the
// supervisor's health checks and the login link's exchange.
var openRoutes = map[string]bool{
	"GET /healthz": true,
	"GET /readyz":  true,
	"GET /login":   true,
}

const (
	// sessionCookie names the status page session.
	sessionCookie = "multikanal_session"
	// sessionTTL is how long a session lasts after its login; then the
	// operator runs `multikanal login` again.
	sessionTTL = 12 * time.Hour
	// loginTTL is how long a login link may wait to be opened. It works
	// once.
	loginTTL = 2 * time.Minute
	// maxSessions and maxLogins bound what the daemon keeps in memory;
	// the oldest session goes first.
	maxSessions = 256
	maxLogins   = 64
	// csrfField is the form field (and X-CSRF-Token the header) a session's
	// state-changing request carries its CSRF token in.
	csrfField = "csrf"
	// minTokenLen refuses a token that could be guessed.
	minTokenLen = 32
)

// How a request was authenticated.
type authMethod int

const (
	authNone authMethod = iota
	authSocket
	authToken
	authSession
	// authTenant is a tenant's own token, on the routes it opens
	// (tenantRoutes in documents.go).
	authTenant
)

// session is a logged-in status page.
type session struct {
	csrf    string
	expires time.Time
}

// operatorAuth holds what authenticates operators. Login codes and
// sessions live in memory only: a restart logs every page out.
type operatorAuth struct {
	token [sha256.Size]byte // of the bearer token; compared in constant time
	// hosts are the Host names the listener answers as; origins are the
	// origins accepted besides the request's own (http.base_url's).
	hosts   map[string]bool
	origins map[string]bool
	// secure marks the session cookie Secure: the listener or the base
	// URL is https.
	secure bool
	// tenantToken reports whether a request carries the token of the
	// tenant its path names (documents.go); nil for none.
	tenantToken func(r *http.Request) bool

	mu       sync.Mutex
	logins   map[[sha256.Size]byte]time.Time // code hash → expiry
	sessions map[[sha256.Size]byte]*session  // cookie hash → session
	now      func() time.Time
}

// newOperatorAuth reads (or, when http.token_file is not set, generates)
// the bearer token and gathers the names the listener answers as.
func newOperatorAuth(cfg *config.Config, dataDir string) (*operatorAuth, error) {
	a := &operatorAuth{hosts: map[string]bool{"localhost": true}, origins: map[string]bool{},
		logins: map[[sha256.Size]byte]time.Time{}, sessions: map[[sha256.Size]byte]*session{}, now: time.Now}
	token, err := loadToken(cfg, dataDir)
	if err != nil {
		return nil, err
	}
	a.token = sha256.Sum256(token)
	h := cfg.HTTP
	if host, _, err := net.SplitHostPort(h.Listen); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			a.hosts[normalHost(host)] = true
		}
	}
	for _, name := range h.Hostnames {
		a.hosts[normalHost(name)] = true
	}
	if h.BaseURL != "" {
		if u, err := url.Parse(h.BaseURL); err == nil {
			a.hosts[normalHost(u.Hostname())] = true
			a.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
			a.secure = u.Scheme == "https"
		}
	}
	a.secure = a.secure || h.TLSCertFile != ""
	return a, nil
}

// loadToken reads http.token_file, or the token in the data directory,
// which it generates on first start: readable by the data directory's
// group (0640), so an operator in that group can use it from the CLI.
func loadToken(cfg *config.Config, dataDir string) ([]byte, error) {
	path := cfg.HTTP.TokenFile
	if path == "" {
		path = filepath.Join(dataDir, config.TokenName)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			b := make([]byte, 32)
			rand.Read(b)
			if err := writeSecret(path, []byte(hex.EncodeToString(b)+"\n"), 0o640); err != nil {
				return nil, fmt.Errorf("generating the HTTP token: %w", err)
			}
		}
	}
	token, err := config.ReadSecret(path)
	if err != nil {
		return nil, fmt.Errorf("http.token_file: %w", err)
	}
	if len(token) < minTokenLen {
		return nil, fmt.Errorf("http.token_file %s: the token has %d characters; use at least %d random ones (openssl rand -hex 32)", path, len(token), minTokenLen)
	}
	return token, nil
}

// writeSecret creates a secret file that did not exist, durably, with mode
// perm and the group of its directory.
func writeSecret(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	if err := durable.WriteNew(path, data, perm); err != nil {
		return err
	}
	chownToDirGroup(path)
	return nil
}

// normalHost lower-cases a host name and drops IPv6 brackets and a final
// dot, so that names compare as DNS compares them.
func normalHost(h string) string {
	h = strings.TrimSuffix(strings.Trim(strings.ToLower(h), "[]"), ".")
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return h
}

// hostAllowed reports whether the request's Host is a name the listener
// answers as: a loopback name or address, the listen address, or a
// configured host name.
func (a *operatorAuth) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = normalHost(host)
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	return a.hosts[host]
}

// crossOrigin says why a request comes from another origin than the
// listener's, or "" when it does not. Browsers send Origin with every
// cross-origin fetch and every POST, and Sec-Fetch-Site with every request.
func (a *operatorAuth) crossOrigin(r *http.Request) string {
	if origin := r.Header.Get("Origin"); origin != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if strings.EqualFold(origin, scheme+"://"+r.Host) || a.origins[strings.ToLower(origin)] {
			return ""
		}
		return "a request from origin " + origin + " is refused: only the status page's own origin may call the API"
	}
	if site := r.Header.Get("Sec-Fetch-Site"); !safeMethod(r.Method) && (site == "cross-site" || site == "same-site") {
		return "a " + site + " request that changes state is refused"
	}
	return ""
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate finds who sent the request: the socket, a bearer token or a
// session cookie. A wrong token is not retried as a cookie.
func (a *operatorAuth) authenticate(r *http.Request) (authMethod, *session) {
	if viaSocket(r.Context()) {
		return authSocket, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(sum[:], a.token[:]) == 1 {
			return authToken, nil
		}
		return authNone, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if s := a.session(c.Value); s != nil {
			return authSession, s
		}
	}
	return authNone, nil
}

// checkChange says why a state-changing request is refused, with its
// status code, or returns 0. JSON and text/csv cannot be sent across
// origins without a preflight; a form can, so it must carry the session's
// CSRF token, as must anything a session sends.
func (a *operatorAuth) checkChange(r *http.Request, how authMethod, s *session) (int, string) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form := mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
	if !form && mt != "application/json" && mt != "text/csv" {
		return http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not accepted for a request that changes state: send application/json (text/csv for a recipient file)", r.Header.Get("Content-Type"))
	}
	if how != authSession && !form {
		return 0, ""
	}
	if s == nil {
		return http.StatusForbidden, "a form is accepted only from a status page session, with its CSRF token; API clients send JSON"
	}
	token := r.Header.Get("X-CSRF-Token")
	if token == "" && form {
		token = r.PostFormValue(csrfField)
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) != 1 {
		return http.StatusForbidden, "the request lacks the page's CSRF token: reload the status page and try again"
	}
	return 0, ""
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

// newLogin returns a code that opens one session within loginTTL.
func (a *operatorAuth) newLogin() (string, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for h, exp := range a.logins {
		if !now.Before(exp) {
			delete(a.logins, h)
		}
	}
	if len(a.logins) >= maxLogins {
		return "", time.Time{}, errkind.New(errkind.Unavailable, "%d login links wait to be opened; try again in %s", len(a.logins), loginTTL)
	}
	code := randomToken()
	exp := now.Add(loginTTL)
	a.logins[hashOf(code)] = exp
	return code, exp, nil
}

// redeem exchanges a login code, once, for a session and its cookie value.
func (a *operatorAuth) redeem(code string) (string, *session, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	h := hashOf(code)
	exp, ok := a.logins[h]
	delete(a.logins, h)
	if !ok || !now.Before(exp) {
		return "", nil, false
	}
	for k, s := range a.sessions {
		if !now.Before(s.expires) {
			delete(a.sessions, k)
		}
	}
	for len(a.sessions) >= maxSessions {
		var oldest [sha256.Size]byte
		var first time.Time
		for k, s := range a.sessions {
			if first.IsZero() || s.expires.Before(first) {
				oldest, first = k, s.expires
			}
		}
		delete(a.sessions, oldest)
	}
	id := randomToken()
	s := &session{csrf: randomToken(), expires: now.Add(sessionTTL)}
	a.sessions[hashOf(id)] = s
	return id, s, true
}

// session returns the live session of a cookie value, or nil.
func (a *operatorAuth) session(id string) *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := hashOf(id)
	s := a.sessions[h]
	if s == nil {
		return nil
	}
	if !a.now().Before(s.expires) {
		delete(a.sessions, h)
		return nil
	}
	return s
}

func (a *operatorAuth) logout(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, hashOf(id))
}

// Request context: whether the connection came through the socket, and
// the session of a request.
type (
	socketKey  struct{}
	sessionKey struct{}
)

// sessionOf returns the status page session a request came with, or nil.
func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

// forwarded reports whether a proxy passed the request on: the socket
// authenticates whoever opens it, so a proxy in front of it would let
// everyone in.
func forwarded(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}

// routeMux is the operators' mux. It records every pattern it is given, so
// the test of the route table sees each route, including ones added later.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// maxBody bounds a request's body on the operators' listener: a recipient
// file may be large, anything else is small.
const (
	maxBody    = 16 << 20
	maxCSVBody = 256 << 20
)

// guard puts the checks in front of every route of mux.
func (a *operatorAuth) guard(mux *routeMux, log func(msg string, args ...any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: with no-referrer a browser sends
		// "Origin: null" on the page's own form posts.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		refuse := func(code int, msg string) {
			log("http request refused", "status", code, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "why", msg)
			writeRefusal(w, r, code, msg)
		}
		if viaSocket(r.Context()) && forwarded(r) {
			refuse(http.StatusForbidden, "the socket is for local clients; put a reverse proxy in front of http.listen, which asks for the token")
			return
		}
		if !a.hostAllowed(r.Host) {
			refuse(http.StatusMisdirectedRequest, fmt.Sprintf("this listener does not answer as %q: add the name to http.hostnames", r.Host))
			return
		}
		if why := a.crossOrigin(r); why != "" {
			refuse(http.StatusForbidden, why)
			return
		}
		if _, pattern := mux.Handler(r); openRoutes[pattern] {
			mux.ServeHTTP(w, r)
			return
		}
		how, s := a.authenticate(r)
		if _, pattern := mux.Handler(r); how == authNone && tenantRoutes[pattern] && a.tenantToken != nil && a.tenantToken(r) {
			how = authTenant
		}
		if how == authNone {
			if r.Header.Get("Authorization") != "" {
				log("http request with a wrong token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			}
			h.Set("WWW-Authenticate", `Bearer realm="multikanal"`)
			writeRefusal(w, r, http.StatusUnauthorized, "authentication needed: run `multikanal login` for the status page; API clients send Authorization: Bearer <the token of http.token_file>")
			return
		}
		h.Set("Cache-Control", "no-store")
		limit := int64(maxBody)
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "text/csv" {
			limit = maxCSVBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if !safeMethod(r.Method) {
			if code, msg := a.checkChange(r, how, s); code != 0 {
				refuse(code, msg)
				return
			}
		}
		if s != nil {
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		}
		mux.ServeHTTP(w, r)
	})
}

// writeRefusal answers a browser with a short page and anything else with
// the API's JSON error.
func writeRefusal(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		refusalPage(w, code, msg)
		return
	}
	writeJSON(w, code, map[string]string{"error": msg})
}

func refusalPage(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<!doctype html><title>Multikanal</title><h1>%d %s</h1><p>%s</p>\n", code, http.StatusText(code), html.EscapeString(msg))
}

// pageBase is the address operators open the status page at:
// http.base_url, or the TCP listener's own (a wildcard address replaced by
// the first host name); "" without a TCP listener.
func pageBase(cfg *config.Config, ln net.Listener) string {
	if cfg.HTTP.BaseURL != "" {
		return strings.TrimSuffix(cfg.HTTP.BaseURL, "/")
	}
	if ln == nil {
		return ""
	}
	scheme, host := "http", ln.Addr().String()
	if cfg.HTTP.TLSCertFile != "" {
		scheme = "https"
	}
	if h, port, err := net.SplitHostPort(host); err == nil {
		if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
			h = "localhost"
			if len(cfg.HTTP.Hostnames) > 0 {
				h = cfg.HTTP.Hostnames[0]
			}
			host = net.JoinHostPort(h, port)
		}
	}
	return scheme + "://" + host
}

// loginURL is where a login code is exchanged.
func (s *Server) loginURL(code string) (string, error) {
	if s.pageBase == "" {
		return "", errkind.New(errkind.Conflict, "the status page needs a TCP listener: set http.listen")
	}
	return s.pageBase + "/login?code=" + url.QueryEscape(code), nil
}

// serveLoginLink is POST /api/v1/login: a one-time link that opens a
// status page session, for `multikanal login`.
func (s *Server) serveLoginLink(w http.ResponseWriter, r *http.Request) {
	code, exp, err := s.auth.newLogin()
	if err == nil {
		var link string
		if link, err = s.loginURL(code); err == nil {
			writeJSON(w, http.StatusOK, map[string]any{"url": link, "expires": exp.UTC()})
			return
		}
	}
	writeError(w, err)
}

// serveLogin is GET /login?code=: it exchanges the code for a session
// cookie and sends the browser on to the status page.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := s.auth.redeem(r.URL.Query().Get("code"))
	if !ok {
		s.Log.Warn("status page login refused: the link is unknown, used or expired", "remote", r.RemoteAddr)
		refusalPage(w, http.StatusForbidden, "This login link is unknown, used or expired: a link works once, within 2 minutes. Run `multikanal login` for a new one.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", Expires: sess.expires, MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: s.auth.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode})
	s.Log.Info("status page login", "remote", r.RemoteAddr)
	http.Redirect(w, r, "./", http.StatusSeeOther)
}

// serveLogout is POST /logout, a form on the status page.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.auth.logout(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.auth.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintln(w, "<!doctype html><title>Multikanal</title><p>Logged out. Run <code>multikanal login</code> to come back.</p>")
}
