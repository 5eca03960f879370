package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A listener on the network needs TLS and, for the operators', a token
// from a file and the names clients use; each problem names its key.
func TestListenerExposure(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"cert.pem", "key.pem", "token"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o600)
	}
	tls := "tls_cert_file = \"cert.pem\"\ntls_key_file = \"key.pem\"\n"
	tests := []struct {
		name string
		doc  string
		want []string // "" = valid
	}{
		{"loopback", "[http]\nlisten = \"127.0.0.1:8080\"\n", nil},
		{"localhost", "[http]\nlisten = \"localhost:8080\"\n", nil},
		{"everywhere, nothing set", "[http]\nlisten = \"0.0.0.0:8080\"\n",
			[]string{`m.toml:8: http.tls_cert_file: required when http.listen "0.0.0.0:8080" is not on loopback`,
				`http.token_file: required when http.listen "0.0.0.0:8080" is not on loopback`,
				`http.hostnames: required when http.listen "0.0.0.0:8080" is a wildcard address`}},
		{"no host", "[http]\nlisten = \":8080\"\n", []string{"http.tls_cert_file: required", "http.hostnames: required"}},
		{"one address, TLS but no token", "[http]\nlisten = \"192.0.2.10:8443\"\n" + tls, []string{"http.token_file: required"}},
		{"everywhere, all set", "[http]\nlisten = \"[::]:8443\"\ntoken_file = \"token\"\nhostnames = [\"gw.example.se\"]\n" + tls, nil},
		{"cert without key", "[http]\ntls_cert_file = \"cert.pem\"\n", []string{"http.tls_key_file: required with tls_cert_file"}},
		{"bad host name", "[http]\nhostnames = [\"https://gw.example.se\", \"gw.example.se:443\"]\n",
			[]string{`http.hostnames[0]: "https://gw.example.se": write a host name`, `http.hostnames[1]`}},
		{"base URL with a query", "[http]\nbase_url = \"https://gw.example.se/?x=1\"\n", []string{"http.base_url", "without user, query or fragment"}},
		{"plain http base URL", "[http]\nbase_url = \"http://gw.example.se\"\n", []string{"http.base_url", "use https"}},
		{"public on loopback", "[public]\nlisten = \"127.0.0.1:8081\"\n", nil},
		{"public everywhere", "[public]\nlisten = \"0.0.0.0:8081\"\n",
			[]string{"public.tls_cert_file: required when public.listen", "public.base_url: required when public.listen"}},
		{"public everywhere, all set", "[public]\nlisten = \"0.0.0.0:8443\"\nbase_url = \"https://hooks.example.se\"\n" + tls, nil},
		{"public off, keys set", "[public]\nbase_url = \"https://hooks.example.se\"\n", []string{"public.base_url: not used while public.listen is off"}},
		{"sms reports without a base URL", "[public]\nlisten = \"127.0.0.1:8081\"\n[channel.sms]\ntransport = \"api\"\nbase_url = \"https://api.46elks.com\"\nusername = \"u\"\npassword_file = \"token\"\nfrom = \"Acme\"\n",
			[]string{"public.base_url: required by channel.sms (transport api)"}},
		{"confirm_within without reports", "[channel.sms]\ntransport = \"api\"\nbase_url = \"https://api.46elks.com\"\nusername = \"u\"\npassword_file = \"token\"\nfrom = \"Acme\"\nconfirm_within = \"4h\"\n",
			[]string{"channel.sms.confirm_within: needs delivery reports"}},
		{"the old webhook_url", "[channel.sms]\nwebhook_url = \"https://gw.example.se/hooks/sms\"\n",
			[]string{`unknown key "channel.sms.webhook_url": removed: delivery reports now go to the public listener`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(validDoc+tt.doc), "m.toml", dir, registered)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("error %v, want *config.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// serve's --http replaces the address after the file was checked;
// CheckListeners checks it again.
func TestCheckListenersAfterOverride(t *testing.T) {
	c := Default(t.TempDir(), registered)
	if err := c.CheckListeners(); err != nil {
		t.Fatalf("the embedded default: %v", err)
	}
	if c.Public.Listen != "127.0.0.1:8081" || c.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("embedded listeners: http %q, public %q", c.HTTP.Listen, c.Public.Listen)
	}
	c.HTTP.Listen = "0.0.0.0:8080"
	err := c.CheckListeners()
	if err == nil || !strings.Contains(err.Error(), "http.tls_cert_file: required") {
		t.Errorf("after --http 0.0.0.0:8080: %v", err)
	}
	if got, want := c.TokenPath(), filepath.Join(c.DataDir, TokenName); got != want {
		t.Errorf("TokenPath %q, want %q", got, want)
	}
}
