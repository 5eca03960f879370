package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// A template file's problems name the template file, the line and the
// rule; a good file's segments choose by channel, customer group, amount
// and a CSV column, first match first.
func TestTemplates(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.toml"), `[[segment]]
name = "paper"
channel = ["fax"]
message = "x"

[[segment]]
name = "big"
amount_over = "ten thousand"
message = "y"

[[segment]]
name = "campaign"
column = { name = "kampanj", equals = ["vår"] }
message = "z"

[[segment]]
name = "paper"
colour = "red"
`)
	_, err := Parse([]byte(validDoc+"[tenant.design]\ntemplates = \"bad.toml\"\n"), "m.toml", dir, registered)
	bad := filepath.Join(dir, "bad.toml")
	for _, want := range []string{
		bad + `:3: segment[0].channel: rule channel: unknown channel "fax"`,
		bad + `:8: segment[1].amount_over: rule amount_over: "ten thousand" is not an amount`,
		bad + `:13: segment[2].column: rule column: "kampanj" is not an invoice column`,
		bad + `:18: unknown key "segment[3].colour"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in\n%v", want, err)
		}
	}

	writeFile(t, filepath.Join(dir, "good.toml"), `[[segment]]
name = "paper"
channel = ["print"]
message = "Byt till e-faktura"
message_en = "Switch to e-invoicing"

[[segment]]
name = "business"
customer_group = ["Företag"]
amount_over = "10000"
message = "Din kundansvarige"

[[segment]]
name = "campaign"
column = { name = "buyer_reference", equals = ["vår2026"] }
message = "Vårerbjudande"
`)
	c, err := Parse([]byte(validDoc+"[tenant.design]\ntemplates = \"good.toml\"\n"), "m.toml", dir, registered)
	if err != nil {
		t.Fatal(err)
	}
	segs := c.Tenants[0].Design.Segments
	choose := func(d *formats.Document, channel string) string {
		for i := range segs {
			if segs[i].Matches(d, channel) {
				return segs[i].Name
			}
		}
		return ""
	}
	doc := func(group string, amount string, ref string) *formats.Document {
		return &formats.Document{CustomerGroup: group, BuyerReference: ref, Totals: formats.Totals{Payable: formats.MustAmount(amount)}}
	}
	cases := []struct {
		d       *formats.Document
		channel string
		want    string
	}{
		{doc("företag", "20000.00", ""), "print", "paper"},
		{doc("företag", "20000.00", ""), "email", "business"},
		{doc("företag", "9999.00", ""), "email", ""},
		{doc("privat", "20000.00", "VÅR2026"), "email", "campaign"},
		{doc("", "100.00", "höst"), "sms", ""},
	}
	for _, tc := range cases {
		if got := choose(tc.d, tc.channel); got != tc.want {
			t.Errorf("%+v on %s: segment %q, want %q", tc.d.CustomerGroup, tc.channel, got, tc.want)
		}
	}
	if m := segs[0].MessageIn("en"); m != "Switch to e-invoicing" {
		t.Errorf("English message %q", m)
	}
	if m := segs[1].MessageIn("en"); m != "Din kundansvarige" {
		t.Errorf("a segment without message_en speaks its message: %q", m)
	}
	if demo := Default(t.TempDir(), registered).Tenant("demo"); len(demo.Design.Segments) == 0 {
		t.Error("the demo has no segments")
	}
}
