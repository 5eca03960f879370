package gateway

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/channels"
)

// fax is a channel the gateway has never heard of, described the way a
// channel's folder describes itself: per document, invoices only, its
// address a mobile number from the registry, a transport of its own.
var fax = outbound.Descriptor{
	Name:    "fax",
	Carries: []formats.Kind{formats.KindInvoice},
	Address: "mobile",
	Transports: []outbound.TransportSpec{{
		Name:     "modem",
		Required: []outbound.Key{{Name: "device", Kind: outbound.File, Help: "the modem's device file"}},
		Build:    func(outbound.Setup) (outbound.Transport, error) { return nil, errors.New("no modem here") },
	}},
	New: func(outbound.Env) (outbound.Channel, error) { return faxChannel{}, nil },
}

type faxChannel struct{}

func (faxChannel) Name() string { return "fax" }

func (faxChannel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	if addr, src, ok := reg.Lookup(doc, "fax"); ok {
		return outbound.Eligibility{OK: true, Address: addr, Reason: "fax number registered by " + src}
	}
	return outbound.Eligibility{Reason: "no fax number for the buyer"}
}

func (faxChannel) Render(doc *formats.Document, to, key string) (outbound.Message, error) {
	return outbound.Message{Key: key, Name: key + ".txt", ContentType: "text/plain", To: to, Body: []byte("FAX " + to + " " + doc.Number)}, nil
}

// TestHypotheticalChannel registers a channel by its descriptor alone, and
// everything that used to list channels takes it: the configuration its
// table and keys, a priority list its name, the registry its registrations
// (and checks their addresses by its address key), the CSV's channel column
// its name, routing its eligibility and what it carries, the spool its
// outbox, the status page its row.
func TestHypotheticalChannel(t *testing.T) {
	chans := append(channels.All(), fax)
	var batch []string // the registered batch channels, which the cutoff's message lists
	for _, c := range chans {
		if c.Batch != nil {
			batch = append(batch, c.Name)
		}
	}

	doc := "data_dir = \"var\"\n[[tenant]]\nid = \"acme\"\nname = \"Acme AB\"\norgnr = \"556123-4567\"\nbankgiro = \"5050-1055\"\npriority = [\"fax\", \"print\"]\n"
	for _, tt := range []struct{ table, want string }{
		{"[channel.fax]\ntransport = \"modem\"\n", "channel.fax.device: required by transport modem: the modem's device file"},
		{"[channel.fax]\ntransport = \"modem\"\ndevice = \"/dev/null\"\nbaud = \"9600\"\n", `unknown key "channel.fax.baud"`},
		{"[channel.fax]\ntransport = \"telex\"\n", `channel.fax.transport: "telex" is not a transport of channel fax: use "modem", "spool"`},
		{"[channel.fax]\ncutoff = { end_of_file = true }\n", "channel.fax.cutoff: not used by channel fax: only the batch channels " + strings.Join(batch, ", ") + " cut batch files"},
	} {
		_, err := config.Parse([]byte(doc+tt.table), "m.toml", t.TempDir(), chans)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.table, err, tt.want)
		}
	}
	if c, err := config.Parse([]byte(doc), "m.toml", t.TempDir(), chans); err != nil || !strings.Contains(c.Summary(), "channel fax      spool") {
		t.Errorf("a configuration without [channel.fax] runs it on the spool: %v", err)
	}

	d := startDaemonWith(t, chans, func(c *config.Config) { c.Tenant("demo").Priority = []string{"fax", "print"} }, nil)
	drop(t, d, "register.csv", []byte("key;channel;address\npnr:198112189876;fax;+46701234567\n"))
	waitUntil(t, func() bool { return fileFinal(d, "F0000001") })
	drop(t, d, "invoice.csv", exampleInvoices(t, "2025-1004"))
	var r *api.Receipt
	var err error
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000002"); return err == nil && r.Final })
	if !strings.HasSuffix(strings.Join(d.live.Load().Distribution(), ","), ",fax") {
		t.Errorf("the distribution channels %v do not end with fax", d.live.Load().Distribution())
	}
	if got := r.Documents[0]; got.State != api.DocDelivered || got.Channel != "fax" {
		t.Fatalf("the registered buyer: %s on %s: %s (route %+v)", got.State, got.Channel, got.Reason, got.Route)
	}
	sent, err := filepath.Glob(filepath.Join(d.dataDir, "outbox", "fax", "*.txt"))
	if err != nil || len(sent) != 1 {
		t.Fatalf("outbox/fax holds %v (%v)", sent, err)
	}
	if b, _ := os.ReadFile(sent[0]); string(b) != "FAX +46701234567 2025-1004" {
		t.Errorf("the fax sent %q", b)
	}

	// A registration whose address is not one of the channel's (a mobile
	// number) is refused; the CSV's channel column takes the new name and
	// refuses one that is not a channel.
	drop(t, d, "bad-register.csv", []byte("key;channel;address\npnr:198112189876;fax;not a number\n"))
	drop(t, d, "forced.csv", setColumn(t, exampleInvoices(t, "2025-1001"), "channel", "fax"))
	drop(t, d, "telex.csv", setColumn(t, exampleInvoices(t, "2025-1002"), "channel", "telex"))
	for _, f := range []struct{ id, want string }{
		{"F0000003", "fax needs a mobile address"},
		{"F0000004", "forced by the input"},
		{"F0000005", `"telex" is not a channel; write one of ` + strings.Join(d.live.Load().Distribution(), ", ")},
	} {
		waitUntil(t, func() bool { r, err = receipts.Build(d.store, f.id); return err == nil && r.Final })
		why := r.Reason
		for _, doc := range r.Documents {
			why += " " + doc.Reason
			for _, s := range doc.Route {
				why += " " + s.Reason
			}
		}
		if !strings.Contains(why, f.want) {
			t.Errorf("%s: %q does not say %q", f.id, why, f.want)
		}
	}

	// A credit note is not for a channel that carries only invoices.
	cn := &formats.Document{Kind: formats.KindCreditNote}
	steps := route.Decide([]string{"fax"}, route.ChannelList{{Channel: faxChannel{}, Descriptor: fax}}, outbound.NoRegistry{}, cn)
	if len(steps) != 1 || steps[0].Eligible || !strings.Contains(steps[0].Reason, "does not carry documents of kind creditnote") {
		t.Errorf("a credit note on fax: %+v", steps)
	}

	rec := httptest.NewRecorder()
	d.httpapi.Routes().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), `></i>fax</td>`) {
		t.Errorf("the status page has no row for fax")
	}
}

type giroChannel struct{}

func (giroChannel) Name() string { return "giro" }

func (giroChannel) Eligible(*formats.Document, outbound.Registry) outbound.Eligibility {
	return outbound.Eligibility{Reason: "collects payment"}
}

// A channel that takes a per-tenant agreement ([tenant.NAME]) is made with
// every tenant's, by tenant id.
func TestAgreementsReachTheChannel(t *testing.T) {
	type agreement struct {
		Unit string `toml:"unit"`
	}
	var got map[string]any
	giro := outbound.Descriptor{
		Name: "giro", Role: outbound.Collection, Batch: &outbound.Batching{MaxCount: 10},
		Carries: []formats.Kind{formats.KindInvoice}, Agreement: func() any { return &agreement{} },
		New: func(env outbound.Env) (outbound.Channel, error) { got = env.Agreements; return giroChannel{}, nil },
	}
	tenant := "[[tenant]]\nid = %q\nname = \"Biller AB\"\norgnr = \"556123-4567\"\nbankgiro = \"5050-1055\"\npriority = [\"print\"]\n"
	doc := "data_dir = \"var\"\n" + fmt.Sprintf(tenant, "acme") + "[tenant.giro]\nunit = \"U1\"\n" + fmt.Sprintf(tenant, "beta")
	cfg, err := config.Parse([]byte(doc), "m.toml", t.TempDir(), append(channels.All(), giro))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deliver.Channels(cfg, nil); err != nil {
		t.Fatal(err)
	}
	if a, ok := got["acme"].(*agreement); !ok || a.Unit != "U1" || len(got) != 1 {
		t.Errorf("the channel was made with %#v, want acme's agreement alone", got)
	}
}

// A registered channel that cannot run without a key of its own, which
// nothing uses, is not made: the embedded default starts with it
// registered, and the CSV does not offer it.
func TestChannelOffUntilUsed(t *testing.T) {
	fv := outbound.Descriptor{
		Name: "fv", Batch: &outbound.Batching{MaxCount: 10}, Carries: []formats.Kind{formats.KindInvoice},
		Required: []outbound.Key{{Name: "intermediator", Help: "the biller's bank or operator"}},
		New: func(env outbound.Env) (outbound.Channel, error) {
			return nil, fmt.Errorf("intermediator %q: a bank or operator is required", env.Settings.Get("intermediator"))
		},
	}
	d := startDaemonWith(t, append(channels.All(), fv), nil, nil)
	if d.lanes["fv"] != nil || slices.Contains(d.live.Load().Distribution(), "fv") {
		t.Errorf("the channel that is off has a lane or is offered")
	}
}
