package gateway

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/formats/pdf"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/autogiro"
	"github.com/multikanal/multikanal/outbound/efaktura"
	"github.com/multikanal/multikanal/outbound/email"
	"github.com/multikanal/multikanal/outbound/kivra"
	"github.com/multikanal/multikanal/outbound/paper"
	"github.com/multikanal/multikanal/outbound/peppol"
	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/sms"
	"github.com/multikanal/multikanal/outbound/smtp"
	"github.com/multikanal/multikanal/outbound/spool"
)

// Readers are the input formats, asked in this order to recognise a file.
// A new format is one line here.
var Readers = []formats.Reader{ubl.Format{}, csv.Format{}}

// CallbackURL returns the URL a receiver is to post its callback of kind
// (a channel name) about the delivery id to, or "" when the daemon takes
// no callbacks (the public listener is off, or the command runs offline).
type CallbackURL func(kind, id string) string

// Channels are the distribution channels, set up from the configuration.
// A new channel is one line here.
func Channels(cfg *config.Config, callback CallbackURL) ([]outbound.Channel, error) {
	invoicePDF, err := pdfSource()
	if err != nil {
		return nil, err
	}
	mail, err := email.New(email.Options{From: cfg.Channels.Email.From, PDF: invoicePDF})
	if err != nil {
		return nil, fmt.Errorf("channel.email: %w", err)
	}
	return []outbound.Channel{
		peppol.New(),
		efaktura.New(),
		kivra.New(kivra.Options{PDF: invoicePDF}),
		mail,
		sms.New(sms.Options{From: cfg.Channels.SMS.From, Callback: callback.of(outbound.SMS)}),
		paper.New(paper.Options{PDF: invoicePDF}),
		autogiro.New(),
	}, nil
}

// pdfSource is the invoice PDF every channel sends: the invoice's own PDF
// when it carries one (the biller's layout wins), otherwise our rendering.
// The renderer parses its fonts once and is shared by all channels.
func pdfSource() (func(*formats.Document) ([]byte, error), error) {
	r, err := pdf.NewRenderer(pdf.Options{})
	if err != nil {
		return nil, fmt.Errorf("invoice PDF renderer: %w", err)
	}
	return func(doc *formats.Document) ([]byte, error) {
		if b, ok := pdf.Attached(doc); ok {
			return b, nil
		}
		var buf bytes.Buffer
		buf.Grow(64 << 10) // a one-page invoice is ~43 KB; growing by doubling cost 5% of the CPU
		if err := r.Render(&buf, doc); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}, nil
}

// lane is a channel with the transport its configuration chose. Its parts
// are replaced whole on a configuration reload; a send in flight keeps the
// parts it started with.
type lane struct {
	name  string
	parts atomic.Pointer[laneParts]
}

type laneParts struct {
	ch        outbound.Channel
	transport outbound.Transport
	doc       outbound.DocumentRenderer // per-document channels
	batch     outbound.BatchRenderer    // batch channels
	cfg       config.Channel
}

func (l *lane) get() *laneParts { return l.parts.Load() }

// of returns the callback URLs of one kind, or nil for none.
func (c CallbackURL) of(kind string) func(id string) string {
	if c == nil {
		return nil
	}
	return func(id string) string { return c(kind, id) }
}

// buildLanes composes each channel with its configured transport.
func buildLanes(cfg *config.Config, callback CallbackURL) (map[string]*laneParts, error) {
	lanes := map[string]*laneParts{}
	channels, err := Channels(cfg, callback)
	if err != nil {
		return nil, err
	}
	for _, ch := range channels {
		cc := cfg.ChannelConfig(ch.Name())
		if cc == nil {
			return nil, fmt.Errorf("channel %s has no configuration", ch.Name())
		}
		l := &laneParts{ch: ch, cfg: *cc}
		l.doc, _ = ch.(outbound.DocumentRenderer)
		l.batch, _ = ch.(outbound.BatchRenderer)
		if l.doc == nil && l.batch == nil {
			return nil, fmt.Errorf("channel %s renders neither documents nor batches", ch.Name())
		}
		if l.transport, err = buildTransport(cfg, ch.Name(), *cc); err != nil {
			return nil, fmt.Errorf("channel.%s: %w", ch.Name(), err)
		}
		lanes[ch.Name()] = l
	}
	return lanes, nil
}

// billerOf is the tenant as batch channels need it. The seal key is read
// from its file here, when a batch is rendered, so a rotated key is used at
// once.
func billerOf(t config.Tenant) (outbound.Biller, error) {
	b := outbound.Biller{ID: t.ID, Name: t.Name, Orgnr: t.Orgnr, Bankgiro: t.Bankgiro, Plusgiro: t.Plusgiro}
	if ag := t.AutoGiro; ag != nil {
		b.AutoGiroCustomer, b.AutoGiroBankgiro, b.AutoGiroTest = ag.CustomerNumber, ag.Bankgiro, ag.Test
		if b.AutoGiroBankgiro == "" {
			b.AutoGiroBankgiro = t.Bankgiro
		}
		if ag.SealKeyFile != "" {
			key, err := config.ReadSecret(ag.SealKeyFile)
			if err != nil {
				return b, fmt.Errorf("tenant %s: autogiro seal key: %w", t.ID, err)
			}
			b.SealKey = strings.TrimSpace(string(key))
		}
	}
	return b, nil
}

func (d *Daemon) biller(tenant string) (outbound.Biller, error) {
	t := d.tenant(tenant)
	if t == nil {
		return outbound.Biller{}, fmt.Errorf("tenant %q is no longer configured", tenant)
	}
	return billerOf(t.cfg)
}

// buildTransport makes the transport a channel's configuration names. A new
// transport is one case here.
func buildTransport(cfg *config.Config, channel string, cc config.Channel) (outbound.Transport, error) {
	secret := func(path string) (string, error) {
		if path == "" {
			return "", nil
		}
		b, err := config.ReadSecret(path)
		return strings.TrimSpace(string(b)), err
	}
	switch {
	case cc.Transport == "" || cc.Transport == "spool":
		return spool.New(filepath.Join(cfg.DataDir, "outbox", channel))
	case channel == outbound.Email && cc.Transport == "smtp":
		password, err := secret(cc.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("password_file: %w", err)
		}
		return smtp.New(smtp.Options{Addr: cc.Addr, TLS: cc.TLS, CAFile: cc.CAFile, Username: cc.Username, Password: password})
	case channel == outbound.Peppol && cc.Transport == "http":
		token, err := secret(cc.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("token_file: %w", err)
		}
		client, err := httpClient(cc.CAFile)
		if err != nil {
			return nil, err
		}
		return &peppol.AccessPoint{BaseURL: cc.BaseURL, Token: token, Client: client}, nil
	case channel == outbound.Peppol && cc.Transport == "folder":
		return spool.New(cc.Dir)
	case cc.Transport == "sftp":
		return sftpput.New(sftpput.Options{Addr: cc.Addr, User: cc.Username, KeyFile: cc.KeyFile,
			KnownHostsFile: cc.KnownHosts, RemoteDir: cc.RemoteDir, Logger: slog.Default().With("channel", channel)})
	case channel == outbound.SMS && cc.Transport == "api":
		password, err := secret(cc.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("password_file: %w", err)
		}
		client, err := httpClient(cc.CAFile)
		if err != nil {
			return nil, err
		}
		return sms.NewHTTP(sms.Options{BaseURL: cc.BaseURL, Username: cc.Username, Password: password, Client: client}), nil
	case channel == outbound.Kivra && cc.Transport == "api":
		clientSecret, err := secret(cc.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("client_secret_file: %w", err)
		}
		client, err := httpClient(cc.CAFile)
		if err != nil {
			return nil, err
		}
		return kivra.NewClient(kivra.Options{BaseURL: cc.BaseURL, ClientID: cc.ClientID, ClientSecret: clientSecret, TenantKey: cc.TenantKey, HTTP: client}), nil
	}
	return nil, fmt.Errorf("transport %q is not available for this channel in this build; use \"spool\"", cc.Transport)
}

// httpClient trusts the system roots plus, when given, the CA in caFile.
func httpClient(caFile string) (*http.Client, error) {
	c := &http.Client{Timeout: 2 * time.Minute}
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", caFile)
	}
	c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return c, nil
}
