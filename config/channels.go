package config

import "time"

// ChannelNames returns the names of the channels in their [channel.NAME]
// order: the six distribution channels and autogiro, which collects
// payments rather than distributing invoices.
func ChannelNames() []string {
	return []string{"peppol", "efaktura", "kivra", "email", "sms", "print", "autogiro"}
}

// ChannelConfig returns the [channel.NAME] table of the named channel, or
// nil for a name that is not a channel.
func (c *Config) ChannelConfig(name string) *Channel {
	ch := &c.Channels
	switch name {
	case "peppol":
		return &ch.Peppol
	case "efaktura":
		return &ch.Efaktura
	case "autogiro":
		return &ch.AutoGiro
	case "kivra":
		return &ch.Kivra
	case "email":
		return &ch.Email
	case "sms":
		return &ch.SMS
	case "print":
		return &ch.Print
	}
	return nil
}

// Tenant returns the tenant with the given id, or nil.
func (c *Config) Tenant(id string) *Tenant {
	for i := range c.Tenants {
		if c.Tenants[i].ID == id {
			return &c.Tenants[i]
		}
	}
	return nil
}

// isBatch reports whether a channel collects deliveries into batch files,
// which is what makes [channel.NAME.cutoff] mean something.
func isBatch(name string) bool {
	return name == "efaktura" || name == "autogiro" || name == "print"
}

// transportSpec lists the keys of a [channel.NAME] table that a transport
// needs and those it may use; any other connection key is refused so that a
// setting that does nothing is never silently ignored.
type transportSpec struct {
	required []string
	optional []string
}

var sftpSpec = transportSpec{required: []string{"addr", "username", "key_file", "known_hosts", "remote_dir"}}

// transports is, per channel, every transport it can run on.
var transports = map[string]map[string]transportSpec{
	"peppol": {
		"spool":  {},
		"http":   {required: []string{"base_url", "token_file"}, optional: []string{"ca_file"}},
		"folder": {required: []string{"dir"}},
		"sftp":   sftpSpec,
	},
	"efaktura": {"spool": {}, "sftp": sftpSpec},
	"autogiro": {"spool": {}, "sftp": sftpSpec},
	"print":    {"spool": {}, "sftp": sftpSpec},
	"kivra": {
		"spool": {},
		"api":   {required: []string{"base_url", "client_id", "client_secret_file", "tenant_key"}, optional: []string{"ca_file"}},
	},
	"email": {
		"spool": {},
		"smtp":  {required: []string{"addr", "from"}, optional: []string{"username", "password_file", "tls", "ca_file"}},
	},
	"sms": {
		"spool": {},
		"api":   {required: []string{"base_url", "username", "password_file", "from"}, optional: []string{"ca_file", "confirm_within"}},
	},
}

// connectionKeys returns the transport-specific keys of a channel table
// with their values, in the order they are declared in Channel.
func connectionKeys(ch *Channel) []struct{ key, value string } {
	return []struct{ key, value string }{
		{"addr", ch.Addr},
		{"base_url", ch.BaseURL},
		{"username", ch.Username},
		{"password_file", ch.PasswordFile},
		{"token_file", ch.TokenFile},
		{"client_id", ch.ClientID},
		{"client_secret_file", ch.ClientSecretFile},
		{"tenant_key", ch.TenantKey},
		{"confirm_within", durationText(ch.ConfirmWithin)},
		{"key_file", ch.KeyFile},
		{"known_hosts", ch.KnownHosts},
		{"remote_dir", ch.RemoteDir},
		{"dir", ch.Dir},
		{"tls", ch.TLS},
		{"ca_file", ch.CAFile},
		{"from", ch.From},
	}
}

// keyHelp says what a required connection key holds, for the message that
// asks for it.
var keyHelp = map[string]string{
	"addr":               "the server's host:port",
	"base_url":           `the service's https:// URL`,
	"username":           "the account name at the service",
	"password_file":      "a file (or systemd credential) holding the password",
	"token_file":         "a file (or systemd credential) holding the access token",
	"client_id":          "the OAuth2 client id the service issued",
	"client_secret_file": "a file (or systemd credential) holding the OAuth2 client secret",
	"tenant_key":         "the sender's tenant key in Kivra, which content is sent as",
	"confirm_within":     "how long an SMS may go unconfirmed by its delivery report before the invoice falls back, like \"4h\"",
	"key_file":           "the SSH private key file to log in with",
	"known_hosts":        "an OpenSSH known_hosts file with the server's host key",
	"remote_dir":         `the folder on the server to put files in, like "/in"`,
	"dir":                "the local folder to write documents into",
	"from":               `the sender: an email address, like "Acme <faktura@acme.se>", or an SMS sender name`,
}

// durationText is a duration key's value for the unused-key check: empty
// when unset.
func durationText(d Duration) string {
	if d == 0 {
		return ""
	}
	return time.Duration(d).String()
}
