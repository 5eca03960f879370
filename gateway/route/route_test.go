package route_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/bolt"
	"github.com/multikanal/multikanal/outbound"
	registered "github.com/multikanal/multikanal/outbound/channels"
)

// Routing runs without a daemon: a store (here a temporary bbolt file),
// the tenant's configuration and the channels, nothing else.

// channel is a channel that reaches whom reach says.
type channel struct {
	name  string
	batch bool
	reach func(*formats.Document) bool
}

func (c channel) Name() string { return c.name }
func (c channel) Eligible(doc *formats.Document, _ outbound.Registry) outbound.Eligibility {
	if c.reach(doc) {
		return outbound.Eligibility{OK: true, Address: c.name + "-address", Reason: c.name + " reaches the buyer"}
	}
	return outbound.Eligibility{Reason: "no " + c.name + " address"}
}

// channels answers route.Channels.
type channels []channel

func (cs channels) Channel(name string) (outbound.Channel, bool, bool) {
	for _, c := range cs {
		if c.name == name {
			return c, c.batch, true
		}
	}
	return nil, false, false
}

// Descriptor implements route.Channels: every test channel carries
// invoices and credit notes.
func (cs channels) Descriptor(name string) (outbound.Descriptor, bool) {
	for _, c := range cs {
		if c.name == name {
			return outbound.Descriptor{Name: name, Carries: []formats.Kind{formats.KindInvoice, formats.KindCreditNote}}, true
		}
	}
	return outbound.Descriptor{}, false
}

// Names implements route.Channels.
func (cs channels) Names() []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.name)
	}
	return names
}

var (
	always = func(*formats.Document) bool { return true }
	never  = func(*formats.Document) bool { return false }
	chans  = channels{{"paper", true, always}, {"mail", false, always}, {"fax", false, never}}
)

// invoice reads one invoice of the example CSV.
func invoice(t *testing.T, number string) *formats.Document {
	t.Helper()
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	body := lines[0] + "\n"
	for _, l := range lines[1:] {
		if strings.SplitN(l, ";", 3)[1] == number {
			body += l + "\n"
		}
	}
	var doc *formats.Document
	err = csv.Format{}.Read(formats.Input{Name: "x.csv", R: strings.NewReader(body), Size: int64(len(body))}, func(it formats.Item) error {
		if it.Err != nil {
			return it.Err
		}
		doc = it.Doc
		return nil
	})
	if err != nil || doc == nil {
		t.Fatalf("invoice %s: %v", number, err)
	}
	return doc
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tenant() config.Tenant {
	cfg := config.Default(os.TempDir(), registered.All())
	t := cfg.Tenants[0]
	t.Priority = []string{"fax", "mail", "paper"}
	return t
}

// route routes body as document id of the file and returns it with its
// first delivery.
func routeOne(t *testing.T, s store.Store, ten config.Tenant, id string, body *formats.Document) (*store.Doc, *store.Delivery) {
	t.Helper()
	now := time.Now().UTC()
	doc := &store.Doc{ID: id, FileID: strings.SplitN(id, "-", 2)[0], Tenant: ten.ID, State: store.DocParsed, Created: now, Updated: now}
	var dl *store.Delivery
	err := s.Update(func(tx store.Tx) (err error) {
		if err := tx.PutFile(&store.File{ID: doc.FileID, Tenant: ten.ID, Name: doc.FileID + ".csv", State: store.FileParsed}); err != nil {
			return err
		}
		if dl, _, err = route.Route(tx, chans, ten, doc, body, now); err != nil {
			return err
		}
		return tx.PutDoc(doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	return doc, dl
}

// The first eligible channel of the priority list gets the delivery, the
// others are kept as the route with their reasons; a failure after the
// fact moves the document on, to a batch channel's batched delivery, and
// with none left it is dead and says why.
func TestRouteAndFallBack(t *testing.T) {
	s := openStore(t)
	ten := tenant()
	doc, dl := routeOne(t, s, ten, "F0000001-0000000", invoice(t, "2025-1001"))
	if doc.State != store.DocQueued || dl == nil || dl.Channel != "mail" || dl.To != "mail-address" || dl.Batched {
		t.Fatalf("routed: %s, delivery %+v; want queued on mail", doc.State, dl)
	}
	if got := route.Summary(doc.Route); got != "fax: skipped, no fax address; mail: mail reaches the buyer; paper: paper reaches the buyer" {
		t.Errorf("route %q", got)
	}
	fail := func(dl *store.Delivery) *store.Delivery {
		t.Helper()
		var next *store.Delivery
		err := s.Update(func(tx store.Tx) (err error) {
			dl.State = store.DeliveryDelivered
			next, err = route.FailDelivered(tx, chans, dl, doc, "the receiver refused it", time.Now().UTC())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	next := fail(dl)
	if next == nil || next.Channel != "paper" || !next.Batched || doc.State != store.DocQueued || !strings.Contains(doc.Reason, "mail failed: the receiver refused it; next: paper") {
		t.Fatalf("after mail failed: %+v, %s %q", next, doc.State, doc.Reason)
	}
	if again := fail(dl); again != nil {
		t.Errorf("a repeated report moved the document again: %+v", again)
	}
	if last := fail(next); last != nil || doc.State != store.DocDead || !strings.Contains(doc.Reason, "no channel left") {
		t.Errorf("after paper failed: %+v, %s %q", last, doc.State, doc.Reason)
	}
}

// A recipient on the do-not-send list is held; a forced channel limits the
// route to it; the same invoice again is refused as a duplicate, naming
// the first.
func TestRouteHeldForcedDuplicate(t *testing.T) {
	s := openStore(t)
	ten := tenant()
	held := ten
	held.DoNotSend = []string{"10017"}
	if doc, dl := routeOne(t, s, held, "F0000001-0000000", invoice(t, "2025-1001")); doc.State != store.DocHeld || dl != nil {
		t.Errorf("do not send: %s %+v", doc.State, dl)
	}

	forced := invoice(t, "2025-1003")
	forced.ForcedChannel = "paper"
	if doc, dl := routeOne(t, s, ten, "F0000002-0000000", forced); dl == nil || dl.Channel != "paper" || len(doc.Route) != 1 || !strings.Contains(doc.Route[0].Reason, "forced by the input") {
		t.Errorf("forced: %+v, route %+v", dl, doc.Route)
	}
	forced.ForcedChannel = "pigeon"
	forced.Number = "2025-9003"
	if doc, dl := routeOne(t, s, ten, "F0000003-0000000", forced); dl != nil || doc.State != store.DocDead || !strings.Contains(doc.Reason, `forced channel "pigeon" is not a channel of this gateway`) {
		t.Errorf("forced to no channel: %s %q", doc.State, doc.Reason)
	}

	again := invoice(t, "2025-1003")
	doc, dl := routeOne(t, s, ten, "F0000004-0000000", again)
	if dl != nil || doc.State != store.DocRejected || !strings.Contains(doc.Reason, route.RuleDuplicate) || !strings.Contains(doc.Reason, "F0000002-0000000") {
		t.Errorf("duplicate: %s %q", doc.State, doc.Reason)
	}
}

// Decide asks only the channels the gateway has, and says so of the others.
func TestDecide(t *testing.T) {
	steps := route.Decide([]string{"telex", "mail"}, chans, outbound.NoRegistry{}, invoice(t, "2025-1001"))
	if len(steps) != 2 || steps[0].Eligible || steps[0].Reason != "channel not configured" || !steps[1].Eligible {
		t.Errorf("steps %+v", steps)
	}
}
