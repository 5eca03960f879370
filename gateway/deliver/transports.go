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
	"github.com/multikanal/multikanal/outbound/kivra"
	"github.com/multikanal/multikanal/outbound/peppol"
	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/sms"
	"github.com/multikanal/multikanal/outbound/smtp"
	"github.com/multikanal/multikanal/outbound/spool"
)

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
