package peppol_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/email"
	"github.com/multikanal/multikanal/outbound/peppol"
)

func baseExample(t *testing.T) *formats.Document {
	b, err := os.ReadFile("../../../shared/testdata/peppol/openpeppol-examples/base-example.xml")
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	var doc *formats.Document
	err = ubl.Format{}.Read(formats.Input{Name: "base-example.xml", R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
		doc = it.Doc
		return it.Err
	})
	if err != nil || doc == nil {
		t.Fatalf("parsing base-example.xml: %v", err)
	}
	return doc
}

func TestEligibility(t *testing.T) {
	cases := []struct {
		name   string
		change func(*formats.Document)
		ok     bool
		reason string
	}{
		{"participant", func(*formats.Document) {}, true, "0002:FR23342"},
		{"swedish orgnr", func(d *formats.Document) { d.Buyer.Endpoint = formats.Identifier{Scheme: "0007", Value: "5560360793"} }, true, "0007:5560360793"},
		{"e-mail endpoint", func(d *formats.Document) { d.Buyer.Endpoint = formats.Identifier{Scheme: "EM", Value: "a@b.se"} }, false, "scheme EM"},
		{"no endpoint", func(d *formats.Document) { d.Buyer.Endpoint = formats.Identifier{} }, false, "no electronic address"},
		{"fails a BIS rule", func(d *formats.Document) { d.Lines[0].NetAmount += 100 }, false, "PEPPOL-EN16931-R120"},
		{"ids filled for Peppol", func(d *formats.Document) { d.ProfileID, d.CustomizationID = "", "" }, true, "0002:FR23342"},
		{"orgnr check digit", func(d *formats.Document) { d.Buyer.Endpoint = formats.Identifier{Scheme: "0007", Value: "5560360794"} }, false,
			"buyer's Peppol address 0007:5560360794 is no Swedish organisationsnummer: the check digit is wrong, expected 3"},
		{"orgnr length", func(d *formats.Document) { d.Buyer.Endpoint = formats.Identifier{Scheme: "0007", Value: "556036079"} }, false, "it is not 10 digits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := baseExample(t)
			c.change(d)
			e := peppol.New().Eligible(d, outbound.NoRegistry{})
			if e.OK != c.ok || !strings.Contains(e.Reason+" "+e.Address, c.reason) {
				t.Errorf("Eligible = %+v, want ok=%v mentioning %q", e, c.ok, c.reason)
			}
		})
	}
}

// A participant id from the registry is checked as one from the invoice.
func TestRegisteredAddressCheckDigit(t *testing.T) {
	d := baseExample(t)
	d.Buyer.Endpoint = formats.Identifier{}
	e := peppol.New().Eligible(d, fixedRegistry{"0007:5560360794"})
	if e.OK || !strings.Contains(e.Reason, "check digit is wrong, expected 3") {
		t.Errorf("Eligible = %+v, want not eligible for the check digit", e)
	}
	if e := peppol.New().Eligible(d, fixedRegistry{"0007:5560360793"}); strings.Contains(e.Reason, "organisationsnummer") {
		t.Errorf("Eligible = %+v: a valid number is refused for its check digit", e)
	}
}

// A buyer whose participant id only the registry knows gets Peppol: the
// id becomes the invoice's BT-49 (R010), and the envelope's receiver.
func TestRegisteredAddressDelivers(t *testing.T) {
	d := baseExample(t)
	d.Buyer.Endpoint = formats.Identifier{}
	e := peppol.New().Eligible(d, fixedRegistry{"0007:5560360793"})
	if !e.OK || e.Address != "0007:5560360793" || !strings.Contains(e.Reason, "registered by test registry") {
		t.Fatalf("Eligible = %+v, want eligible to the registered id", e)
	}
	m, err := peppol.New().Render(d, e.Address, "D1.peppol")
	if err != nil {
		t.Fatal(err)
	}
	body := string(m.Body)
	if !strings.Contains(body, `<cbc:EndpointID schemeID="0007">5560360793</cbc:EndpointID>`) || m.To != "0007:5560360793" {
		t.Errorf("the registered id is not the buyer's endpoint (BT-49) and receiver:\n%s", body)
	}
	if !d.Buyer.Endpoint.IsZero() {
		t.Error("rendering changed the input document")
	}
}

type fixedRegistry struct{ addr string }

func (r fixedRegistry) Lookup(*formats.Document, string) (string, string, bool) {
	return r.addr, "test registry", true
}

// An endpoint under scheme EM is an e-mail address: the e-mail channel takes it.
func TestEMEndpointIsAnEmailAddress(t *testing.T) {
	d := baseExample(t)
	d.Buyer.Contact.Email = ""
	d.Buyer.Endpoint = formats.Identifier{Scheme: "EM", Value: "faktura@kund.se"}
	ch, err := email.New(email.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := ch.Eligible(d, outbound.NoRegistry{})
	if !e.OK || e.Address != "faktura@kund.se" {
		t.Errorf("email.Eligible = %+v", e)
	}
}
