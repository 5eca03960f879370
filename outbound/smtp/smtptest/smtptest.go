// Package smtptest runs a real SMTP server (go-smtp) on the loopback
// interface for tests, as net/http/httptest does for HTTP: with a
// self-signed certificate the client is given to trust, STARTTLS or
// implicit TLS, AUTH PLAIN or LOGIN, and scripted replies, so a transport is
// tested over a socket against the protocol, not against a mock.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// Config says how the server behaves. The zero value is a server with
// STARTTLS and no AUTH that accepts everything.
type Config struct {
	// TLS is "starttls" (default), "implicit", "none" or "plain-only": a
	// server that has TLS configured nowhere, so it offers no STARTTLS.
	TLS string
	// Username and Password, when set, make AUTH required before MAIL.
	Username, Password string
	// Mechanisms offered for AUTH; default PLAIN. Only PLAIN and LOGIN are
	// implemented.
	Mechanisms []string
	// Rcpt, when set, answers RCPT TO: return a *gosmtp.SMTPError to refuse.
	Rcpt func(to string) error
	// Data, when set, answers the end of DATA. A *gosmtp.SMTPError with code
	// 250 sets the text of the success reply ("Ok: queued as X").
	Data func(msg []byte) error
}

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	TLS  bool   // received over TLS
	User string // the AUTH user, or ""
}

// Server is a running test server.
type Server struct {
	Addr string         // 127.0.0.1:port
	Pool *x509.CertPool // trusts the server's certificate

	cfg  Config
	mu   sync.Mutex
	msgs []Message
}

// NewServer starts a server that stops when the test ends.
func NewServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	cert, pool := selfSigned(t)
	s := &Server{Pool: pool, cfg: cfg}
	if len(s.cfg.Mechanisms) == 0 {
		s.cfg.Mechanisms = []string{sasl.Plain}
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, tls: isTLS}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = testLogger{t}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch cfg.TLS {
	case "", "starttls":
		srv.TLSConfig = tlsCfg
	case "implicit":
		srv.TLSConfig = tlsCfg
		l = tls.NewListener(l, tlsCfg)
	case "none", "plain-only":
		srv.AllowInsecureAuth = true
	default:
		t.Fatalf("smtptest: unknown TLS mode %q", cfg.TLS)
	}
	s.Addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		// go-smtp's Close closes only the listeners Serve has taken up;
		// when the test ends before the goroutine above ran, Serve would
		// then accept on l for ever (a hang seen under load). Closing l
		// ends it either way.
		l.Close()
		<-done
	})
	return s
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

type session struct {
	s    *Server
	tls  bool
	user string
	msg  Message
}

func (ss *session) AuthMechanisms() []string { return ss.s.cfg.Mechanisms }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != ss.s.cfg.Username || pass != ss.s.cfg.Password {
			return gosmtp.ErrAuthFailed
		}
		ss.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if ss.s.cfg.Username != "" && ss.user == "" {
		return gosmtp.ErrAuthRequired
	}
	ss.msg = Message{From: from, TLS: ss.tls, User: ss.user}
	return nil
}

func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if ss.s.cfg.Rcpt != nil {
		if err := ss.s.cfg.Rcpt(to); err != nil {
			return err
		}
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var accept error
	if ss.s.cfg.Data != nil {
		accept = ss.s.cfg.Data(b)
		var se *gosmtp.SMTPError
		if errors.As(accept, &se) && se.Code != 250 {
			return accept
		}
	}
	ss.msg.Data = b
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.msg)
	ss.s.mu.Unlock()
	return accept
}

func (ss *session) Reset()        { ss.msg = Message{} }
func (ss *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks: the
// client may send the user name with the command; the server then asks for
// whatever is missing.
type loginServer struct {
	check      func(user, pass string) error
	user       []byte
	haveUser   bool
	askedForIt bool
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch {
	case !l.haveUser && response == nil && !l.askedForIt:
		l.askedForIt = true
		return []byte("Username:"), false, nil
	case !l.haveUser:
		l.user, l.haveUser = response, true
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(string(l.user), string(response))
}

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool
// that trusts it. ECDSA P-256 keeps it fast.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

type testLogger struct{ t testing.TB }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf("smtptest: "+format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(append([]any{"smtptest:"}, v...)...) }

// Down returns the address of a port nobody listens on: connecting to it is
// refused.
func Down(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Silent returns the address of a server that accepts connections and never
// says a word, for timeouts and cancellation.
func Silent(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}
