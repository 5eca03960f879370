package deliver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/spool"
)

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
