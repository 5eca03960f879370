package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// [tenant.reminders], [tenant.webhook], [tenant.api] and [tenant.prices]:
// what check refuses, naming the key and the rule (the fee's cap by
// förordning (2013:60), only where agreed by lag (1981:739) 2 §), and what
// it reads.
func TestRemindersAndWebhookChecked(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "hook.key")
	os.WriteFile(key, []byte("0123456789abcdef0123"), 0o600)
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("abc"), 0o600)
	for _, tt := range []struct {
		name, doc, want string
	}{
		{"fee above the cap", "[tenant.reminders]\nfee = \"75\"\nfee_agreed = true\n", "tenant[0].reminders.fee: 75,00 kr is more than the 60,00 kr"},
		{"fee not agreed", "[tenant.reminders]\nfee = \"60\"\n", "tenant[0].reminders.fee_agreed: a reminder fee is owed only when it was agreed"},
		{"reference rate missing", "[tenant.reminders]\ninterest = \"reference\"\n", "tenant[0].reminders.reference_rate: required"},
		{"bad interest", "[tenant.reminders]\ninterest = \"lots\"\n", "tenant[0].reminders.interest: \"lots\""},
		{"too many reminders", "[tenant.reminders]\nmax = 9\n", "tenant[0].reminders.max: 9"},
		{"bad ocr", "[tenant.reminders]\nocr = \"new\"\n", "tenant[0].reminders.ocr"},
		{"bad time", "[tenant.reminders]\nat = \"8\"\n", "tenant[0].reminders.at"},
		{"unknown key", "[tenant.reminders]\nfees = \"60\"\n", "fees"},
		{"webhook without url", "[tenant.webhook]\nsecret_file = \"" + key + "\"\n", "tenant[0].webhook.url: required"},
		{"webhook over http", "[tenant.webhook]\nurl = \"http://erp.example/hook\"\nsecret_file = \"" + key + "\"\n", "tenant[0].webhook.url"},
		{"webhook short key", "[tenant.webhook]\nurl = \"https://erp.example/hook\"\nsecret_file = \"" + short + "\"\n", "tenant[0].webhook.secret_file: the key has 3 bytes"},
		{"webhook unknown event", "[tenant.webhook]\nurl = \"https://erp.example/hook\"\nsecret_file = \"" + key + "\"\nevents = [\"sent\"]\n", "tenant[0].webhook.events: unknown event \"sent\""},
		{"api without token", "[tenant.api]\n", "tenant[0].api.token_file: required"},
		{"price of no channel", "[tenant.prices]\nfax = \"1\"\n", "tenant[0].prices.fax: unknown channel"},
		{"price not an amount", "[tenant.prices]\nprint = \"ten\"\n", "tenant[0].prices.print"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(validDoc+tt.doc), "m.toml", dir, registered)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	c, err := Parse([]byte(validDoc+"[tenant.reminders]\nfee = \"60\"\nfee_agreed = true\ninterest = \"reference\"\nreference_rate = \"2.5\"\nmax = 2\n"+
		"[tenant.webhook]\nurl = \"https://erp.example/hook\"\nsecret_file = \"hook.key\"\n[tenant.prices]\nprint = \"9.50\"\n"), "m.toml", dir, registered)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Tenants[0].Reminders
	if r.FeeAmount != formats.MustAmount("60") || r.RatePercent != "10.50" || r.Max != 2 || r.OCR != "invoice" || r.At != "08:00" || WholeDays(r.After) != 10 {
		t.Errorf("reminders read as %+v", r)
	}
	if w := c.Tenants[0].Webhook; w.SecretFile != key || !w.Posts("paid") {
		t.Errorf("webhook read as %+v", w)
	}
	if c.Tenants[0].PriceOf["print"] != 950 {
		t.Errorf("prices read as %v", c.Tenants[0].PriceOf)
	}
}
