package efaktura

import (
	"bytes"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// invoices returns every Svefaktura Invoice element in a written batch.
func invoices(t *testing.T, b Batch) []*xnode {
	t.Helper()
	var out []*xnode
	var walk func(n *xnode)
	walk = func(n *xnode) {
		if n.name == inv+"Invoice" {
			out = append(out, n)
			return
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(parseTree(t, write(t, b)))
	if len(out) != len(b.Items) {
		t.Fatalf("found %d invoices, want %d", len(out), len(b.Items))
	}
	return out
}

// find returns the descendants of n reached by the path of element names.
func find(n *xnode, path ...string) []*xnode {
	if len(path) == 0 {
		return []*xnode{n}
	}
	var out []*xnode
	for _, k := range n.kids {
		if k.name == path[0] {
			out = append(out, find(k, path[1:]...)...)
		}
	}
	return out
}

// TestRegistrationNameR44: SFTI's validation refuses a PartyTaxScheme
// RegistrationName equal to the party's PartyName (rule R-44), which the
// writer produced for every seller with an organisationsnummer. The legal
// name is written only beside a different trading name.
func TestRegistrationNameR44(t *testing.T) {
	b := testBatch()
	trading := electricity()
	trading.Seller.TradingName = "Kraftbolaget"
	b.Items = append(b.Items, Item{Recipient: "198112189876", Doc: trading})
	for i, in := range invoices(t, b) {
		for _, role := range []string{"BuyerParty", "SellerParty"} {
			for _, party := range find(in, cac+role, cac+"Party") {
				names := find(party, cac+"PartyName", cbc+"Name")
				if len(names) != 1 {
					t.Fatalf("invoice %d %s: %d PartyName/Name", i+1, role, len(names))
				}
				for _, reg := range find(party, cac+"PartyTaxScheme", cbc+"RegistrationName") {
					if strings.TrimSpace(reg.text) == strings.TrimSpace(names[0].text) {
						t.Errorf("invoice %d %s: RegistrationName %q equals PartyName (SFTI R-44)", i+1, role, reg.text)
					}
				}
			}
		}
	}
	last := invoices(t, b)[len(b.Items)-1]
	seller := find(last, cac+"SellerParty", cac+"Party")[0]
	if got := find(seller, cac+"PartyName", cbc+"Name")[0].text; got != "Kraftbolaget" {
		t.Errorf("PartyName = %q, want the trading name", got)
	}
	if reg := find(seller, cac+"PartyTaxScheme", cbc+"RegistrationName"); len(reg) != 1 || reg[0].text != "Kraftbolaget i Norr AB" {
		t.Errorf("RegistrationName = %v, want the legal name beside the trading name", reg)
	}
}

// TestPostalZoneR8: SFTI's validation flags a postal code with a space
// (rule R-8); the SFTI guide writes it unedited ("90325").
func TestPostalZoneR8(t *testing.T) {
	b := testBatch()
	foreign := water()
	foreign.Buyer.Address = formats.Address{Street: "1 High St", City: "London", PostalCode: "SW1A 1AA", Country: "GB"}
	b.Items = append(b.Items, Item{Recipient: "10054", Doc: foreign})
	var zones []string
	var walk func(n *xnode)
	walk = func(n *xnode) {
		if n.name == cbc+"PostalZone" {
			zones = append(zones, n.text)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	for _, in := range invoices(t, b) {
		walk(in)
	}
	want := map[string]bool{"90325": false, "90340": false, "SW1A1AA": false}
	for _, z := range zones {
		if strings.ContainsAny(z, " \t\n") {
			t.Errorf("PostalZone %q holds a space (SFTI R-8)", z)
		}
		if _, ok := want[z]; ok {
			want[z] = true
		}
	}
	for z, seen := range want {
		if !seen {
			t.Errorf("PostalZone %q not written; got %q", z, zones)
		}
	}
}

// TestQuantityUnitCode: a line without a unit gets C62 ("one"), since
// Svefaktura's schema requires quantityUnitCode; a given unit is kept.
func TestQuantityUnitCode(t *testing.T) {
	out := write(t, testBatch())
	if !bytes.Contains(out, []byte(`<cbc:InvoicedQuantity quantityUnitCode="C62">1</cbc:InvoicedQuantity>`)) ||
		!bytes.Contains(out, []byte(`<cbc:InvoicedQuantity quantityUnitCode="KWH">640</cbc:InvoicedQuantity>`)) {
		t.Errorf("InvoicedQuantity units not as expected:\n%s", out)
	}
	if bytes.Contains(out, []byte(`<cbc:InvoicedQuantity>`)) {
		t.Errorf("an InvoicedQuantity without quantityUnitCode was written")
	}
}
