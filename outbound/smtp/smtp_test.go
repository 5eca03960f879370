package smtp_test

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/smtp"
	"github.com/multikanal/multikanal/outbound/smtp/smtptest"
)

const raw = "From: Acme <faktura@acme.example>\r\n" +
	"To: kund@example.se\r\n" +
	"Subject: test\r\n" +
	"Message-Id: <F1-1@acme.example>\r\n" +
	"\r\n" +
	"Hej!\r\n.\r\nA line with a lone dot above.\r\n"

var msg = outbound.Message{Key: "F1-1", Name: "F1-1.eml", ContentType: "message/rfc822", To: "kund@example.se", Body: []byte(raw)}

func reject(code int, ec gosmtp.EnhancedCode, text string) func(string) error {
	return func(string) error { return &gosmtp.SMTPError{Code: code, EnhancedCode: ec, Message: text} }
}

// TestSend runs the transport against a real go-smtp server per case and
// checks what arrived or how the failure is classified.
func TestSend(t *testing.T) {
	const user, pass = "multikanal", "hemligt"
	cases := []struct {
		name   string
		server smtptest.Config
		opts   func(*smtp.Options)
		ok     bool
		class  outbound.Class
		errHas string
		ref    string
	}{
		{name: "STARTTLS with AUTH PLAIN", server: smtptest.Config{Username: user, Password: pass}, ok: true, ref: "F1-1@acme.example"},
		{name: "implicit TLS", server: smtptest.Config{TLS: "implicit", Username: user, Password: pass},
			opts: func(o *smtp.Options) { o.TLS = smtp.Implicit }, ok: true},
		{name: "AUTH LOGIN when only LOGIN is offered", server: smtptest.Config{Username: user, Password: pass, Mechanisms: []string{"LOGIN"}}, ok: true},
		{name: "plaintext on loopback", server: smtptest.Config{TLS: "none", Username: user, Password: pass},
			opts: func(o *smtp.Options) { o.TLS = smtp.None }, ok: true},
		{name: "queue id in the reply", server: smtptest.Config{Data: func([]byte) error {
			return &gosmtp.SMTPError{Code: 250, EnhancedCode: gosmtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as 4XkQ2m0Tz1"}
		}}, opts: func(o *smtp.Options) { o.Username, o.Password = "", "" }, ok: true, ref: "4XkQ2m0Tz1"},
		{name: "wrong password", server: smtptest.Config{Username: user, Password: "annat"},
			class: outbound.ClassPermanent, errHas: "AUTH: 535 5.7.8 Authentication failed"},
		{name: "451 on RCPT", server: smtptest.Config{Username: user, Password: pass, Rcpt: reject(451, gosmtp.EnhancedCode{4, 3, 0}, "Temporary lookup failure")},
			class: outbound.ClassTemporary, errHas: "RCPT TO: 451 4.3.0 Temporary lookup failure"},
		{name: "550 on RCPT", server: smtptest.Config{Username: user, Password: pass, Rcpt: reject(550, gosmtp.EnhancedCode{5, 1, 1}, "<kund@example.se>: Recipient address rejected")},
			class: outbound.ClassPermanent, errHas: "RCPT TO: 550 5.1.1 <kund@example.se>: Recipient address rejected"},
		{name: "554 at end of DATA", server: smtptest.Config{Data: func([]byte) error {
			return &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"}
		}}, opts: func(o *smtp.Options) { o.Username, o.Password = "", "" },
			class: outbound.ClassPermanent, errHas: "end of DATA: 554 5.7.1 Message rejected as spam"},
		{name: "server down", opts: func(o *smtp.Options) { o.Addr = smtptest.Down(t) },
			class: outbound.ClassTemporary, errHas: "connect"},
		{name: "no STARTTLS offered", server: smtptest.Config{TLS: "plain-only"},
			class: outbound.ClassPermanent, errHas: "does not offer STARTTLS"},
		{name: "relay certificate not trusted", server: smtptest.Config{Username: user, Password: pass},
			opts:  func(o *smtp.Options) { o.RootCAs = x509.NewCertPool() },
			class: outbound.ClassPermanent, errHas: "certificate does not verify"},
		{name: "implicit TLS against a STARTTLS port", server: smtptest.Config{Username: user, Password: pass},
			opts:  func(o *smtp.Options) { o.TLS = smtp.Implicit },
			class: outbound.ClassPermanent, errHas: "does not speak TLS"},
		{name: "relay never answers", opts: func(o *smtp.Options) {
			o.Addr, o.Timeout = smtptest.Silent(t), 200*time.Millisecond
		},
			class: outbound.ClassTemporary, errHas: "deadline exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, c.server)
			o := smtp.Options{Addr: srv.Addr, RootCAs: srv.Pool, Username: user, Password: pass, HeloName: "gw.test", Timeout: 5 * time.Second}
			if c.opts != nil {
				c.opts(&o)
			}
			tr, err := smtp.New(o)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			sent, err := tr.Send(context.Background(), msg)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Send took %v", d)
			}
			if !c.ok {
				if err == nil {
					t.Fatalf("Send succeeded, want a %v error", c.class)
				}
				t.Log(err)
				if got := outbound.ClassOf(err); got != c.class {
					t.Errorf("class = %v, want %v (err: %v)", got, c.class, err)
				}
				if !strings.Contains(err.Error(), c.errHas) {
					t.Errorf("err = %q, want it to mention %q", err, c.errHas)
				}
				if len(srv.Messages()) != 0 {
					t.Errorf("server accepted a message")
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if c.ref != "" && sent.Ref != c.ref {
				t.Errorf("Ref = %q, want %q", sent.Ref, c.ref)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("server has %d messages, want 1", len(got))
			}
			m := got[0]
			if m.From != "faktura@acme.example" || len(m.To) != 1 || m.To[0] != "kund@example.se" {
				t.Errorf("envelope = %s -> %v", m.From, m.To)
			}
			if string(m.Data) != raw {
				t.Errorf("data differs:\n%q\nwant\n%q", m.Data, raw)
			}
			if wantTLS := o.TLS != smtp.None; m.TLS != wantTLS {
				t.Errorf("received over TLS = %v, want %v", m.TLS, wantTLS)
			}
			if o.Username != "" && m.User != user {
				t.Errorf("AUTH user = %q", m.User)
			}
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	tr, err := smtp.New(smtp.Options{Addr: smtptest.Silent(t), TLS: smtp.Implicit})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = tr.Send(ctx, msg)
	if !errors.Is(err, context.Canceled) || outbound.ClassOf(err) != outbound.ClassTemporary {
		t.Errorf("err = %v, want a temporary context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send returned after %v", d)
	}
}

func TestEnvelopeFrom(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Config{})
	tr, err := smtp.New(smtp.Options{Addr: srv.Addr, RootCAs: srv.Pool, EnvelopeFrom: "Studs <bounces@acme.example>"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages()[0].From; got != "bounces@acme.example" {
		t.Errorf("MAIL FROM = %q", got)
	}
}

func TestMessageErrorsArePermanent(t *testing.T) {
	tr, err := smtp.New(smtp.Options{Addr: smtptest.Down(t)})
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]outbound.Message{
		"no From":      {Key: "k", To: "a@b.se", Body: []byte("Subject: x\r\n\r\nbody\r\n")},
		"bad To":       {Key: "k", To: "not an address", Body: []byte(raw)},
		"not a header": {Key: "k", To: "a@b.se", Body: []byte("no header here")},
	} {
		if _, err := tr.Send(context.Background(), m); outbound.ClassOf(err) != outbound.ClassPermanent {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
}

func TestNew(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(garbage, []byte("not a certificate"), 0o600)
	cases := []struct {
		name   string
		o      smtp.Options
		errHas string
	}{
		{"no port", smtp.Options{Addr: "relay.example.se"}, "host:port"},
		{"plaintext to a remote relay", smtp.Options{Addr: "relay.example.se:25", TLS: smtp.None}, "loopback"},
		{"unknown tls mode", smtp.Options{Addr: "relay.example.se:587", TLS: "ssl"}, `"ssl"`},
		{"password without user", smtp.Options{Addr: "relay.example.se:587", Password: "x"}, "set both"},
		{"CA file without certificates", smtp.Options{Addr: "relay.example.se:587", CAFile: garbage}, "no PEM certificate"},
		{"missing CA file", smtp.Options{Addr: "relay.example.se:587", CAFile: garbage + ".missing"}, "ca file"},
		{"plaintext on localhost", smtp.Options{Addr: "localhost:25", TLS: smtp.None}, ""},
		{"defaults", smtp.Options{Addr: "relay.example.se:587"}, ""},
	}
	for _, c := range cases {
		_, err := smtp.New(c.o)
		switch {
		case c.errHas == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)):
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.errHas)
		}
	}
}
