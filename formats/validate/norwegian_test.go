package validate_test

import (
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/validate"
)

// norwegianInvoice is validInvoice between two Norwegian companies (EHF).
func norwegianInvoice() *formats.Document {
	d := validInvoice()
	d.Currency = "NOK"
	d.PaymentMeans = []formats.PaymentMeans{{Code: "30", Account: "NO9386011117947", AccountScheme: formats.AccountIBAN, PaymentID: "0000123455"}}
	d.Seller.Address.Country, d.Buyer.Address.Country = "NO", "NO"
	d.Seller.VATID, d.Seller.TaxRegistration = "NO923609016MVA", "Foretaksregisteret"
	d.Seller.LegalID = formats.Identifier{Scheme: "0192", Value: "923609016"}
	d.Seller.Endpoint = formats.Identifier{Scheme: "0192", Value: "923609016"}
	d.Buyer.VATID = "NO974760673MVA"
	d.Buyer.LegalID = formats.Identifier{Scheme: "0192", Value: "974760673"}
	d.Buyer.Endpoint = formats.Identifier{Scheme: "0192", Value: "974760673"}
	return d
}

// rules lists the rule ids of the problems of one severity.
func rules(ps formats.Problems, sev formats.Severity) string {
	var s []string
	for _, p := range ps {
		if p.Severity == sev {
			s = append(s, p.Rule)
		}
	}
	return strings.Join(s, " ")
}

func TestNorwegian(t *testing.T) {
	for _, c := range []struct {
		name                    string
		change                  func(*formats.Document)
		doc, docWarn, peppolErr string // rule ids, space-separated
		peppolWarn              string
	}{
		{name: "valid"},
		{name: "seller VAT without MVA", change: func(d *formats.Document) { d.Seller.VATID = "NO923609016" }, peppolErr: "NO-R-001"},
		{name: "seller VAT check digit", change: func(d *formats.Document) { d.Seller.VATID = "NO923609017MVA" }, peppolErr: "NO-R-001"},
		{name: "seller VAT lower case is not tested", change: func(d *formats.Document) { d.Seller.VATID = "no923609017mva" }},
		{name: "Swedish VAT: not a Norwegian supplier", change: func(d *formats.Document) { d.Seller.VATID = "SE556612345001"; d.Seller.TaxRegistration = "" }},
		{name: "no Foretaksregisteret", change: func(d *formats.Document) { d.Seller.TaxRegistration = "Godkänd för F-skatt" }, peppolWarn: "NO-R-002"},
		{name: "seller orgnr", change: func(d *formats.Document) { d.Seller.LegalID.Value = "923609017" }, doc: "MK-ORGNR", peppolErr: "PEPPOL-COMMON-R041"},
		{name: "buyer endpoint", change: func(d *formats.Document) { d.Buyer.Endpoint.Value = "97476067" }, docWarn: "MK-ORGNR", peppolErr: "PEPPOL-COMMON-R041"},
		{name: "buyer other id", change: func(d *formats.Document) {
			d.Buyer.Identifiers = []formats.Identifier{{Scheme: "0192", Value: "000000000"}}
		}, docWarn: "MK-ORGNR", peppolErr: "PEPPOL-COMMON-R041"},
		{name: "payee", change: func(d *formats.Document) {
			d.Payee = &formats.Party{Name: "Factoring AS", LegalID: formats.Identifier{Scheme: "0192", Value: "999999998"}}
		}, peppolErr: "PEPPOL-COMMON-R041"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := norwegianInvoice()
			if c.change != nil {
				c.change(d)
			}
			ps := validate.Document(d, validate.Options{Now: now})
			if got := rules(ps, formats.SeverityError); got != c.doc {
				t.Errorf("Document errors %q, want %q: %v", got, c.doc, ps)
			}
			if got := rules(ps, formats.SeverityWarning); got != c.docWarn {
				t.Errorf("Document warnings %q, want %q: %v", got, c.docWarn, ps)
			}
			pp := validate.Peppol(d)
			if got := rules(pp, formats.SeverityError); got != c.peppolErr {
				t.Errorf("Peppol errors %q, want %q: %v", got, c.peppolErr, pp)
			}
			if got := rules(pp, formats.SeverityWarning); got != c.peppolWarn {
				t.Errorf("Peppol warnings %q, want %q: %v", got, c.peppolWarn, pp)
			}
		})
	}
}
