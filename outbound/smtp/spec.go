package smtp

import (
	"fmt"
	"net"

	"github.com/multikanal/multikanal/outbound"
)

// Spec is the transport as a channel's table names it, transport = "smtp".
// The e-mail channel adds the sender it writes into each message ("from").
var Spec = outbound.TransportSpec{
	Name:     "smtp",
	Required: []outbound.Key{outbound.KeyAddr},
	Optional: []outbound.Key{
		outbound.KeyUsername,
		outbound.KeyPasswordFile,
		{Name: "tls", Help: "starttls (port 587), implicit (port 465) or none (loopback relay only)", Default: StartTLS},
		outbound.KeyCAFile,
	},
	Check: check,
	Build: func(s outbound.Setup) (outbound.Transport, error) {
		password, err := s.Secret("password_file")
		if err != nil {
			return nil, err
		}
		return New(Options{Addr: s.Settings.Get("addr"), TLS: s.Settings.Get("tls"), CAFile: s.Settings.Get("ca_file"),
			Username: s.Settings.Get("username"), Password: password})
	},
}

// check finds what New would refuse, so `multikanal check` says it first.
func check(s outbound.Settings) []outbound.KeyProblem {
	var ps []outbound.KeyProblem
	switch s.Get("tls") {
	case StartTLS, Implicit:
	case None:
		if host, _, err := net.SplitHostPort(s.Get("addr")); err == nil && !loopback(host) {
			ps = append(ps, outbound.KeyProblem{Key: "tls", Msg: `"none" sends mail and password in clear text and is allowed only to a relay on loopback; use starttls or implicit`})
		}
	default:
		ps = append(ps, outbound.KeyProblem{Key: "tls", Msg: fmt.Sprintf("%q: use starttls (port 587), implicit (port 465) or none (loopback relay only)", s.Get("tls"))})
	}
	if s.Get("username") != "" && s.Get("password_file") == "" {
		ps = append(ps, outbound.KeyProblem{Key: "password_file", Msg: "required when username is set: " + outbound.KeyPasswordFile.Help})
	}
	if s.Get("password_file") != "" && s.Get("username") == "" {
		ps = append(ps, outbound.KeyProblem{Key: "username", Msg: "required when password_file is set: the SMTP login name"})
	}
	return ps
}
