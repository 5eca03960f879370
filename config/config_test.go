package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/outbound/autogiro"
	"github.com/multikanal/multikanal/outbound/channels"
)

// autoGiro is the tenant's AutoGiro agreement, as the descriptor decoded
// it, or nil.
func autoGiro(t *Tenant) *autogiro.Agreement {
	a, _ := t.Agreements[autogiro.Name].(*autogiro.Agreement)
	return a
}

// registered are the channels the configuration is checked against, as
// the daemon registers them.
var registered = channels.All()

func TestDefault(t *testing.T) {
	dir := t.TempDir()
	c := Default(dir, registered)
	if !c.Embedded || c.Source != "embedded default" {
		t.Errorf("Embedded %v, Source %q", c.Embedded, c.Source)
	}
	if c.DataDir != dir {
		t.Errorf("DataDir %q, want %q", c.DataDir, dir)
	}
	if c.SFTP.Listen != "127.0.0.1:2222" || c.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("listen %q %q", c.SFTP.Listen, c.HTTP.Listen)
	}
	demo := c.Tenant("demo")
	if demo == nil {
		t.Fatal("no tenant demo")
	}
	agr := autoGiro(demo)
	if demo.Bankgiro != "9912346" || agr == nil || agr.CustomerNumber != "471117" || agr.Bankgiro != "9912346" {
		t.Fatalf("demo numbers: %+v autogiro %+v", demo, agr)
	}
	if !agr.Test {
		t.Errorf("the demo seals with Bankgirot's test key, so its agreement is in test mode (test = true)")
	}
	if got, want := agr.SealKeyFile, filepath.Join(dir, "keys/demo-autogiro.seal"); got != want {
		t.Errorf("seal_key_file %q, want %q", got, want)
	}
	if got, want := demo.SFTPAuthorizedKeys, filepath.Join(dir, "keys/demo.authorized_keys"); got != want {
		t.Errorf("sftp_authorized_keys %q, want %q", got, want)
	}
	if got := strings.Join(demo.Priority, ","); got != "peppol,efaktura,kivra,email,sms,print" {
		t.Errorf("priority %s", got)
	}
	if got, want := strings.Join(c.ChannelNames(), ","), strings.Join(channelNames, ","); got != want {
		t.Errorf("channels %s, want the registered %s", got, want)
	}
	for _, name := range c.ChannelNames() {
		ch := c.ChannelConfig(name)
		if ch.Transport != "spool" || ch.Workers != 4 {
			t.Errorf("channel %s: transport %q workers %d", name, ch.Transport, ch.Workers)
		}
		if (ch.Descriptor.Batch != nil) != ch.Cutoff.EndOfFile {
			t.Errorf("channel %s: end_of_file %v", name, ch.Cutoff.EndOfFile)
		}
	}
	want := Delivery{Workers: 4, MaxAttempts: 10, MaxAge: Duration(72 * time.Hour), BackoffMin: Duration(5 * time.Second), BackoffMax: Duration(30 * time.Minute), StopTimeout: Duration(20 * time.Second)}
	if c.Delivery != want {
		t.Errorf("delivery %+v, want %+v", c.Delivery, want)
	}
	if !c.SFTP.Defender.Enabled || c.SFTP.Defender.Threshold != 15 || c.SFTP.MaxFileSize != 1<<30 || c.SFTP.SyncOnClose || c.Inbox.SettleTime != Duration(2*time.Second) {
		t.Errorf("defaults: %+v %+v", c.SFTP, c.Inbox)
	}
	if Default("", registered).DataDir != "var" {
		t.Errorf(`Default("").DataDir = %q, want "var"`, Default("", registered).DataDir)
	}
	if len(ag.TestSealKey) != 32 {
		t.Errorf("TestSealKey has %d digits", len(ag.TestSealKey))
	}
}

// exampleIn returns the example configuration with its absolute paths moved
// into dir, and creates every file it names there.
func exampleIn(t testing.TB, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile("../systemd/multikanal.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(
		"/run/credentials/multikanal.service/", dir+"/",
		"/etc/multikanal/", dir+"/",
	).Replace(string(b))
	for _, m := range regexp.MustCompile(`_(?:file|keys|hosts) = "([^"]+)"`).FindAllStringSubmatch(s, -1) {
		if err := os.WriteFile(m[1], []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return []byte(s)
}

func TestExample(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse(exampleIn(t, dir), "multikanal.toml", dir, registered)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"peppol": "http", "efaktura": "sftp", "autogiro": "sftp", "kivra": "api", "email": "smtp", "sms": "api", "print": "sftp"}
	for name, tr := range want {
		if got := c.ChannelConfig(name).Transport; got != tr {
			t.Errorf("channel %s: transport %q, want %q", name, got, tr)
		}
	}
	acme := c.Tenant("acme")
	if acme == nil || acme.Orgnr != "5561234567" || autoGiro(acme) == nil || autoGiro(acme).Bankgiro != "50501055" {
		t.Errorf("tenant acme: %+v", acme)
	}
	if s := c.Summary(); !strings.Contains(s, "channel email    smtp relay.example.se:587") || !strings.Contains(s, "tenant acme") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestLoadRelativePaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "keys", "acme.pub"), "ssh-ed25519 AAAA x\n")
	writeFile(t, filepath.Join(dir, "smtp.secret"), "hunter2\n")
	path := filepath.Join(dir, "multikanal.toml")
	writeFile(t, path, validDoc+`sftp_authorized_keys = "keys/acme.pub"
[channel.email]
transport = "smtp"
addr = "127.0.0.1:25"
tls = "none"
from = "faktura@acme.se"
username = "mk"
password_file = "smtp.secret"
`)
	c, err := Load(path, registered)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Tenants[0].SFTPAuthorizedKeys, filepath.Join(dir, "keys", "acme.pub"); got != want {
		t.Errorf("sftp_authorized_keys %q, want %q", got, want)
	}
	if got, want := c.DataDir, filepath.Join(dir, "var"); got != want {
		t.Errorf("data_dir %q, want %q", got, want)
	}
	secret, err := ReadSecret(c.ChannelConfig("email").Settings.Get("password_file"))
	if err != nil || string(secret) != "hunter2" {
		t.Errorf("ReadSecret = %q, %v", secret, err)
	}
}

func TestCredentialsDirectory(t *testing.T) {
	creds := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	writeFile(t, filepath.Join(creds, "kivra"), "s3cret\r\n")
	c, err := Parse([]byte(validDoc+`
[channel.kivra]
transport = "api"
base_url = "https://sender.api.kivra.com"
client_id = "acme"
tenant_key = "acme"
client_secret_file = "kivra"
`), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.ChannelConfig("kivra").Settings.Get("client_secret_file"), filepath.Join(creds, "kivra"); got != want {
		t.Errorf("client_secret_file %q, want %q", got, want)
	}
	for _, p := range []string{"kivra", c.ChannelConfig("kivra").Settings.Get("client_secret_file")} {
		if b, err := ReadSecret(p); err != nil || string(b) != "s3cret" {
			t.Errorf("ReadSecret(%q) = %q, %v", p, b, err)
		}
	}
	writeFile(t, filepath.Join(creds, "empty"), "\n")
	if _, err := ReadSecret("empty"); err == nil {
		t.Error("ReadSecret of an empty file: no error")
	}
}

// validDoc is the smallest valid configuration; the cases below break it.
const validDoc = `data_dir = "var"
[[tenant]]
plusgiro = "4 41 09-7"
id = "acme"
name = "Acme Energi AB"
orgnr = "556123-4567"
priority = ["email", "print"]
`

// channelNames are the registered channels' names.
var channelNames = func() []string {
	var names []string
	for _, d := range registered {
		names = append(names, d.Name)
	}
	return names
}()

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error text
	}{
		{"unknown key", validDoc + "prioriy = [\"email\"]\n",
			[]string{`m.toml:8: unknown key "tenant[0].prioriy": did you mean "priority"?`}},
		{"unknown key second tenant", validDoc + "[[tenant]]\nid = \"b\"\nname = \"B\"\norgnr = \"5560000001\"\npriority = [\"sms\"]\ncolour = 1\n",
			[]string{`m.toml:13: unknown key "tenant[1].colour"`}},
		{"inline password", validDoc + "[channel.email]\ntransport = \"smtp\"\npassword = \"hunter2\"\n",
			[]string{`m.toml:10: unknown key "channel.email.password": secrets are given by password_file`}},
		{"inline seal key", strings.Replace(validDoc, "priority", "autogiro = { customer_number = \"471117\", seal_key = \"00\" }\npriority", 1),
			[]string{`m.toml:7: unknown key "tenant[0].autogiro.seal_key": secrets are given by seal_key_file`}},
		{"bad orgnr check digit", strings.Replace(validDoc, "556123-4567", "556123-4568", 1),
			[]string{"m.toml:6: tenant[0].orgnr: organisationsnummer 556123-4568: check digit is wrong, expected 7"}},
		{"bad bankgiro", validDoc + "bankgiro = \"5050-1056\"\n",
			[]string{"m.toml:8: tenant[0].bankgiro: bankgiro 5050-1056: check digit is wrong"}},
		{"unknown channel in priority", strings.Replace(validDoc, `"print"`, `"fax"`, 1),
			[]string{`m.toml:7: tenant[0].priority: unknown channel "fax"`}},
		{"autogiro in priority", strings.Replace(validDoc, `"print"`, `"autogiro"`, 1),
			[]string{`m.toml:7: tenant[0].priority: "autogiro" collects payments`}},
		{"duplicate channel in priority", strings.Replace(validDoc, `"print"`, `"email"`, 1),
			[]string{`tenant[0].priority: "email" is listed twice`}},
		{"duplicate tenant id", validDoc + "\n[[tenant]]\nid = \"acme\"\nname = \"B\"\norgnr = \"5560000001\"\npriority = [\"sms\"]\n",
			[]string{`m.toml:10: tenant[1].id: "acme" is already the id of tenant[0]`}},
		{"bad tenant id", strings.Replace(validDoc, `"acme"`, `"Acme AB"`, 1),
			[]string{`m.toml:4: tenant[0].id: "Acme AB": use 1 to 32 lower-case letters`}},
		{"no tenant", "data_dir = \"var\"\n", []string{"tenant: no tenant"}},
		{"smtp without addr", validDoc + "[channel.email]\ntransport = \"smtp\"\nfrom = \"f@acme.se\"\n",
			[]string{"m.toml:8: channel.email.addr: required by transport smtp"}},
		{"smtp username without password_file", validDoc + "[channel.email]\ntransport = \"smtp\"\naddr = \"relay.example.se:587\"\nfrom = \"f@acme.se\"\nusername = \"u\"\n",
			[]string{"channel.email.password_file: required when username is set"}},
		{"smtp tls none off loopback", validDoc + "[channel.email]\ntransport = \"smtp\"\naddr = \"relay.example.se:25\"\nfrom = \"f@acme.se\"\ntls = \"none\"\n",
			[]string{`m.toml:12: channel.email.tls: "none" sends mail and password in clear text`}},
		{"key unused by transport", validDoc + "[channel.email]\ntransport = \"smtp\"\naddr = \"relay.example.se:587\"\nfrom = \"f@acme.se\"\nbase_url = \"https://x.se\"\n",
			[]string{"m.toml:12: channel.email.base_url: not used by transport smtp"}},
		{"key on spool", validDoc + "[channel.kivra]\nclient_id = \"x\"\n",
			[]string{`m.toml:9: channel.kivra.client_id: not used by transport spool: remove it (set transport to use a real one: "api")`}},
		{"unknown transport", validDoc + "[channel.sms]\ntransport = \"smtp\"\n",
			[]string{`m.toml:9: channel.sms.transport: "smtp" is not a transport of channel sms: use "api", "spool"`}},
		{"http base_url", validDoc + "[channel.peppol]\ntransport = \"http\"\nbase_url = \"http://ap.example.se\"\ntoken_file = \"t\"\n",
			[]string{"channel.peppol.base_url: \"http://ap.example.se\": use https", "channel.peppol.token_file: "}},
		{"cutoff on email", validDoc + "[channel.email]\ncutoff = { end_of_file = true }\n",
			[]string{"m.toml:9: channel.email.cutoff: not used by channel email"}},
		{"bad cutoff time", validDoc + "[channel.print]\ncutoff = { times = [\"6:00\", \"25:00\"] }\n",
			[]string{`channel.print.cutoff.times[0]: "6:00": write a local time as HH:MM`, `channel.print.cutoff.times[1]: "25:00"`}},
		{"bad duration", validDoc + "[inbox]\nsettle_time = \"2 seconds\"\nscan_interval = 60\n",
			[]string{`m.toml:9: inbox.settle_time: duration "2 seconds": write a number with a unit`, "m.toml:10: inbox.scan_interval: found a whole number: write a duration as a string"}},
		{"negative duration", validDoc + "[delivery]\nmax_age = \"-1h\"\n",
			[]string{"m.toml:9: delivery.max_age: -1h0m0s: use a positive duration"}},
		{"backoff order", validDoc + "[delivery]\nbackoff_min = \"1h\"\nbackoff_max = \"1m\"\n",
			[]string{"m.toml:9: delivery.backoff_min: 1h0m0s is longer than backoff_max 1m0s"}},
		{"wrong type", validDoc + "[delivery]\nworkers = \"4\"\n",
			[]string{"m.toml:9: delivery.workers: found a string: write a whole number"}},
		{"bad size", validDoc + "[sftp]\nmax_file_size = \"1 gigabyte\"\n",
			[]string{`m.toml:9: sftp.max_file_size: size "1 gigabyte"`}},
		{"sync_on_close not a bool", validDoc + "[sftp]\nsync_on_close = \"yes\"\n",
			[]string{"m.toml:9: sftp.sync_on_close: found a string: write true or false"}},
		{"bad max_startups", validDoc + "[sftp]\nmax_startups = \"10:30\"\n",
			[]string{`sftp.max_startups: "10:30": write "start:rate:full" as in OpenSSH, like "10:30:100"`}},
		{"max_startups full below start", validDoc + "[sftp]\nmax_startups = \"100:30:10\"\n",
			[]string{`sftp.max_startups: "100:30:10": want 1 <= start <= full`}},
		{"open files", validDoc + "[sftp]\nmax_open_files_per_session = -1\nmax_open_files_per_tenant = 3\n",
			[]string{"m.toml:9: sftp.max_open_files_per_session: -1: use a positive number",
				"m.toml:10: sftp.max_open_files_per_tenant: 3: a tenant needs 1 for its connection, 3 for its session and 1 per open file"}},
		{"open files not a number", validDoc + "[sftp]\nmax_open_files = \"many\"\n",
			[]string{"m.toml:9: sftp.max_open_files: found a string: write a whole number"}},
		{"bad listen", validDoc + "[http]\nlisten = \"8080\"\n",
			[]string{`m.toml:9: http.listen: "8080": write an IP address and port`}},
		{"missing file", validDoc + "sftp_authorized_keys = \"nope.pub\"\n",
			[]string{"m.toml:8: tenant[0].sftp_authorized_keys: ", "nope.pub: no such file or directory: create the file or correct the path"}},
		{"autogiro customer number", validDoc + "bankgiro = \"5050-1055\"\n[tenant.autogiro]\ncustomer_number = \"4711\"\n",
			[]string{`m.toml:10: tenant[0].autogiro.customer_number: "4711": the AutoGiro customer number`, "tenant[0].autogiro.seal_key_file: required"}},
		{"unknown table", validDoc + "[channel.fax]\n", []string{`m.toml:8: unknown key "channel.fax": known keys here: ` + strings.Join(slices.Sorted(slices.Values(channelNames)), ", ")}},
		{"syntax error", validDoc + "name = \n", []string{"m.toml:8:8: "}},
		{"bad log level", "log_level = \"loud\"\n" + validDoc, []string{`m.toml:1: log_level: "loud" is not a level`}},
		{"no data_dir", strings.Replace(validDoc, `data_dir = "var"`, "", 1), []string{"data_dir: required"}},
		{"no payment account", strings.Replace(validDoc, "plusgiro = \"4 41 09-7\"\n", "", 1),
			[]string{"m.toml:2: tenant[0].bankgiro: required: at least one payment account", "bankgiro (like \"5050-1055\"), plusgiro, iban or swish"}},
		{"open in a file", validDoc + "open = true\n",
			[]string{"m.toml:8: tenant[0].open: only the embedded default's demo tenant may be open"}},
		{"open in a file without accounts", strings.Replace(validDoc, "plusgiro = \"4 41 09-7\"\n", "", 1) + "open = true\n",
			[]string{"tenant[0].open: only the embedded default's demo tenant may be open"}},
		{"bad seller_orgnr", validDoc + "seller_orgnr = \"556612-3451\"\n",
			[]string{"m.toml:8: tenant[0].seller_orgnr: organisationsnummer 556612-3451: check digit is wrong, expected 0"}},
		{"vat_id of another seller", validDoc + "vat_id = \"SE556612345001\"\n",
			[]string{"m.toml:8: tenant[0].vat_id: SE556612345001 is the VAT id of organisationsnummer 5566123450, not of the seller 5561234567"}},
		{"bad vat_id", validDoc + "vat_id = \"SE5561234567\"\n",
			[]string{"m.toml:8: tenant[0].vat_id: VAT id SE5561234567: a Swedish VAT id is SE"}},
		{"bad iban", validDoc + "iban = \"SE45 5000 0000 0583 9825 7467\"\n",
			[]string{"m.toml:8: tenant[0].iban: IBAN SE45 5000 0000 0583 9825 7467: check digits 45 are wrong"}},
		{"bad swish", validDoc + "swish = \"070-123 45 67\"\n",
			[]string{"m.toml:8: tenant[0].swish: Swish number \"070-123 45 67\": a business Swish number has 10 digits starting with 123"}},
		{"bad plusgiro", strings.Replace(validDoc, "4 41 09-7", "4 41 09-8", 1),
			[]string{"m.toml:3: tenant[0].plusgiro: plusgiro 4 41 09-8: check digit is wrong"}},
		{"bad duplicates", validDoc + "duplicates = \"ignore\"\n",
			[]string{`m.toml:8: tenant[0].duplicates: "ignore": use "refuse"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "m.toml", t.TempDir(), registered)
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("error %v (%T), want *config.Error", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// A tenant from a file is pinned to its seller, by default the biller's
// own orgnr, and lists the accounts its invoices may be payable to.
func TestBillerKeys(t *testing.T) {
	c, err := Parse([]byte(validDoc+"vat_id = \"se 556123-4567 01\"\nbankgiro = \"5050-1055\"\niban = \"SE45 5000 0000 0583 9825 7466\"\nswish = \"123 456 78 90\"\n"), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	acme := c.Tenants[0]
	if acme.SellerOrgnr != "5561234567" || acme.VATID != "SE556123456701" || acme.Open || acme.Duplicates != DuplicatesRefuse {
		t.Errorf("seller %q, vat_id %q, open %v, duplicates %q", acme.SellerOrgnr, acme.VATID, acme.Open, acme.Duplicates)
	}
	if got := strings.Join(acme.Accounts(), ", "); got != "bankgiro 50501055, plusgiro 441097, iban SE4550000000058398257466, swish 1234567890" {
		t.Errorf("accounts %s", got)
	}
	if s := c.Summary(); !strings.Contains(s, "seller 5561234567, paid to bankgiro 50501055, plusgiro 441097") {
		t.Errorf("summary:\n%s", s)
	}
	c, err = Parse([]byte(validDoc+"seller_orgnr = \"556612-3450\"\nduplicates = \"warn\"\n"), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	if acme := c.Tenants[0]; acme.SellerOrgnr != "5566123450" || acme.Orgnr != "5561234567" || acme.Duplicates != DuplicatesWarn {
		t.Errorf("seller_orgnr %q (orgnr %q), duplicates %q", acme.SellerOrgnr, acme.Orgnr, acme.Duplicates)
	}
	demo := Default(t.TempDir(), registered).Tenant("demo")
	if !demo.Open || demo.Swish != "1231181189" || demo.SellerOrgnr != "5560000001" || demo.Duplicates != DuplicatesRefuse {
		t.Errorf("embedded demo: open %v, swish %q, seller %q, duplicates %q", demo.Open, demo.Swish, demo.SellerOrgnr, demo.Duplicates)
	}
}

// TestAllProblems checks that validation goes on after the first problem.
func TestAllProblems(t *testing.T) {
	doc := strings.Replace(validDoc, "556123-4567", "556123-4568", 1) + "prioriy = []\n[channel.email]\ntransport = \"smtp\"\n"
	_, err := Parse([]byte(doc), "m.toml", t.TempDir(), registered)
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 4 {
		t.Fatalf("want 4 problems (orgnr, prioriy, addr, from), got:\n%v", err)
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != 4 {
		t.Errorf("Error() has %d lines, want 4", lines)
	}
}

func TestDisableAndDefaults(t *testing.T) {
	c, err := Parse([]byte(validDoc+"[sftp]\nlisten = \"\"\nsync_on_close = true\n[sftp.defender]\nenabled = false\n[channel.print]\ntransport = \"spool\"\nworkers = 2\n"), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	if c.SFTP.Listen != "" || !c.SFTP.SyncOnClose || c.SFTP.Defender.Enabled || c.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("sftp %q sync_on_close %v defender %v http %q", c.SFTP.Listen, c.SFTP.SyncOnClose, c.SFTP.Defender.Enabled, c.HTTP.Listen)
	}
	if c.ChannelConfig("print").Workers != 2 || c.ChannelConfig("email").Workers != 4 || !c.ChannelConfig("print").Cutoff.EndOfFile {
		t.Errorf("print %+v email workers %d", c.ChannelConfig("print"), c.ChannelConfig("email").Workers)
	}
}

// The limits against one hostile tenant: OpenSSH's defaults where it has
// them, and MaxStartups in both of its forms.
func TestSFTPLimits(t *testing.T) {
	c, err := Parse([]byte(validDoc), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	s := c.SFTP
	if s.MaxStartups != "10:30:100" || s.MaxOpenFilesPerSession != 64 || s.MaxOpenFilesPerTenant != 256 || s.MaxOpenFiles != 4096 {
		t.Errorf("defaults: %+v", s)
	}
	for doc, want := range map[string][3]int{
		"max_startups = \"5:50:20\"": {5, 50, 20},
		"max_startups = \"8\"":       {8, 100, 8},
	} {
		c, err := Parse([]byte(validDoc+"[sftp]\n"+doc+"\n"), "m.toml", t.TempDir(), registered)
		if err != nil {
			t.Fatal(err)
		}
		if start, rate, full := c.SFTP.Startups(); [3]int{start, rate, full} != want {
			t.Errorf("%s: %d:%d:%d, want %v", doc, start, rate, full, want)
		}
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		out  string
	}{
		{"1024", 1024, "1KiB"},
		{"1GiB", 1 << 30, "1GiB"},
		{"256MiB", 256 << 20, "256MiB"},
		{"256 mib", 256 << 20, "256MiB"},
		{"10MB", 10_000_000, "10000000"},
		{"3B", 3, "3"},
		{"0", 0, "0"},
	}
	for _, tt := range tests {
		var s ByteSize
		if err := s.UnmarshalText([]byte(tt.in)); err != nil || s != tt.want {
			t.Errorf("%q: %d, %v; want %d", tt.in, s, err, tt.want)
			continue
		}
		if out, _ := s.MarshalText(); string(out) != tt.out {
			t.Errorf("%q marshals as %q, want %q", tt.in, out, tt.out)
		}
	}
	for _, bad := range []string{"", "GiB", "1.5GiB", "-1", "1 PB", "99999999999TiB"} {
		var s ByteSize
		if err := s.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDuration(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1m30s")); err != nil || d.D() != 90*time.Second {
		t.Errorf("1m30s: %v, %v", d, err)
	}
	if out, _ := d.MarshalText(); string(out) != "1m30s" {
		t.Errorf("marshals as %q", out)
	}
	if err := d.UnmarshalText([]byte("5")); err == nil {
		t.Error(`"5": no error`)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(defaultTOML)
	f.Add(exampleIn(f, f.TempDir()))
	f.Add([]byte(validDoc))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.toml", dir, registered)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned %v and %v", c, err)
		}
		if c != nil {
			_ = c.Summary()
		}
	})
}

// TestAutoGiroTestKey refuses an agreement that seals with Bankgirot's
// published test key outside test mode: its files would be named for
// production (IAGAG) and refused there.
func TestAutoGiroTestKey(t *testing.T) {
	for _, tt := range []struct {
		name, key, extra, want string
	}{
		{"test key, production", ag.TestSealKey, "", `m.toml:9: tenant[0].autogiro.test: the seal key file holds Bankgirot's published test key: set test = true`},
		{"test key in lower case", strings.ToLower(ag.TestSealKey), "", "tenant[0].autogiro.test"},
		{"test key, test mode", ag.TestSealKey, "test = true\n", ""},
		{"own key, production", "00112233445566778899AABBCCDDEEFF", "", ""},
		{"test not a bool", "00112233445566778899AABBCCDDEEFF", "test = \"yes\"\n", "tenant[0].autogiro.test: found a string: write true or false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "seal"), []byte(tt.key+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			doc := validDoc + "bankgiro = \"5050-1055\"\n[tenant.autogiro]\ncustomer_number = \"471117\"\nseal_key_file = \"seal\"\n" + tt.extra
			c, err := Parse([]byte(doc), "m.toml", dir, registered)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("%v", err)
			case tt.want == "" && autoGiro(&c.Tenants[0]).Test != strings.Contains(tt.extra, "true"):
				t.Errorf("test = %v", autoGiro(&c.Tenants[0]).Test)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
