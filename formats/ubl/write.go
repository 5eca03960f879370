package ubl

import (
	"bufio"
	"encoding/base64"
	"encoding/xml"
	"io"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// Peppol BIS Billing 3.0 identifiers, written when the document has none.
const (
	DefaultCustomizationID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
	DefaultProfileID       = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
)

// Write writes doc as a UBL 2.1 Invoice or CreditNote (by doc.Kind), UTF-8,
// elements in the order the UBL schema requires, every amount with
// currencyID and two decimals. Empty values are left out rather than
// written as empty elements, which Peppol forbids (PEPPOL-EN16931-R008).
func Write(w io.Writer, doc *formats.Document) error {
	x := &xw{w: bufio.NewWriterSize(w, 16<<10), cur: doc.Currency}
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	credit := doc.Kind == formats.KindCreditNote
	root, ns, typeName, typeCode := "Invoice", nsInvoice, "cbc:InvoiceTypeCode", "380"
	if credit {
		root, ns, typeName, typeCode = "CreditNote", nsCreditNote, "cbc:CreditNoteTypeCode", "381"
	}
	x.raw("<" + root + ` xmlns="` + ns + `" xmlns:cac="` + nsCAC + `" xmlns:cbc="` + nsCBC + `">`)
	x.depth = 1

	x.leaf("cbc:CustomizationID", or(doc.CustomizationID, DefaultCustomizationID))
	x.leaf("cbc:ProfileID", or(doc.ProfileID, DefaultProfileID))
	x.leaf("cbc:ID", doc.Number)
	x.date("cbc:IssueDate", doc.IssueDate)
	if !credit {
		x.date("cbc:DueDate", doc.DueDate)
	}
	x.leaf(typeName, or(doc.TypeCode, typeCode))
	for _, n := range doc.Notes {
		x.leaf("cbc:Note", n)
	}
	x.leaf("cbc:DocumentCurrencyCode", doc.Currency)
	x.leaf("cbc:TaxCurrencyCode", doc.TaxCurrency)
	x.leaf("cbc:AccountingCost", doc.AccountingCost)
	x.leaf("cbc:BuyerReference", doc.BuyerReference)
	x.period("cac:InvoicePeriod", doc.Period)
	if doc.OrderReference != "" || doc.SalesOrderRef != "" {
		x.start("cac:OrderReference")
		x.leaf("cbc:ID", or(doc.OrderReference, "NA")) // BIS 3: NA when only BT-14 is known
		x.leaf("cbc:SalesOrderID", doc.SalesOrderRef)
		x.end()
	}
	for _, p := range doc.Preceding {
		x.start("cac:BillingReference")
		x.start("cac:InvoiceDocumentReference")
		x.leaf("cbc:ID", p.Number)
		x.date("cbc:IssueDate", p.IssueDate)
		x.end()
		x.end()
	}
	if doc.ContractReference != "" {
		x.start("cac:ContractDocumentReference")
		x.leaf("cbc:ID", doc.ContractReference)
		x.end()
	}
	if credit && doc.ProjectReference != "" {
		// UBL 2.1 CreditNote has no ProjectReference; BIS 3 uses type 50.
		x.start("cac:AdditionalDocumentReference")
		x.leaf("cbc:ID", doc.ProjectReference)
		x.leaf("cbc:DocumentTypeCode", typeProject)
		x.end()
	}
	for _, a := range doc.Attachments {
		x.attachment(a)
	}
	if !credit && doc.ProjectReference != "" {
		x.start("cac:ProjectReference")
		x.leaf("cbc:ID", doc.ProjectReference)
		x.end()
	}

	x.start("cac:AccountingSupplierParty")
	x.party(doc.Seller, roleSeller)
	x.end()
	x.start("cac:AccountingCustomerParty")
	x.party(doc.Buyer, roleBuyer)
	x.end()
	if doc.Payee != nil {
		x.party(*doc.Payee, rolePayee)
	}
	x.delivery(doc.Delivery)
	for i, pm := range doc.PaymentMeans {
		var due formats.Date
		if credit && i == 0 {
			due = doc.DueDate // BT-9 of a CreditNote, at most once
		}
		x.paymentMeans(pm, due)
	}
	if doc.PaymentTerms != "" {
		x.start("cac:PaymentTerms")
		x.leaf("cbc:Note", doc.PaymentTerms)
		x.end()
	}
	for _, ac := range doc.AllowanceCharges {
		x.allowanceCharge(ac, true)
	}
	x.taxTotals(doc)
	t := doc.Totals
	x.start("cac:LegalMonetaryTotal")
	x.amount("cbc:LineExtensionAmount", t.LineExtension)
	x.amount("cbc:TaxExclusiveAmount", t.TaxExclusive)
	x.amount("cbc:TaxInclusiveAmount", t.TaxInclusive)
	x.optAmount("cbc:AllowanceTotalAmount", t.AllowanceTotal)
	x.optAmount("cbc:ChargeTotalAmount", t.ChargeTotal)
	x.optAmount("cbc:PrepaidAmount", t.Prepaid)
	x.optAmount("cbc:PayableRoundingAmount", t.Rounding)
	x.amount("cbc:PayableAmount", t.Payable)
	x.end()
	lineName, qtyName := "cac:InvoiceLine", "cbc:InvoicedQuantity"
	if credit {
		lineName, qtyName = "cac:CreditNoteLine", "cbc:CreditedQuantity"
	}
	for _, l := range doc.Lines {
		x.line(l, lineName, qtyName)
	}
	x.depth = 0
	x.raw("\n</" + root + ">\n")
	if x.err != nil {
		return x.err
	}
	return x.w.Flush()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// xw writes indented XML. An aggregate opened with start is only written
// once something is written inside it, so no empty element ever appears.
type xw struct {
	w       *bufio.Writer
	err     error
	cur     string // document currency for currencyID
	depth   int
	pending []string // opened aggregates, innermost last
	written int      // how many of pending have their start tag written
}

func (x *xw) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

func (x *xw) indent(d int) {
	x.raw("\n")
	x.raw(strings.Repeat("  ", d))
}

func (x *xw) start(name string) { x.pending = append(x.pending, name) }

func (x *xw) end() {
	i := len(x.pending) - 1
	name := x.pending[i]
	x.pending = x.pending[:i]
	if x.written > i {
		x.written = i
		x.indent(x.depth + i)
		x.raw("</" + name + ">")
	}
}

// flush writes the start tags of aggregates that now have content.
func (x *xw) flush() {
	for ; x.written < len(x.pending); x.written++ {
		x.indent(x.depth + x.written)
		x.raw("<" + x.pending[x.written] + ">")
	}
}

// leaf writes <name attr="v">text</name> when text is not empty; attrs are
// name/value pairs, and an attribute with an empty value is left out.
func (x *xw) leaf(name, text string, attrs ...string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	x.flush()
	x.indent(x.depth + len(x.pending))
	x.raw("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] != "" {
			x.raw(" " + attrs[i] + `="`)
			x.escape(attrs[i+1])
			x.raw(`"`)
		}
	}
	x.raw(">")
	x.escape(text)
	x.raw("</" + name + ">")
}

func (x *xw) escape(s string) {
	if x.err == nil {
		x.err = xml.EscapeText(x.w, []byte(s))
	}
}

func (x *xw) amount(name string, a formats.Amount) {
	x.leaf(name, a.String(), "currencyID", x.cur)
}

func (x *xw) optAmount(name string, a *formats.Amount) {
	if a != nil {
		x.amount(name, *a)
	}
}

// price writes a unit price, whose decimals are kept as they are.
func (x *xw) price(name string, d formats.Decimal) {
	x.leaf(name, string(d), "currencyID", x.cur)
}

func (x *xw) date(name string, d formats.Date) { x.leaf(name, d.String()) }

func (x *xw) id(name string, id formats.Identifier) {
	x.leaf(name, id.Value, "schemeID", id.Scheme)
}

func (x *xw) period(name string, p *formats.Period) {
	if p == nil {
		return
	}
	x.start(name)
	x.date("cbc:StartDate", p.Start)
	x.date("cbc:EndDate", p.End)
	x.end()
}

func (x *xw) attachment(a formats.Attachment) {
	x.start("cac:AdditionalDocumentReference")
	x.leaf("cbc:ID", a.ID)
	x.leaf("cbc:DocumentDescription", a.Description)
	x.start("cac:Attachment")
	if len(a.Data) > 0 {
		x.leaf("cbc:EmbeddedDocumentBinaryObject", base64.StdEncoding.EncodeToString(a.Data), "mimeCode", a.MimeCode, "filename", a.Filename)
	}
	if a.URI != "" {
		x.start("cac:ExternalReference")
		x.leaf("cbc:URI", a.URI)
		x.end()
	}
	x.end()
	x.end()
}

// party writes the content of cac:Party (seller, buyer) or a whole
// cac:PayeeParty, whose name sits in PartyName (BT-59).
func (x *xw) party(p formats.Party, r role) {
	if r == rolePayee {
		x.start("cac:PayeeParty")
	} else {
		x.start("cac:Party")
		x.id("cbc:EndpointID", p.Endpoint)
	}
	ids := p.Identifiers
	if r == roleBuyer && p.CustomerNumber != "" && !hasValue(ids, p.CustomerNumber) {
		ids = append(ids[:len(ids):len(ids)], formats.Identifier{Value: p.CustomerNumber})
	}
	for _, id := range ids {
		x.start("cac:PartyIdentification")
		x.id("cbc:ID", id)
		x.end()
	}
	partyName := p.TradingName
	if r == rolePayee {
		partyName = p.Name
	}
	if partyName != "" {
		x.start("cac:PartyName")
		x.leaf("cbc:Name", partyName)
		x.end()
	}
	if r != rolePayee {
		x.address("cac:PostalAddress", p.Address)
		x.taxScheme(p.VATID, "VAT")
		if r == roleSeller {
			// BIS 3 and the Swedish rules (SE-R-005) call the non-VAT
			// registration's scheme TAX; the model keeps only its text.
			x.taxScheme(p.TaxRegistration, "TAX")
		}
	}
	x.start("cac:PartyLegalEntity")
	if r != rolePayee {
		x.leaf("cbc:RegistrationName", p.Name)
	}
	x.id("cbc:CompanyID", p.LegalID)
	if r == roleSeller {
		x.leaf("cbc:CompanyLegalForm", p.LegalInfo)
	}
	x.end()
	if r != rolePayee {
		x.start("cac:Contact")
		x.leaf("cbc:Name", p.Contact.Name)
		x.leaf("cbc:Telephone", p.Contact.Phone)
		x.leaf("cbc:ElectronicMail", p.Contact.Email)
		x.end()
	}
	x.end()
}

func hasValue(ids []formats.Identifier, v string) bool {
	for _, id := range ids {
		if id.Value == v {
			return true
		}
	}
	return false
}

func (x *xw) taxScheme(companyID, scheme string) {
	if companyID == "" {
		return
	}
	x.start("cac:PartyTaxScheme")
	x.leaf("cbc:CompanyID", companyID)
	x.start("cac:TaxScheme")
	x.leaf("cbc:ID", scheme)
	x.end()
	x.end()
}

func (x *xw) address(name string, a formats.Address) {
	x.start(name)
	x.leaf("cbc:StreetName", a.Street)
	x.leaf("cbc:AdditionalStreetName", a.Additional)
	x.leaf("cbc:CityName", a.City)
	x.leaf("cbc:PostalZone", a.PostalCode)
	x.leaf("cbc:CountrySubentity", a.Subdivision)
	if a.Line3 != "" {
		x.start("cac:AddressLine")
		x.leaf("cbc:Line", a.Line3)
		x.end()
	}
	x.start("cac:Country")
	x.leaf("cbc:IdentificationCode", a.Country)
	x.end()
	x.end()
}

func (x *xw) delivery(d *formats.Delivery) {
	if d == nil {
		return
	}
	x.start("cac:Delivery")
	x.date("cbc:ActualDeliveryDate", d.Date)
	x.start("cac:DeliveryLocation")
	x.id("cbc:ID", d.LocationID)
	x.address("cac:Address", d.Address)
	x.end()
	if d.Name != "" {
		x.start("cac:DeliveryParty")
		x.start("cac:PartyName")
		x.leaf("cbc:Name", d.Name)
		x.end()
		x.end()
	}
	x.end()
}

func (x *xw) paymentMeans(pm formats.PaymentMeans, due formats.Date) {
	x.start("cac:PaymentMeans")
	x.leaf("cbc:PaymentMeansCode", pm.Code, "name", pm.Text)
	x.date("cbc:PaymentDueDate", due)
	x.leaf("cbc:PaymentID", pm.PaymentID)
	if pm.CardPAN != "" {
		x.start("cac:CardAccount")
		x.leaf("cbc:PrimaryAccountNumberID", pm.CardPAN)
		// The schema requires a card network the model does not keep.
		x.leaf("cbc:NetworkID", "NA")
		x.end()
	}
	x.start("cac:PayeeFinancialAccount")
	// EN 16931 wants no schemeID on the account (UBL-CR-654): an IBAN is
	// recognised by its form, and the Swedish rules (SE-R-007..010) mark a
	// bankgiro or plusgiro in FinancialInstitutionBranch/ID instead.
	branch := pm.ServiceID
	if isGiro(pm.AccountScheme) {
		branch = strings.ToUpper(pm.AccountScheme)
	}
	x.leaf("cbc:ID", pm.Account)
	x.leaf("cbc:Name", pm.AccountName)
	x.start("cac:FinancialInstitutionBranch")
	x.leaf("cbc:ID", branch)
	x.end()
	x.end()
	x.start("cac:PaymentMandate")
	x.leaf("cbc:ID", pm.MandateID)
	x.start("cac:PayerFinancialAccount")
	x.leaf("cbc:ID", pm.DebitedAccount)
	x.end()
	x.end()
	x.end()
}

func (x *xw) allowanceCharge(ac formats.AllowanceCharge, doc bool) {
	x.start("cac:AllowanceCharge")
	x.leaf("cbc:ChargeIndicator", boolText(ac.Charge))
	x.leaf("cbc:AllowanceChargeReasonCode", ac.ReasonCode)
	x.leaf("cbc:AllowanceChargeReason", ac.Reason)
	x.leaf("cbc:MultiplierFactorNumeric", string(ac.Percent))
	x.amount("cbc:Amount", ac.Amount)
	x.optAmount("cbc:BaseAmount", ac.BaseAmount)
	if doc {
		x.start("cac:TaxCategory")
		x.leaf("cbc:ID", ac.VATCategory)
		x.leaf("cbc:Percent", string(ac.VATRate))
		x.taxSchemeVAT()
		x.end()
	}
	x.end()
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// taxSchemeVAT closes every TaxCategory: the scheme is always VAT in EN 16931.
func (x *xw) taxSchemeVAT() {
	x.start("cac:TaxScheme")
	x.leaf("cbc:ID", "VAT")
	x.end()
}

// taxTotals writes BT-110 with the breakdown and, when the document has a
// tax currency, BT-111 in a second TaxTotal without subtotals.
func (x *xw) taxTotals(doc *formats.Document) {
	total := doc.Totals.TaxTotal
	if total == nil && len(doc.VAT) > 0 {
		// BR-CO-14: the total is the sum of the breakdown.
		var sum formats.Amount
		for _, v := range doc.VAT {
			sum += v.TaxAmount
		}
		total = &sum
	}
	if total != nil {
		x.start("cac:TaxTotal")
		x.amount("cbc:TaxAmount", *total)
		for _, v := range doc.VAT {
			x.start("cac:TaxSubtotal")
			x.amount("cbc:TaxableAmount", v.TaxableAmount)
			x.amount("cbc:TaxAmount", v.TaxAmount)
			x.start("cac:TaxCategory")
			x.leaf("cbc:ID", v.Category)
			x.leaf("cbc:Percent", string(v.Rate))
			x.leaf("cbc:TaxExemptionReasonCode", v.ExemptionCode)
			x.leaf("cbc:TaxExemptionReason", v.ExemptionReason)
			x.taxSchemeVAT()
			x.end()
			x.end()
		}
		x.end()
	}
	if a := doc.Totals.TaxTotalAccounting; a != nil {
		x.start("cac:TaxTotal")
		x.leaf("cbc:TaxAmount", a.String(), "currencyID", doc.TaxCurrency)
		x.end()
	}
}

func (x *xw) line(l formats.Line, lineName, qtyName string) {
	x.start(lineName)
	x.leaf("cbc:ID", l.ID)
	x.leaf("cbc:Note", l.Note)
	x.leaf(qtyName, string(l.Quantity), "unitCode", l.Unit)
	x.amount("cbc:LineExtensionAmount", l.NetAmount)
	x.leaf("cbc:AccountingCost", l.AccountingCost)
	x.period("cac:InvoicePeriod", l.Period)
	if l.OrderLineRef != "" {
		x.start("cac:OrderLineReference")
		x.leaf("cbc:LineID", l.OrderLineRef)
		x.end()
	}
	for _, ac := range l.AllowanceCharges {
		x.allowanceCharge(ac, false)
	}
	it := l.Item
	x.start("cac:Item")
	x.leaf("cbc:Description", it.Description)
	x.leaf("cbc:Name", it.Name)
	x.itemID("cac:BuyersItemIdentification", formats.Identifier{Value: it.BuyerID})
	x.itemID("cac:SellersItemIdentification", formats.Identifier{Value: it.SellerID})
	x.itemID("cac:StandardItemIdentification", it.StandardID)
	if it.OriginCountry != "" {
		x.start("cac:OriginCountry")
		x.leaf("cbc:IdentificationCode", it.OriginCountry)
		x.end()
	}
	for _, c := range it.Classification {
		x.start("cac:CommodityClassification")
		x.leaf("cbc:ItemClassificationCode", c.Value, "listID", c.Scheme)
		x.end()
	}
	x.start("cac:ClassifiedTaxCategory")
	x.leaf("cbc:ID", it.VATCategory)
	x.leaf("cbc:Percent", string(it.VATRate))
	x.taxSchemeVAT()
	x.end()
	x.end()
	p := l.Price
	x.start("cac:Price")
	x.price("cbc:PriceAmount", p.Amount)
	x.leaf("cbc:BaseQuantity", string(p.BaseQuantity), "unitCode", p.BaseUnit)
	if p.Discount != "" || p.Gross != "" {
		x.start("cac:AllowanceCharge")
		x.leaf("cbc:ChargeIndicator", "false")
		x.price("cbc:Amount", formats.Decimal(or(string(p.Discount), "0")))
		x.price("cbc:BaseAmount", p.Gross)
		x.end()
	}
	x.end()
	x.end()
}

func (x *xw) itemID(name string, id formats.Identifier) {
	if id.Value == "" {
		return
	}
	x.start(name)
	x.id("cbc:ID", id)
	x.end()
}
