package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
)

// The operators' listener carries personal data and acts on the store; the
// public one faces the internet. What follows keeps either from being put
// on the network without TLS and authentication (docs/security.md).

// Names in the data directory that the daemon and the CLI agree on.
const (
	// SocketName is the operators' Unix socket: a local client that may
	// open it (mode 0660, the data directory's group) is authenticated by
	// that alone.
	SocketName = "http.sock"
	// TokenName is the bearer token the daemon generates when
	// http.token_file is not set.
	TokenName = "http.token"
)

// SocketPath is where the daemon listens for local operators.
func (c *Config) SocketPath() string { return filepath.Join(c.DataDir, SocketName) }

// TokenPath is the file holding the operators' bearer token:
// http.token_file, or the one the daemon generates in the data directory.
func (c *Config) TokenPath() string {
	if c.HTTP.TokenFile != "" {
		return c.HTTP.TokenFile
	}
	return filepath.Join(c.DataDir, TokenName)
}

// CheckListeners validates the [http] and [public] tables again. serve
// calls it after --http and --public replaced the addresses, so that a
// flag cannot put the API on the network without TLS and a token either.
func (c *Config) CheckListeners() error {
	ps := &problems{file: c.Source, index: docIndex{}}
	c.validateListeners(ps)
	return ps.err()
}

var hostname = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)

func (c *Config) validateListeners(ps *problems) {
	h := c.HTTP
	if h.Listen != "" {
		checkListen(ps, "http.listen", h.Listen)
	}
	for i, name := range h.Hostnames {
		if !hostname.MatchString(name) && net.ParseIP(name) == nil {
			ps.add(fmt.Sprintf("http.hostnames[%d]", i), `%q: write a host name or IP address without scheme or port, like "gw.example.se"`, name)
		}
	}
	checkBaseURL(ps, "http.base_url", h.BaseURL)
	c.checkFile(ps, "http.token_file", h.TokenFile)
	c.checkTLS(ps, "http", h.TLSCertFile, h.TLSKeyFile)
	if exposed(h.Listen) {
		if h.TLSCertFile == "" {
			ps.add("http.tls_cert_file", "required when http.listen %q is not on loopback: the API carries personal data and its token; set tls_cert_file and tls_key_file, or listen on 127.0.0.1 behind a reverse proxy that terminates TLS", h.Listen)
		}
		if h.TokenFile == "" {
			ps.add("http.token_file", "required when http.listen %q is not on loopback: a file (or systemd credential) holding the bearer token clients send", h.Listen)
		}
		if wildcard(h.Listen) && len(h.Hostnames) == 0 && h.BaseURL == "" {
			ps.add("http.hostnames", "required when http.listen %q is a wildcard address: the names clients reach the daemon by (any other Host header is refused)", h.Listen)
		}
	}

	p := c.Public
	if p.Listen != "" {
		checkListen(ps, "public.listen", p.Listen)
	}
	checkBaseURL(ps, "public.base_url", p.BaseURL)
	c.checkFile(ps, "public.signing_key_file", p.SigningKeyFile)
	c.checkTLS(ps, "public", p.TLSCertFile, p.TLSKeyFile)
	if exposed(p.Listen) {
		if p.TLSCertFile == "" {
			ps.add("public.tls_cert_file", "required when public.listen %q is not on loopback: callback URLs carry their keys; set tls_cert_file and tls_key_file, or listen on 127.0.0.1 behind a reverse proxy that terminates TLS", p.Listen)
		}
		if p.BaseURL == "" {
			ps.add("public.base_url", "required when public.listen %q is not on loopback: the https:// URL receivers reach the listener at", p.Listen)
		}
	}
	// A transport whose receiver posts reports needs the listener they
	// arrive on, and the URL that reaches it.
	for _, name := range c.ChannelNames() {
		ch := c.ChannelConfig(name)
		spec, _ := ch.TransportSpec()
		if spec.Reports == "" {
			continue
		}
		if p.Listen != "" && p.BaseURL == "" && !exposed(p.Listen) {
			ps.add("public.base_url", "required by channel.%s (transport %s): the https:// URL, reaching public.listen, that the receiver posts %s to", name, ch.Transport, spec.Reports)
		}
		if p.Listen == "" && ch.ConfirmWithin != 0 {
			ps.add("channel."+name+".confirm_within", `needs %s, which arrive on the public listener: set [public] listen and base_url, or remove confirm_within`, spec.Reports)
		}
	}
	if p.Listen == "" {
		for _, kv := range []struct{ key, value string }{{"base_url", p.BaseURL}, {"signing_key_file", p.SigningKeyFile}, {"tls_cert_file", p.TLSCertFile}} {
			if kv.value != "" {
				ps.add("public."+kv.key, `not used while public.listen is off: set listen (like "127.0.0.1:8081") or remove it`)
			}
		}
	}
}

// checkBaseURL requires a URL a browser or receiver can open: http(s)
// (plain http to loopback only), with no query or fragment, since paths
// are appended to it.
func checkBaseURL(ps *problems, key, raw string) {
	if raw == "" {
		return
	}
	n := len(ps.list)
	checkURL(ps, key, raw)
	if len(ps.list) > n {
		return
	}
	if u, _ := url.Parse(raw); u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		ps.add(key, "%q: write the URL without user, query or fragment, like \"https://gw.example.se\"", raw)
	}
}

// checkTLS requires the certificate and its key together.
func (c *Config) checkTLS(ps *problems, table, cert, key string) {
	switch {
	case cert != "" && key == "":
		ps.add(table+".tls_key_file", "required with tls_cert_file: the PEM private key of the certificate")
	case key != "" && cert == "":
		ps.add(table+".tls_cert_file", "required with tls_key_file: the PEM certificate chain")
	}
	c.checkFile(ps, table+".tls_cert_file", cert)
	c.checkFile(ps, table+".tls_key_file", key)
}

// exposed reports whether a listen address reaches beyond this host: a
// wildcard or any address that is not loopback.
func exposed(listen string) bool {
	if listen == "" {
		return false
	}
	host, _, err := net.SplitHostPort(listen)
	return err == nil && !isLoopback(host)
}

// wildcard reports whether a listen address takes every address of the
// host, so it has no name of its own to check Host headers against.
func wildcard(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}
