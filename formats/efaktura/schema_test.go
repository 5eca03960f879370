package efaktura

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
)

// The content models below are SFTI's schemas for Svefaktura 1.0, as
// published in SFTI-BasicInvoice-1.0.xsd and
// SFTI-CommonAggregateComponents-1.0.xsd (mirrored by the Svefaktura
// validators, e.g. OpusCapita/peppol_code and phax/phive-rules), reduced to
// what a sequence check needs: the children of each aggregate in order,
// with their occurrence bounds. Leaves (cbc elements, identifiers, codes)
// have no model. Validating against the XSD files themselves would need an
// XSD engine the standard library lacks.
type particle struct {
	name     string
	min, max int // max -1: unbounded
}

const (
	inv = "{" + nsInvoice + "}"
	cac = "{" + nsCAC + "}"
	cbc = "{" + nsCBC + "}"
	unb = -1
)

var models = map[string][]particle{
	inv + "Invoice": {
		{inv + "ID", 1, 1}, {cbc + "IssueDate", 1, 1}, {inv + "InvoiceTypeCode", 1, 1}, {cbc + "Note", 0, 1},
		{inv + "TaxPointDate", 0, 1}, {inv + "InvoiceCurrencyCode", 0, 1}, {inv + "TaxCurrencyCode", 0, 1},
		{inv + "LineItemCountNumeric", 1, 1}, {inv + "AdditionalDocumentReference", 0, unb},
		{cac + "BuyerParty", 1, 1}, {cac + "SellerParty", 1, 1}, {cac + "Delivery", 0, 1},
		{cac + "PaymentMeans", 0, 3}, {cac + "PaymentTerms", 0, 1}, {inv + "AllowanceCharge", 0, unb},
		{cac + "ExchangeRate", 0, 1}, {cac + "TaxTotal", 0, unb}, {cac + "LegalTotal", 1, 1},
		{cac + "InvoiceLine", 1, unb}, {inv + "RequisitionistDocumentReference", 1, 2},
		{inv + "InitialInvoiceDocumentReference", 0, unb}, {cac + "DeliveryTerms", 0, 1}, {inv + "InvoicingPeriod", 0, 1},
	},
	inv + "RequisitionistDocumentReference": {{cac + "ID", 1, 1}},
	inv + "InitialInvoiceDocumentReference": {{cac + "ID", 1, 1}},
	inv + "InvoicingPeriod":                 {{cbc + "StartDateTime", 0, 1}, {cbc + "EndDateTime", 0, 1}},
	inv + "AllowanceCharge": {
		{cbc + "ChargeIndicator", 1, 1}, {inv + "ReasonCode", 0, 1}, {cbc + "MultiplierFactorNumeric", 0, 1},
		{cbc + "Amount", 1, 1}, {cac + "TaxCategory", 1, unb}, {inv + "AllowanceChargeBaseAmount", 0, 1},
	},
	cac + "BuyerParty":  {{cac + "Party", 0, 1}},
	cac + "SellerParty": {{cac + "Party", 0, 1}, {cac + "AccountsContact", 0, 1}},
	cac + "Party": {
		{cac + "PartyIdentification", 0, unb}, {cac + "PartyName", 1, 1}, {cac + "Address", 1, 1},
		{cac + "PartyTaxScheme", 0, unb}, {cac + "Contact", 0, 1},
	},
	cac + "PartyIdentification": {{cac + "ID", 1, 1}},
	cac + "PartyName":           {{cbc + "Name", 1, unb}},
	cac + "Address": {
		{cac + "ID", 0, 1}, {cbc + "Postbox", 0, 1}, {cbc + "StreetName", 0, 1}, {cbc + "Department", 0, 1},
		{cbc + "CityName", 0, 1}, {cbc + "PostalZone", 0, 1}, {cac + "AddressLine", 0, 1}, {cac + "Country", 0, 1},
	},
	cac + "AddressLine": {{cbc + "Line", 1, 7}},
	cac + "Country":     {{cac + "IdentificationCode", 0, 1}},
	cac + "PartyTaxScheme": {
		{cbc + "RegistrationName", 0, 1}, {cac + "CompanyID", 1, 1}, {cbc + "ExemptionReason", 0, 1},
		{cac + "RegistrationAddress", 0, 1}, {cac + "TaxScheme", 1, 1},
	},
	cac + "TaxScheme": {{cac + "ID", 1, 1}},
	cac + "Contact":   {{cbc + "Name", 0, 1}, {cbc + "Telephone", 0, 1}, {cbc + "Telefax", 0, 1}, {cbc + "ElectronicMail", 0, 1}},
	cac + "Delivery":  {{cbc + "ActualDeliveryDateTime", 0, 1}, {cac + "DeliveryAddress", 0, 1}},
	cac + "PaymentMeans": {
		{cac + "PaymentMeansTypeCode", 1, 1}, {cbc + "DuePaymentDate", 0, 1}, {cac + "PayeeFinancialAccount", 0, 1},
		{cac + "PayeePartyName", 0, 1},
	},
	cac + "PayeeFinancialAccount": {
		{cac + "ID", 0, 1}, {cac + "FinancialInstitutionBranch", 0, 1}, {cac + "PaymentInstructionID", 0, 1},
	},
	cac + "FinancialInstitutionBranch": {{cac + "FinancialInstitution", 0, 1}},
	cac + "FinancialInstitution":       {{cac + "ID", 0, 1}},
	cac + "PaymentTerms":               {{cbc + "Note", 0, 1}, {cbc + "PenaltySurchargePercent", 0, 1}},
	cac + "TaxTotal":                   {{cbc + "TotalTaxAmount", 1, 1}, {cac + "TaxSubTotal", 0, unb}},
	cac + "TaxSubTotal": {
		{cbc + "TaxableAmount", 1, 1}, {cbc + "TaxAmount", 1, 1}, {cac + "TaxCategory", 1, 1},
		{cac + "TaxCurrencyTaxAmount", 0, 1}, {cac + "InitialInvoiceTaxAmount", 0, 1},
	},
	cac + "TaxCategory": {{cac + "ID", 1, 1}, {cbc + "Percent", 0, 1}, {cbc + "ExemptionReason", 0, 1}, {cac + "TaxScheme", 1, 1}},
	cac + "LegalTotal": {
		{cbc + "LineExtensionTotalAmount", 1, 1}, {cbc + "TaxExclusiveTotalAmount", 0, 1},
		{cbc + "TaxInclusiveTotalAmount", 1, 1}, {cac + "RoundOffAmount", 0, 1},
	},
	cac + "InvoiceLine": {
		{cac + "ID", 1, 1}, {cbc + "InvoicedQuantity", 0, 1}, {cbc + "LineExtensionAmount", 1, 1}, {cbc + "Note", 0, 1},
		{cac + "OrderLineReference", 0, 1}, {cac + "DespatchLineReference", 0, 1}, {cac + "Delivery", 0, 1},
		{cac + "AllowanceCharge", 0, 1}, {cac + "Item", 1, 1},
	},
	cac + "Item": {
		{cbc + "Description", 0, 1}, {cac + "BuyersItemIdentification", 0, 1}, {cac + "SellersItemIdentification", 0, 1},
		{cac + "StandardItemIdentification", 0, 1}, {cac + "TaxCategory", 0, unb}, {cac + "BasePrice", 0, 1},
	},
	cac + "SellersItemIdentification": {{cac + "ID", 1, 1}},
	cac + "BasePrice":                 {{cbc + "PriceAmount", 1, 1}, {cbc + "BaseQuantity", 0, 1}},
}

// amounts carry the currency attribute UBL 1.0's AmountType requires.
var amounts = map[string]bool{
	cbc + "Amount": true, cbc + "TaxableAmount": true, cbc + "TaxAmount": true, cbc + "TotalTaxAmount": true,
	cbc + "LineExtensionTotalAmount": true, cbc + "TaxExclusiveTotalAmount": true, cbc + "TaxInclusiveTotalAmount": true,
	cac + "RoundOffAmount": true, cbc + "LineExtensionAmount": true, cbc + "PriceAmount": true,
}

// attributes the schemas require on a leaf. UBL 1.0 leaves quantityUnitCode
// optional, but Svefaktura 1.0's schema requires it on InvoicedQuantity: a
// file without it fails SFTI's XSD validation.
var requiredAttrs = map[string]string{
	cbc + "InvoicedQuantity": "quantityUnitCode",
}

type xnode struct {
	name  string
	attrs []xml.Attr
	text  string
	kids  []*xnode
}

func parseTree(t *testing.T, b []byte) *xnode {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: "{" + tok.Name.Space + "}" + tok.Name.Local, attrs: tok.Attr}
			if len(stack) == 0 {
				root = n
			} else {
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			}
			stack = append(stack, n)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// validate checks n and everything under it against the models and
// returns each violation with its path.
func validate(n *xnode, path string) []string {
	var out []string
	errorf := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	path += "/" + n.name[strings.LastIndex(n.name, "}")+1:]
	if amounts[n.name] {
		ok := false
		for _, a := range n.attrs {
			ok = ok || a.Name.Local == "amountCurrencyID" && a.Value == "SEK"
		}
		if !ok {
			errorf("%s: amount without amountCurrencyID", path)
		}
	}
	if want, ok := requiredAttrs[n.name]; ok {
		found := false
		for _, a := range n.attrs {
			found = found || a.Name.Local == want && strings.TrimSpace(a.Value) != ""
		}
		if !found {
			errorf("%s: without the %s attribute the schema requires", path, want)
		}
	}
	model, known := models[n.name]
	if !known {
		if len(n.kids) > 0 {
			errorf("%s: %s has children but no model here; unknown element?", path, n.name)
		}
		if strings.TrimSpace(n.text) == "" {
			errorf("%s: empty leaf", path)
		}
		return out
	}
	i := 0
	for _, p := range model {
		count := 0
		for i < len(n.kids) && n.kids[i].name == p.name && (p.max == unb || count < p.max) {
			count++
			i++
		}
		if count < p.min {
			errorf("%s: %s occurs %d times, the schema requires at least %d", path, p.name, count, p.min)
		}
	}
	if i < len(n.kids) {
		errorf("%s: %s is out of the schema's order or not allowed here", path, n.kids[i].name)
	}
	for _, k := range n.kids {
		out = append(out, validate(k, path)...)
	}
	return out
}

// TestSchema checks every Invoice of the golden batch against Svefaktura
// 1.0's content models, and the envelope against the documented stand-in.
func TestSchema(t *testing.T) {
	root := parseTree(t, write(t, testBatch()))
	env := "{" + NamespaceBatch + "}"
	if root.name != env+"InvoiceBatch" || len(root.kids) != 5 ||
		root.kids[0].name != env+"Start" || root.kids[4].name != env+"End" {
		t.Fatalf("envelope is not Start, Item..., End")
	}
	for _, it := range root.kids[1:4] {
		if it.name != env+"Item" || len(it.kids) != 2 || it.kids[0].name != env+"Recipient" || it.kids[1].name != inv+"Invoice" {
			t.Fatalf("an Item is not Recipient then Invoice")
		}
		for _, p := range validate(it.kids[1], "") {
			t.Error(p)
		}
	}
}

// TestSchemaCatchesMistakes makes sure the checker above is not vacuous.
func TestSchemaCatchesMistakes(t *testing.T) {
	bad := []byte(`<Invoice xmlns="` + nsInvoice + `" xmlns:cbc="` + nsCBC + `"><cbc:IssueDate>2024-01-01</cbc:IssueDate><ID>1</ID></Invoice>`)
	if len(validate(parseTree(t, bad), "")) == 0 {
		t.Errorf("an Invoice with ID after IssueDate and no lines passed the check")
	}
	noUnit := []byte(`<cbc:InvoicedQuantity xmlns:cbc="` + nsCBC + `">1</cbc:InvoicedQuantity>`)
	if len(validate(parseTree(t, noUnit), "")) == 0 {
		t.Errorf("an InvoicedQuantity without quantityUnitCode passed the check")
	}
}
