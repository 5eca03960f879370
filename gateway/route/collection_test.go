package route_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	registered "github.com/multikanal/multikanal/outbound/channels"
)

// collectionChannels are the registered collection channels, made from
// their descriptors with the tenant's agreements, beside a distribution
// channel that reaches everyone: what the daemon's lanes answer routing.
func collectionChannels(t *testing.T, ten config.Tenant) route.ChannelList {
	t.Helper()
	cl := route.ChannelList{{Channel: channel{"mail", false, always}, Descriptor: outbound.Descriptor{Name: "mail", Carries: []formats.Kind{formats.KindInvoice}}}}
	for _, d := range registered.All() {
		if d.Role != outbound.Collection {
			continue
		}
		agreements := map[string]any{}
		if a, ok := ten.Agreements[d.Name]; ok {
			agreements[ten.ID] = a
		}
		ch, err := d.New(outbound.Env{Agreements: agreements})
		if err != nil {
			t.Fatal(err)
		}
		cl = append(cl, route.Listed{Channel: ch, Descriptor: d})
	}
	return cl
}

// nordicTenant is the demo tenant (AutoGiro agreement, open seller and
// accounts) with an AvtaleGiro agreement as well, when avtale is set.
func nordicTenant(t *testing.T, avtale bool) config.Tenant {
	t.Helper()
	doc := `data_dir = "var"

[[tenant]]
id = "demo"
name = "Demo"
orgnr = "556612-3450"
bankgiro = "991-2346"
iban = "NO93 8601 1117 947"
priority = ["email"]

[tenant.autogiro]
customer_number = "471117"
seal_key_file = "seal"
`
	if avtale {
		doc += `
[tenant.avtalegiro]
customer_unit = "12345678"
account = "8601.11.17947"
kid = "mod10"
lead_days = 9
`
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/seal", []byte("00112233445566778899AABBCCDDEEFF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(doc), "nordic.toml", dir, registered.All())
	if err != nil {
		t.Fatal(err)
	}
	ten := cfg.Tenants[0]
	ten.Open = true // the example invoices' seller is not this tenant's
	ten.Priority = []string{"mail"}
	return ten
}

// A mandate of payer under the channel's key type, as the bank files
// register them.
func mandate(t *testing.T, s store.Store, ten config.Tenant, channel, keyType, payer string) {
	t.Helper()
	err := s.Update(func(tx store.Tx) error {
		return tx.PutRegistration(&store.Registration{Tenant: ten.ID, Keys: []store.RecipientKey{{Type: keyType, Value: payer}}, Channel: channel,
			Address: payer, Source: "bank file test line 1", ValidFrom: time.Now().Add(-time.Hour), Created: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// norwegian makes the example invoice a Norwegian one: in NOK, payable
// with a KID to the biller's Norwegian IBAN, no mandate reference (BT-89).
func norwegian(doc *formats.Document, kid string, due time.Time) *formats.Document {
	doc.Currency = "NOK"
	doc.DueDate = formats.DateOf(due)
	doc.PaymentMeans = []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, PaymentID: kid, Account: "NO9386011117947", AccountScheme: formats.AccountIBAN}}
	return doc
}

// routeCollected routes body and returns the document, its collection
// order (nil when none) and the payment decision its channels render.
func routeCollected(t *testing.T, s store.Store, chans route.Channels, ten config.Tenant, id string, body *formats.Document) (*store.Doc, *store.Delivery, formats.Payment) {
	t.Helper()
	now := time.Now().UTC()
	doc := &store.Doc{ID: id, FileID: strings.SplitN(id, "-", 2)[0], Tenant: ten.ID, State: store.DocParsed, Created: now, Updated: now}
	var order *store.Delivery
	err := s.Update(func(tx store.Tx) (err error) {
		if err := tx.PutFile(&store.File{ID: doc.FileID, Tenant: ten.ID, Name: doc.FileID + ".csv", State: store.FileParsed}); err != nil {
			return err
		}
		if _, order, err = route.Route(tx, chans, ten, doc, body, now); err != nil {
			return err
		}
		return tx.PutDoc(doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	if body.Payment == nil {
		t.Fatalf("%s: no payment decision (%s: %s)", id, doc.State, doc.Reason)
	}
	return doc, order, *body.Payment
}

// The collection channel is chosen by the invoice's currency and the
// payer it names, among the channels registered with Role Collection: a
// SEK invoice with an AutoGiro payer number (BT-89) is withdrawn by
// AutoGiro, a NOK invoice with a KID (BT-83) whose AvtaleGiro mandate is
// registered by AvtaleGiro, under the KID with its leading zeros; each
// tells the customer in its own words. A KID without its zeros is
// another KID; a mandate reference in a currency no channel withdraws is
// not collected and says why; a tenant without an AvtaleGiro agreement
// does not treat a Norwegian invoice's KID as a mandate.
func TestCollectionByCurrency(t *testing.T) {
	s := openStore(t)
	ten := nordicTenant(t, true)
	chans := collectionChannels(t, ten)
	mandate(t, s, ten, "autogiro", store.KeyCustomer, "101")
	mandate(t, s, ten, "avtalegiro", "kid", "0000123455")
	due := time.Now().AddDate(0, 1, 0)

	sek := invoice(t, "2025-1001")
	sek.DueDate = formats.DateOf(due)
	sek.PaymentMeans = append(sek.PaymentMeans, formats.PaymentMeans{Code: formats.MeansDirectDebit, MandateID: "101"})
	doc, order, pay := routeCollected(t, s, chans, ten, "F0000001-0000000", sek)
	if order == nil || order.Channel != "autogiro" || order.To != "101" || doc.Collection.Method != "autogiro" || pay.Method != "autogiro" ||
		pay.WithdrawalText() != "Dras via autogiro "+formats.DateOf(due).String() || pay.Words().Payer != "Betalarnummer" || pay.Date != formats.DateOf(due) {
		t.Errorf("SEK with payer 101: order %+v, collection %+v, payment %+v", order, doc.Collection, pay)
	}

	nok := norwegian(invoice(t, "2025-1002"), "0000123455", due)
	doc, order, pay = routeCollected(t, s, chans, ten, "F0000002-0000000", nok)
	want := "Trekkes via AvtaleGiro " + due.Format("02.01.2006")
	if order == nil || order.Channel != "avtalegiro" || order.To != "0000123455" || !order.Collection || !order.Batched ||
		doc.Collection.State != store.PaymentScheduled || !strings.Contains(doc.Collection.Reason, "AvtaleGiro mandate of KID 0000123455 registered by bank file test line 1") {
		t.Fatalf("NOK with KID 0000123455: order %+v, collection %+v", order, doc.Collection)
	}
	if pay.Method != "avtalegiro" || pay.Payer != "0000123455" || pay.WithdrawalText() != want || pay.Words().Payer != "KID" || pay.Date != formats.DateOf(due) {
		t.Errorf("NOK payment %+v, want withdrawn by AvtaleGiro saying %q", pay, want)
	}
	if m := pay.Means(nok); len(m) != 1 || m[0].Code != formats.MeansDirectDebit || m[0].MandateID != "0000123455" {
		t.Errorf("NOK payment means %+v, want one direct debit (49) with the KID as mandate reference", m)
	}

	nozeros := norwegian(invoice(t, "2025-1003"), "123455", due)
	doc, order, pay = routeCollected(t, s, chans, ten, "F0000003-0000000", nozeros)
	if order != nil || doc.Collection == nil || doc.Collection.State != store.PaymentOpen || !strings.Contains(doc.Collection.Reason, "no active AvtaleGiro mandate for KID 123455") || pay.DirectDebit() {
		t.Errorf("KID 123455 is not KID 0000123455: order %+v, collection %+v, payment %s", order, doc.Collection, pay.Method)
	}

	soon := norwegian(invoice(t, "2025-1004"), "0000123455", time.Now().AddDate(0, 0, 3))
	doc, order, pay = routeCollected(t, s, chans, ten, "F0000004-0000000", soon)
	if order != nil || doc.Collection.State != store.PaymentOpen || !strings.Contains(doc.Collection.Reason, "not collected: due date") || !strings.Contains(doc.Collection.Reason, "lead_days") || pay.DirectDebit() {
		t.Errorf("a claim due in 3 days, lead_days 9: order %+v, collection %+v", order, doc.Collection)
	}

	eur := invoice(t, "2025-1005")
	eur.Currency = "EUR"
	eur.PaymentMeans = append(eur.PaymentMeans, formats.PaymentMeans{Code: formats.MeansDirectDebit, MandateID: "101"})
	doc, order, pay = routeCollected(t, s, chans, ten, "F0000005-0000000", eur)
	if order != nil || doc.Collection == nil || doc.Collection.State != store.PaymentOpen || pay.DirectDebit() ||
		!strings.Contains(doc.Collection.Reason, "it is in EUR: AutoGiro withdraws SEK only, AvtaleGiro withdraws NOK only") {
		t.Errorf("EUR with payer 101: order %+v, collection %+v", order, doc.Collection)
	}

	plain := nordicTenant(t, false)
	s2 := openStore(t)
	mandate(t, s2, plain, "avtalegiro", "kid", "0000123455")
	doc, order, pay = routeCollected(t, s2, collectionChannels(t, plain), plain, "F0000006-0000000", norwegian(invoice(t, "2025-1006"), "0000123455", due))
	if order != nil || doc.Collection != nil || pay.Method != formats.PayTransfer || pay.IBAN != "NO9386011117947" {
		t.Errorf("no AvtaleGiro agreement: order %+v, collection %+v, payment %+v; want a transfer with the KID and no collection", order, doc.Collection, pay)
	}
}
