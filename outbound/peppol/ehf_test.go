package peppol_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/formats/ubl/ubltest"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/peppol"
)

// norwegianInvoice is the official Peppol base example made Norwegian, as
// an EHF invoice between two Norwegian companies: seller and buyer in
// Norway, both addressed by organisasjonsnummer under scheme 0192, the
// seller's VAT number NO…MVA and "Foretaksregisteret", in NOK.
func norwegianInvoice(t *testing.T) *formats.Document {
	t.Helper()
	b, err := os.ReadFile("../../../shared/testdata/peppol/openpeppol-examples/base-example.xml")
	if err != nil {
		t.Skip("shared test data absent: ../shared/testdata/peppol")
	}
	var doc *formats.Document
	err = ubl.Format{}.Read(formats.Input{Name: "base-example.xml", R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
		doc = it.Doc
		return it.Err
	})
	if err != nil || doc == nil {
		t.Fatalf("base example: %v", err)
	}
	doc.Currency = "NOK"
	doc.Seller.Address.Country = "NO"
	doc.Seller.VATID = "NO923609016MVA"
	doc.Seller.LegalID = formats.Identifier{Scheme: "0192", Value: "923609016"}
	doc.Seller.Endpoint = formats.Identifier{}
	doc.Seller.TaxRegistration = "Foretaksregisteret"
	doc.Buyer.Address.Country = "NO"
	doc.Buyer.VATID = "NO974760673MVA"
	doc.Buyer.LegalID = formats.Identifier{Scheme: "0192", Value: "974760673"}
	doc.Buyer.Endpoint = formats.Identifier{Scheme: "0192", Value: "974760673"}
	return doc
}

// registry answers one address for every document.
type registry string

func (r registry) Lookup(*formats.Document, string) (string, string, bool) {
	return string(r), "a registration CSV", r != ""
}

// TestEHF sends Norwegian invoices the way the channel would and runs the
// official Peppol artefact (with its Norwegian rules) over what leaves: a
// valid EHF invoice is eligible, addressed 0192:<orgnr>, and passes with
// no fatal assert and no Norwegian warning; each broken one is refused by
// the channel under the same rule the artefact then reports.
func TestEHF(t *testing.T) {
	ch := peppol.New()
	cases := []struct {
		name     string
		change   func(*formats.Document)
		reg      registry
		eligible bool
		reason   string   // part of the refusal
		fatal    []string // the artefact's fatal asserts
		warnings []string // the artefact's NO-R warnings
	}{
		{name: "valid", eligible: true},
		{name: "vat without MVA", change: func(d *formats.Document) { d.Seller.VATID = "NO923609016" },
			reason: "NO-R-001", fatal: []string{"NO-R-001"}},
		{name: "vat check digit", change: func(d *formats.Document) { d.Seller.VATID = "NO923609017MVA" },
			reason: "NO-R-001", fatal: []string{"NO-R-001"}},
		{name: "no Foretaksregisteret", change: func(d *formats.Document) { d.Seller.TaxRegistration = "" },
			eligible: true, warnings: []string{"NO-R-002"}},
		{name: "buyer endpoint check digit", change: func(d *formats.Document) { d.Buyer.Endpoint.Value = "974760674" },
			reason: "PEPPOL-COMMON-R041", fatal: []string{"PEPPOL-COMMON-R041"}},
		{name: "seller legal id check digit", change: func(d *formats.Document) {
			d.Seller.LegalID.Value = "923609017"
			d.Seller.Endpoint = formats.Identifier{Scheme: "0192", Value: "923609016"}
		}, reason: "PEPPOL-COMMON-R041", fatal: []string{"PEPPOL-COMMON-R041"}},
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	for _, c := range cases {
		doc := norwegianInvoice(t)
		if c.change != nil {
			c.change(doc)
		}
		e := ch.Eligible(doc, outbound.NoRegistry{})
		if e.OK != c.eligible || !strings.Contains(e.Reason, c.reason) {
			t.Errorf("%s: Eligible = %v %q; want %v with %q", c.name, e.OK, e.Reason, c.eligible, c.reason)
		}
		if e.OK && e.Address != "0192:974760673" {
			t.Errorf("%s: address %q", c.name, e.Address)
		}
		// Rendered even when refused, to show the artefact agrees.
		m, err := ch.Render(doc, "", "F0000001-0000001.peppol")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.name == "valid" && !bytes.Contains(m.Body, []byte(`<cbc:EndpointID schemeID="0192">923609016</cbc:EndpointID>`)) {
			t.Errorf("the seller's endpoint is its organisasjonsnummer under 0192:\n%s", m.Body)
		}
		start := bytes.Index(m.Body, []byte("<Invoice"))
		end := bytes.LastIndex(m.Body, []byte("</StandardBusinessDocument>"))
		os.WriteFile(filepath.Join(in, strings.ReplaceAll(c.name, " ", "-")+".xml"), m.Body[start:end], 0o644)
	}

	// A registered 0192 address with a wrong check digit names nobody.
	if e := ch.Eligible(&formats.Document{}, registry("0192:974760674")); e.OK || !strings.Contains(e.Reason, "no Norwegian organisasjonsnummer") {
		t.Errorf("registered 0192 address with a wrong check digit: %+v", e)
	}
	// validate.Document names a wrong Norwegian number whatever the channel.
	bad := norwegianInvoice(t)
	bad.Seller.LegalID.Value = "923609017"
	if ps := validate.Document(bad, validate.Options{}); !strings.Contains(ps.Error(), "MK-ORGNR") || len(ps.Errors()) == 0 {
		t.Errorf("validate.Document: %v", ps)
	}

	v := ubltest.New(t, validationDir)
	out := filepath.Join(dir, "peppol")
	if err := v.TransformDir(ubltest.Peppol, in, out); err != nil {
		t.Fatal(err)
	}
	en := filepath.Join(dir, "en")
	if err := v.TransformDir(ubltest.EN16931, in, en); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		name := strings.ReplaceAll(c.name, " ", "-") + ".xml"
		fatal := ubltest.FailedAsserts(t, filepath.Join(out, name), "fatal")
		var no []string
		for _, w := range ubltest.FailedAsserts(t, filepath.Join(out, name), "warning") {
			if strings.HasPrefix(w, "NO-R-") {
				no = append(no, w)
			}
		}
		slices.Sort(fatal)
		if !slices.Equal(fatal, c.fatal) || !slices.Equal(no, c.warnings) {
			t.Errorf("%s: the Peppol artefact reports fatal %v and Norwegian warnings %v; want %v and %v", c.name, fatal, no, c.fatal, c.warnings)
		}
		if c.name == "valid" {
			if got := ubltest.FailedAsserts(t, filepath.Join(en, name), ""); len(got) > 0 {
				t.Errorf("EN 16931 failed asserts: %v", got)
			}
		}
	}
}
