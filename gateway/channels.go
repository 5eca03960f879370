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
	"github.com/multikanal/multikanal/outbound/spool"
)

// Readers are the input formats, asked in this order to recognise a file.
// A new format is one entry here. The CSV's channel column takes the
// distribution channels the configuration registers.
func Readers(cfg *config.Config) []formats.Reader {
	return []formats.Reader{ubl.Format{}, csv.Format{Channels: cfg.Distribution()}}
}

// CallbackURL returns the URL a receiver is to post its callback of kind
// (a channel name) about the delivery id to, or "" when the daemon takes
// no callbacks (the public listener is off, or the command runs offline).
type CallbackURL func(kind, id string) string

// Channels makes the registered channels (outbound/channels, handed to
// the configuration) from their configuration, in their order; a channel
// the configuration switched off (config.Channel.Off) is not made.
func Channels(cfg *config.Config, callback CallbackURL) ([]outbound.Channel, error) {
	invoicePDF, err := pdfSource()
	if err != nil {
		return nil, err
	}
	var out []outbound.Channel
	for _, name := range cfg.ChannelNames() {
		cc := cfg.ChannelConfig(name)
		if cc.Off != "" {
			continue
		}
		env := outbound.Env{Settings: cc.Settings, PDF: invoicePDF, Callback: callback.of(name)}
		for _, t := range cfg.Tenants {
			if a, ok := t.Agreements[name]; ok {
				if env.Agreements == nil {
					env.Agreements = map[string]any{}
				}
				env.Agreements[t.ID] = a
			}
		}
		ch, err := cc.Descriptor.New(env)
		if err != nil {
			return nil, fmt.Errorf("channel.%s: %w", name, err)
		}
		if ch.Name() != name {
			return nil, fmt.Errorf("channel %s: its New made a channel named %q", name, ch.Name())
		}
		out = append(out, ch)
	}
	return out, nil
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
	desc      outbound.Descriptor
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
		l := &laneParts{desc: cc.Descriptor, ch: ch, cfg: *cc}
		l.doc, _ = ch.(outbound.DocumentRenderer)
		l.batch, _ = ch.(outbound.BatchRenderer)
		if l.doc == nil && l.batch == nil {
			return nil, fmt.Errorf("channel %s renders neither documents nor batches", ch.Name())
		}
		if l.transport, err = buildTransport(cfg, cc); err != nil {
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

// buildTransport makes the transport a channel's configuration names: the
// spool, which every channel has, or one its descriptor declares.
func buildTransport(cfg *config.Config, cc *config.Channel) (outbound.Transport, error) {
	name := cc.Descriptor.Name
	spec, ok := cc.TransportSpec()
	switch {
	case cc.Transport == "" || cc.Transport == outbound.Spool:
		return spool.New(filepath.Join(cfg.DataDir, "outbox", name))
	case !ok:
		return nil, fmt.Errorf("transport %q is not one of the channel's; use \"spool\"", cc.Transport)
	}
	return spec.Build(outbound.Setup{
		Channel:  name,
		Settings: cc.Settings,
		Secret: func(key string) (string, error) {
			path := cc.Settings.Get(key)
			if path == "" {
				return "", nil
			}
			b, err := config.ReadSecret(path)
			if err != nil {
				return "", fmt.Errorf("%s: %w", key, err)
			}
			return strings.TrimSpace(string(b)), nil
		},
		HTTPClient: func() (*http.Client, error) { return httpClient(cc.Settings.Get("ca_file")) },
		Logger:     slog.Default().With("channel", name),
	})
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
