package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// giroAgreement is a biller's agreement with a hypothetical collection
// channel's receiver, declared in the channel's folder as AvtaleGiro's is.
type giroAgreement struct {
	Unit string `toml:"unit"`
	Days int    `toml:"days"`
}

func (a giroAgreement) Check() error {
	var errs []error
	if len(a.Unit) != 8 {
		errs = append(errs, fmt.Errorf("unit %q: the customer unit is 8 digits", a.Unit))
	}
	if a.Days > 60 {
		errs = append(errs, fmt.Errorf("days %d: 0 to 60", a.Days))
	}
	return errors.Join(errs...)
}

var giro = outbound.Descriptor{
	Name: "giro", Role: outbound.Collection, Batch: &outbound.Batching{MaxCount: 10},
	Carries: []formats.Kind{formats.KindInvoice}, Address: "customer",
	Agreement: func() any { return &giroAgreement{} },
	New:       func(outbound.Env) (outbound.Channel, error) { return nil, errors.New("not made in these tests") },
}

// A channel's per-tenant table, [tenant.NAME], is decoded into the
// channel's own type and checked by it; config knows neither.
func TestAgreements(t *testing.T) {
	chans := append(registered[:len(registered):len(registered)], giro)
	c, err := Parse([]byte(validDoc+"[tenant.giro]\nunit = \"12345678\"\ndays = 3\n"), "m.toml", t.TempDir(), chans)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := c.Tenants[0].Agreements["giro"].(*giroAgreement); !ok || *a != (giroAgreement{"12345678", 3}) {
		t.Errorf("agreement %#v", c.Tenants[0].Agreements["giro"])
	}
	if s := c.Summary(); !strings.Contains(s, "; giro agreement") {
		t.Errorf("summary:\n%s", s)
	}
	if c, err := Parse([]byte(validDoc), "m.toml", t.TempDir(), chans); err != nil || c.Tenants[0].Agreements != nil {
		t.Errorf("a tenant without the table: %v, %v", err, c)
	}
	for _, tt := range []struct {
		name, table string
		chans       []outbound.Descriptor
		want        []string
	}{
		{"checked by the channel", "unit = \"123\"\ndays = 61\n", chans,
			[]string{`m.toml:9: tenant[0].giro.unit: "123": the customer unit is 8 digits`, "m.toml:10: tenant[0].giro.days: 61: 0 to 60"}},
		{"unknown key", "untt = \"12345678\"\n", chans, []string{`m.toml:9: unknown key "tenant[0].giro.untt": did you mean "unit"?`}},
		{"wrong type", "unit = \"12345678\"\ndays = \"3\"\n", chans, []string{"m.toml:10: tenant[0].giro.days: found a string: write a whole number"}},
		{"channel not registered", "unit = \"12345678\"\n", registered, []string{`unknown key "tenant[0].giro`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(validDoc+"[tenant.giro]\n"+tt.table), "m.toml", t.TempDir(), tt.chans)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\nwant it to say %q", err, w)
				}
			}
		})
	}
}

// fv is a hypothetical channel with a key of its own that it cannot run
// without, like Finvoice's intermediator.
var fv = outbound.Descriptor{
	Name: "fv", Batch: &outbound.Batching{MaxCount: 10}, Carries: []formats.Kind{formats.KindInvoice},
	Required: []outbound.Key{{Name: "intermediator", Help: "the biller's bank or operator"}},
	New:      func(outbound.Env) (outbound.Channel, error) { return nil, errors.New("not made in these tests") },
}

// A channel's own required key is required once the channel is used; a
// channel nothing uses and that lacks it is switched off, not refused, so
// registering it breaks no configuration.
func TestChannelKeys(t *testing.T) {
	chans := append(registered[:len(registered):len(registered)], fv)
	c, err := Parse([]byte(validDoc), "m.toml", t.TempDir(), chans)
	if err != nil {
		t.Fatal(err)
	}
	if off := c.ChannelConfig("fv").Off; off != "channel.fv.intermediator is not set" || slices.Contains(c.Distribution(), "fv") {
		t.Errorf("unused: off %q, distribution %v", off, c.Distribution())
	}
	if s := c.Summary(); !strings.Contains(s, "channel fv       off (channel.fv.intermediator is not set)") {
		t.Errorf("summary:\n%s", s)
	}
	c, err = Parse([]byte(validDoc+"[channel.fv]\nintermediator = \"OKOYFIHH\"\n"), "m.toml", t.TempDir(), chans)
	if err != nil || c.ChannelConfig("fv").Off != "" || c.ChannelConfig("fv").Settings.Get("intermediator") != "OKOYFIHH" || !slices.Contains(c.Distribution(), "fv") {
		t.Errorf("on the spool with its key: %v %+v", err, c)
	}
	for _, doc := range []string{
		strings.Replace(validDoc, `"print"`, `"fv"`, 1),
		validDoc + "[channel.fv]\ntransport = \"spool\"\n",
	} {
		_, err := Parse([]byte(doc), "m.toml", t.TempDir(), chans)
		if err == nil || !strings.Contains(err.Error(), "channel.fv.intermediator: required by channel fv: the biller's bank or operator") {
			t.Errorf("used without its key: %v", err)
		}
	}
	if _, err := Parse([]byte(validDoc+"[channel.email]\nintermediator = \"X\"\n"), "m.toml", t.TempDir(), chans); err == nil || !strings.Contains(err.Error(), "channel.email.intermediator: not used by transport spool") {
		t.Errorf("another channel's key: %v", err)
	}
}
