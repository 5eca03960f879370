// Package smtp is the transport that hands a finished e-mail to an SMTP
// relay (a submission server, usually on port 587 with STARTTLS or 465 with
// implicit TLS), with AUTH PLAIN or LOGIN, and classifies every failure:
// what the relay may accept later is temporary, what it refused for good is
// permanent, so routing falls back to the next channel.
//
// It sends messages that are already rendered (package outbound/email does
// that); it neither builds MIME nor queues: one Send is one SMTP transaction
// on its own connection, and the gateway's queue does the retrying.
package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/multikanal/multikanal/outbound"
)

// TLS modes.
const (
	StartTLS = "starttls" // plain connect, then STARTTLS before anything else (port 587)
	Implicit = "implicit" // TLS from the first byte (port 465)
	None     = "none"     // no TLS at all; only to a relay on the loopback interface
)

// DefaultTimeout bounds one Send when Options.Timeout is zero.
const DefaultTimeout = time.Minute

// Options configure the transport.
type Options struct {
	Addr string // the relay's host:port
	// TLS is StartTLS (the default when empty), Implicit or None.
	TLS string
	// CAFile names a PEM file of CA certificates the relay's certificate may
	// chain to, in addition to RootCAs (or the system's roots when RootCAs
	// is nil).
	CAFile  string
	RootCAs *x509.CertPool
	// Username and Password log in with AUTH PLAIN, or LOGIN when the relay
	// offers only that. Empty Username: no AUTH.
	Username string
	Password string
	// HeloName is the name given in EHLO; empty means the host name.
	HeloName string
	// Timeout bounds a whole Send, from connecting to the relay's final
	// reply; a shorter deadline on the context wins. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// EnvelopeFrom is the MAIL FROM address, where bounces go. Empty means
	// the address in the message's From header.
	EnvelopeFrom string
}

// Transport sends messages through one relay. It is safe for concurrent use:
// every Send has its own connection.
type Transport struct {
	addr, host string
	mode       string
	tls        *tls.Config
	username   string
	password   string
	helo       string
	timeout    time.Duration
	from       string
}

// New checks the options and returns the transport. It does not connect:
// a relay that is down at start-up is a temporary failure of the first
// Send, not a reason to refuse to start.
func New(o Options) (*Transport, error) {
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("smtp: addr %q: write the relay as host:port, like relay.example.se:587", o.Addr)
	}
	t := &Transport{addr: o.Addr, host: host, mode: o.TLS, username: o.Username, password: o.Password,
		helo: o.HeloName, timeout: o.Timeout, from: o.EnvelopeFrom}
	switch t.mode {
	case "":
		t.mode = StartTLS
	case StartTLS, Implicit:
	case None:
		if !loopback(host) {
			return nil, fmt.Errorf("smtp: tls = %q is allowed only for a relay on the loopback interface, not %s: use %q or %q", None, host, StartTLS, Implicit)
		}
	default:
		return nil, fmt.Errorf("smtp: tls = %q: use %q, %q or %q (loopback only)", o.TLS, StartTLS, Implicit, None)
	}
	if t.mode != None {
		pool := o.RootCAs
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("smtp: ca file: %w", err)
			}
			if pool == nil {
				if pool, err = x509.SystemCertPool(); err != nil {
					pool = x509.NewCertPool()
				}
			} else {
				pool = pool.Clone()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("smtp: ca file %s holds no PEM certificate", o.CAFile)
			}
		}
		t.tls = &tls.Config{ServerName: host, RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if (o.Username == "") != (o.Password == "") {
		return nil, errors.New("smtp: username and password go together: set both or neither")
	}
	if t.helo == "" {
		if t.helo, err = os.Hostname(); err != nil || t.helo == "" {
			t.helo = "localhost"
		}
	}
	if strings.ContainsAny(t.helo, " \r\n") {
		return nil, fmt.Errorf("smtp: helo name %q must be a host name", t.helo)
	}
	if t.timeout <= 0 {
		t.timeout = DefaultTimeout
	}
	if t.from != "" {
		a, err := mail.ParseAddress(t.from)
		if err != nil {
			return nil, fmt.Errorf("smtp: envelope from %q is not an e-mail address: %w", t.from, err)
		}
		t.from = a.Address
	}
	return t, nil
}

// loopback reports whether host is on this machine, the only place a
// plaintext relay (and a password sent over it) is acceptable.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m.Body to m.To in one SMTP transaction. Sent.Ref is the
// relay's queue id when its final reply names one ("250 2.0.0 Ok: queued as
// 4Xk2"), else the message's Message-ID.
//
// Failures are outbound.Temporary when a later attempt may succeed (a 4xx
// reply, no connection, a timeout, a broken TLS handshake, ctx done) and
// outbound.Permanent when it cannot (a 5xx reply such as a rejected
// recipient or a wrong password, a relay certificate that does not verify,
// a relay that offers no STARTTLS or no usable AUTH). Reply errors keep the
// relay's own text: "RCPT TO: 550 5.1.1 <x@y>: Recipient address rejected".
func (t *Transport) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	if err := ctx.Err(); err != nil {
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("smtp %s: %w", t.addr, err))
	}
	hdr, err := mail.ReadMessage(bytes.NewReader(m.Body))
	if err != nil {
		return outbound.Sent{}, outbound.Permanentf("smtp: message %s has no readable header: %w", m.Key, err)
	}
	from := t.from
	if from == "" {
		list, err := hdr.Header.AddressList("From")
		if err != nil || len(list) == 0 {
			return outbound.Sent{}, outbound.Permanentf("smtp: message %s has no From address and no envelope from is configured", m.Key)
		}
		from = list[0].Address
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return outbound.Sent{}, outbound.Permanentf("smtp: recipient %q is not an e-mail address: %w", m.To, err)
	}

	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	s := &session{t: t, ctx: ctx}
	reply, err := s.run(from, to.Address, m.Body)
	if err != nil {
		return outbound.Sent{}, s.classify(err)
	}
	ref := queueID(reply)
	if ref == "" {
		ref = strings.Trim(hdr.Header.Get("Message-Id"), "<> ")
	}
	return outbound.Sent{Ref: ref}, nil
}

// FinishesBody: Send has written the body to the relay, or given up,
// when it returns (outbound.BodyFinisher).
func (t *Transport) FinishesBody() {}

var _ outbound.BodyFinisher = (*Transport)(nil)

// session is one Send's connection and the step it has reached, which the
// error message names.
type session struct {
	t    *Transport
	ctx  context.Context
	step string
}

// stepError is a failure the client decides on itself because the relay
// lacks what it needs (STARTTLS, a usable AUTH, SMTPUTF8): a setup that does
// not change by retrying, so permanent.
type stepError struct{ error }

func (s *session) run(from, to string, body []byte) (string, error) {
	t := s.t
	s.step = "connect"
	d := net.Dialer{}
	conn, err := d.DialContext(s.ctx, "tcp", t.addr)
	if err != nil {
		return "", err
	}
	// go-smtp sets and clears its own deadlines on every command; closing
	// the connection is what reliably interrupts it when ctx ends.
	stop := context.AfterFunc(s.ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()

	var c *gosmtp.Client
	switch t.mode {
	case Implicit:
		s.step = "TLS handshake"
		tc := tls.Client(conn, t.tls)
		if err := tc.HandshakeContext(s.ctx); err != nil {
			return "", err
		}
		c = gosmtp.NewClient(tc)
	case StartTLS:
		s.step = "greeting/STARTTLS"
		// go-smtp says EHLO localhost before STARTTLS, then our name
		// after it; what the relay logs and checks is the second one.
		if c, err = gosmtp.NewClientStartTLS(conn, t.tls); err != nil {
			var se *gosmtp.SMTPError
			if !errors.As(err, &se) && !isNetwork(err) {
				// The only other failure is the relay not offering
				// STARTTLS at all.
				return "", stepError{fmt.Errorf("the relay does not offer STARTTLS (%w): if it speaks TLS from the start (port 465) set tls = %q, otherwise enable STARTTLS on the relay", err, Implicit)}
			}
			return "", err
		}
	default:
		c = gosmtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = t.timeout, t.timeout

	s.step = "EHLO"
	if err := c.Hello(t.helo); err != nil {
		if t.mode == StartTLS && !isSMTPReply(err) {
			// The handshake runs when the first command after
			// STARTTLS is written.
			s.step = "TLS handshake"
		}
		return "", err
	}
	if t.username != "" {
		s.step = "AUTH"
		var a sasl.Client
		mech := sasl.Plain
		switch {
		case c.SupportsAuth(sasl.Plain):
			a = sasl.NewPlainClient("", t.username, t.password)
		case c.SupportsAuth(sasl.Login):
			a, mech = sasl.NewLoginClient(t.username, t.password), sasl.Login
		default:
			_, mechs := c.Extension("AUTH")
			if mechs == "" {
				mechs = "none"
			}
			return "", stepError{fmt.Errorf("the relay offers no AUTH PLAIN or LOGIN (it offers: %s): check its submission settings, or leave username empty if it needs no login", mechs)}
		}
		if err := c.Auth(a); err != nil {
			if !isSMTPReply(err) && !isNetwork(err) {
				err = stepError{fmt.Errorf("AUTH %s exchange failed: %w", mech, err)}
			}
			return "", err
		}
	}
	s.step = "MAIL FROM"
	opts := &gosmtp.MailOptions{Size: int64(len(body)), UTF8: !ascii(from) || !ascii(to)}
	if err := c.Mail(from, opts); err != nil {
		if !isSMTPReply(err) && !isNetwork(err) {
			err = stepError{err} // an option the relay lacks, such as SMTPUTF8
		}
		return "", err
	}
	s.step = "RCPT TO"
	if err := c.Rcpt(to, nil); err != nil {
		return "", err
	}
	s.step = "DATA"
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(body); err != nil {
		return "", err
	}
	s.step = "end of DATA"
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	// The relay has taken the message; a failed QUIT changes nothing.
	c.Quit()
	return resp.StatusText, nil
}

// classify turns a failure into a temporary or permanent outbound error
// naming the relay and the step.
func (s *session) classify(err error) error {
	where := fmt.Sprintf("smtp %s: %s", s.t.addr, s.step)
	if cerr := s.ctx.Err(); cerr != nil {
		// The connection was closed under go-smtp because ctx ended;
		// err is only the symptom.
		return outbound.Temporary(fmt.Errorf("%s: %w", where, cerr))
	}
	var (
		se   *gosmtp.SMTPError
		step stepError
		cve  *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ci   x509.CertificateInvalidError
		rh   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &se):
		e := fmt.Errorf("%s: %w", where, replyError{se})
		if se.Code >= 500 && se.Code < 600 {
			return outbound.Permanent(e)
		}
		return outbound.Temporary(e)
	case errors.As(err, &step):
		return outbound.Permanent(fmt.Errorf("%s: %w", where, step.error))
	case errors.As(err, &cve), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
		// The relay is not the one we trust. That does not heal by
		// waiting: the operator must give ca_file or fix the name.
		return outbound.Permanent(fmt.Errorf("%s: the relay's certificate does not verify (set ca_file to the CA that signed it, or use the name in the certificate): %w", where, err))
	case errors.As(err, &rh):
		return outbound.Permanent(fmt.Errorf("%s: the relay does not speak TLS on this port (use tls = %q on a STARTTLS port such as 587): %w", where, StartTLS, err))
	}
	return outbound.Temporary(fmt.Errorf("%s: %w", where, err))
}

// replyError prints an SMTP reply as the relay wrote it, with the enhanced
// status code that go-smtp's own message leaves out.
type replyError struct{ e *gosmtp.SMTPError }

func (r replyError) Error() string {
	ec := r.e.EnhancedCode
	if ec == gosmtp.NoEnhancedCode || ec == gosmtp.EnhancedCodeNotSet {
		return fmt.Sprintf("%d %s", r.e.Code, r.e.Message)
	}
	return fmt.Sprintf("%d %d.%d.%d %s", r.e.Code, ec[0], ec[1], ec[2], r.e.Message)
}

func (r replyError) Unwrap() error { return r.e }

func isSMTPReply(err error) bool {
	var se *gosmtp.SMTPError
	return errors.As(err, &se)
}

// isNetwork reports whether err came from the connection rather than from
// the protocol: a reset, a timeout, a closed peer, or a TLS alert.
func isNetwork(err error) bool {
	var ne net.Error
	var ae tls.AlertError
	var cve *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	return errors.As(err, &ne) || errors.As(err, &ae) || errors.As(err, &cve) || errors.As(err, &rh) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// queueIDPattern finds the queue id in the final reply of the common relays:
// Postfix "2.0.0 Ok: queued as 4Xk2Lm0Qz7z1", Exim "OK id=1tPq8x-000Abc-2Z".
// Relays that name none get the Message-ID as the reference instead.
var queueIDPattern = regexp.MustCompile(`(?i)\b(?:queued as|id=)\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)

func queueID(reply string) string {
	if m := queueIDPattern.FindStringSubmatch(reply); m != nil {
		return m[1]
	}
	return ""
}
