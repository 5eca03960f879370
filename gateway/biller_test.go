package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// twoBillers is a configuration file with two tenants, each pinned to its
// own seller and accounts: acme, and beta, whose seller and bankgiro the
// example invoices name.
const twoBillers = `data_dir = "."

[[tenant]]
id = "acme"
name = "Acme Energi AB"
orgnr = "556123-4567"
vat_id = "SE556123456701"
bankgiro = "5050-1055"
priority = ["email", "print"]

[[tenant]]
id = "beta"
name = "Multikanal Demo Energi AB"
orgnr = "556612-3450"
bankgiro = "991-2346"
priority = ["email", "print"]
`

// dropFor puts a file into a tenant's inbox by rename, as drop does for
// the demo tenant.
func dropFor(t *testing.T, d *Daemon, tenant, name string, body []byte) {
	t.Helper()
	tmp := filepath.Join(d.inboxDir(tenant), "."+name)
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(d.inboxDir(tenant), name)); err != nil {
		t.Fatal(err)
	}
}

// A tenant sends only as its own seller and is paid only to its own
// accounts: acme cannot send beta's invoices, nor its own invoices payable
// to beta's bankgiro; the receipt names the rule and the invoice.
func TestTenantSendsOnlyAsItsSeller(t *testing.T) {
	parsed, err := config.Parse([]byte(twoBillers), "two.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	d := startTestDaemon(t, func(c *config.Config) { c.Tenants = parsed.Tenants }, nil)
	beta := exampleInvoices(t, "2025-1002")
	asAcme := strings.NewReplacer("556612-3450", "556123-4567", "SE556612345001", "SE556123456701")

	for _, c := range []struct {
		tenant, name string
		body         string
		state        store.DocState
		reason       string
	}{
		{"acme", "beta-as-acme.csv", string(beta), store.DocRejected,
			"MK-SELLER: invoice 2025-1002: the seller's organisationsnummer 556612-3450 is not the tenant's seller 556123-4567: one tenant cannot send in another's name"},
		{"acme", "acme-to-beta-bankgiro.csv", asAcme.Replace(string(beta)), store.DocRejected,
			"MK-ACCOUNT: invoice 2025-1002: payable to bankgiro 991-2346, which is not one of the tenant's accounts (bankgiro 5050-1055)"},
		{"acme", "acme.csv", strings.ReplaceAll(asAcme.Replace(string(beta)), "991-2346", "5050-1055"), store.DocDelivered, "email: delivered"},
		{"beta", "beta.csv", string(beta), store.DocDelivered, "email: delivered"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := map[string]bool{}
			d.store.View(func(tx store.Tx) error {
				return tx.ForEachFile(func(f *store.File) error { before[f.ID] = true; return nil })
			})
			dropFor(t, d, c.tenant, c.name, []byte(c.body))
			var id string
			waitUntil(t, func() bool {
				d.store.View(func(tx store.Tx) error {
					return tx.ForEachFile(func(f *store.File) error {
						if !before[f.ID] && f.Name == c.name {
							id = f.ID
						}
						return nil
					})
				})
				return id != ""
			})
			r := waitFinalReceipt(t, d, id, 60*time.Second)
			doc := r.Documents[0]
			if r.Tenant != c.tenant || doc.State != api.DocState(c.state) || !strings.Contains(doc.Reason, c.reason) {
				t.Errorf("%s/%s: %s: %q\nwant %s: %q", r.Tenant, c.name, doc.State, doc.Reason, c.state, c.reason)
			}
			if hasRule(doc, "MK-OPEN", "warning") {
				t.Errorf("a tenant from a file is not open: %+v", doc.Problems)
			}
		})
	}
}

// The embedded demo tenant is open, so it takes the official examples and
// invoices of any seller, and its receipts say that nothing was checked.
func TestOpenTenantSaysSoOnItsReceipt(t *testing.T) {
	d, _ := runDaemon(t, nil, "base-example.xml")
	doc, _ := finalDoc(t, d)
	if doc.State != api.DocDelivered || !hasRule(doc, "MK-OPEN", "warning") {
		t.Errorf("a foreign seller's invoice on the demo tenant: %s: %s %+v", doc.State, doc.Reason, doc.Problems)
	}
	for _, p := range doc.Problems {
		if p.Rule == "MK-OPEN" && !strings.Contains(p.Message, "seller and payment accounts are not checked") {
			t.Errorf("the note does not say what is not checked: %s", p.Message)
		}
	}
}

// A wrong check digit in the buyer's organisationsnummer, which is also
// its Peppol address, does not stop the invoice: Peppol is not eligible
// (the reason names the check digit), the invoice goes on paper, and the
// receipt carries the warning.
func TestWrongBuyerCheckDigitStillDelivers(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	body := strings.NewReplacer("556743-2108", "556743-2109", "0007:5567432108", "0007:5567432109").Replace(string(exampleInvoices(t, "2025-1001")))
	drop(t, d, "bad-buyer.csv", []byte(body))
	doc := waitFinalReceipt(t, d, "F0000001", 60*time.Second).Documents[0]
	if doc.State != api.DocDelivered || doc.Channel == "peppol" || !hasRule(doc, "MK-ORGNR", "warning") {
		t.Fatalf("%s on %q: %s %+v", doc.State, doc.Channel, doc.Reason, doc.Problems)
	}
	if p := doc.Route[0]; p.Channel != "peppol" || p.Eligible || !strings.Contains(p.Reason, "0007:5567432109 is no Swedish organisationsnummer: the check digit is wrong, expected 8") {
		t.Errorf("peppol step: %+v", p)
	}
}
