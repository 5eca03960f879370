package ubl

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// Document-reference type codes (UNCL1001) with a business term of their own.
const (
	typeProject        = "50"  // BT-11 in a CreditNote
	typeInvoicedObject = "130" // BT-18
)

// mapper turns a UBL tree into a Document. It keeps the first value error and
// goes on, so one pass finds it; the error names the document, the element,
// the value and the rule.
type mapper struct {
	doc *formats.Document
	err error
}

func (m *mapper) fail(n *node, value, reason string, err error) {
	if m.err != nil {
		return
	}
	msg := fmt.Sprintf("%s: %s %q: %s", m.doc.Label(), n.path(), value, reason)
	if err != nil {
		m.err = fmt.Errorf("%s: %w", msg, err)
		return
	}
	m.err = fmt.Errorf("%s", msg)
}

// amount reads an amount in the document currency; rule is the BR-DEC rule
// that limits its decimals.
func (m *mapper) amount(n *node, rule string) formats.Amount {
	return m.amountIn(n, rule, m.doc.Currency)
}

func (m *mapper) amountIn(n *node, rule, currency string) formats.Amount {
	if n == nil {
		return 0
	}
	if cur := n.attr("currencyID"); cur != "" && currency != "" && cur != currency {
		m.fail(n, n.text, fmt.Sprintf("currencyID %s differs from the document currency %s; every amount must be in the document currency (PEPPOL-EN16931-R051)", cur, currency), nil)
		return 0
	}
	d, err := formats.ParseDecimal(n.text)
	if err != nil {
		m.fail(n, n.text, "not a number", err)
		return 0
	}
	a, err := d.Amount()
	if err != nil {
		if d.Decimals() > 2 {
			m.fail(n, n.text, "more than two decimals ("+rule+")", nil)
		} else {
			m.fail(n, n.text, "too large for an amount", err)
		}
	}
	return a
}

// optAmount is amount for the optional totals, where absent differs from zero.
func (m *mapper) optAmount(n *node, rule string) *formats.Amount {
	if n == nil {
		return nil
	}
	a := m.amount(n, rule)
	return &a
}

func (m *mapper) decimal(n *node) formats.Decimal {
	if n == nil || n.text == "" {
		return ""
	}
	d, err := formats.ParseDecimal(n.text)
	if err != nil {
		m.fail(n, n.text, "not a number", err)
	}
	return d
}

func (m *mapper) date(n *node) formats.Date {
	if n == nil || n.text == "" {
		return formats.Date{}
	}
	d, err := formats.ParseDate(n.text)
	if err != nil {
		m.fail(n, n.text, "not a date in the form YYYY-MM-DD", nil)
	}
	return d
}

func (m *mapper) period(n *node) *formats.Period {
	if n == nil {
		return nil
	}
	p := &formats.Period{Start: m.date(n.child("cbc:StartDate")), End: m.date(n.child("cbc:EndDate"))}
	if p.Start.IsZero() && p.End.IsZero() {
		return nil
	}
	return p
}

func ident(n *node) formats.Identifier {
	if n == nil {
		return formats.Identifier{}
	}
	return formats.Identifier{Scheme: n.attr("schemeID"), Value: n.text}
}

// mapDocument maps an Invoice or CreditNote root element.
func mapDocument(root *node, source string) (*formats.Document, error) {
	doc := &formats.Document{
		Kind:            kindOf(root),
		Number:          root.val("cbc:ID"),
		CustomizationID: root.val("cbc:CustomizationID"),
		ProfileID:       root.val("cbc:ProfileID"),
		Currency:        root.val("cbc:DocumentCurrencyCode"),
		TaxCurrency:     root.val("cbc:TaxCurrencyCode"),
		AccountingCost:  root.val("cbc:AccountingCost"),
		BuyerReference:  root.val("cbc:BuyerReference"),
		Source:          source,
	}
	m := &mapper{doc: doc}
	doc.IssueDate = m.date(root.child("cbc:IssueDate"))
	doc.TypeCode = root.val("cbc:InvoiceTypeCode")
	if doc.Kind == formats.KindCreditNote {
		doc.TypeCode = root.val("cbc:CreditNoteTypeCode")
	}
	// BT-9 is cbc:DueDate in an Invoice; UBL 2.1 CreditNote has no such
	// element, so BIS 3 puts it in PaymentMeans/PaymentDueDate.
	doc.DueDate = m.date(root.child("cbc:DueDate"))
	root.each("cac:PaymentMeans", func(pm *node) {
		if doc.DueDate.IsZero() {
			doc.DueDate = m.date(pm.child("cbc:PaymentDueDate"))
		}
	})
	root.each("cbc:Note", func(n *node) {
		if ch, ok := forcedChannel(n.text); ok {
			doc.ForcedChannel = ch
			return
		}
		if yes, ok := resend(n.text); ok {
			doc.Resend = yes
			return
		}
		if n.text != "" {
			doc.Notes = append(doc.Notes, n.text)
		}
	})
	doc.Period = m.period(root.child("cac:InvoicePeriod"))

	order := root.child("cac:OrderReference")
	doc.OrderReference = order.val("cbc:ID")
	doc.SalesOrderRef = order.val("cbc:SalesOrderID")
	if doc.OrderReference == "NA" && doc.SalesOrderRef != "" {
		doc.OrderReference = "" // BIS 3's placeholder when only BT-14 is known
	}
	root.each("cac:BillingReference", func(n *node) {
		ref := n.child("cac:InvoiceDocumentReference")
		if ref == nil {
			return
		}
		doc.Preceding = append(doc.Preceding, formats.PrecedingInvoice{
			Number:    ref.val("cbc:ID"),
			IssueDate: m.date(ref.child("cbc:IssueDate")),
		})
	})
	doc.ContractReference = root.child("cac:ContractDocumentReference").val("cbc:ID")
	doc.ProjectReference = root.child("cac:ProjectReference").val("cbc:ID")
	root.each("cac:AdditionalDocumentReference", func(n *node) { m.documentReference(n) })

	doc.Seller = m.party(root.child("cac:AccountingSupplierParty").child("cac:Party"), roleSeller)
	doc.Buyer = m.party(root.child("cac:AccountingCustomerParty").child("cac:Party"), roleBuyer)
	if n := root.child("cac:PayeeParty"); n != nil {
		p := m.party(n, rolePayee)
		doc.Payee = &p
	}
	doc.Delivery = m.delivery(root.child("cac:Delivery"))
	root.each("cac:PaymentMeans", func(n *node) {
		doc.PaymentMeans = append(doc.PaymentMeans, m.paymentMeans(n))
	})
	var terms []string
	root.each("cac:PaymentTerms", func(n *node) {
		n.each("cbc:Note", func(t *node) {
			if t.text != "" {
				terms = append(terms, t.text)
			}
		})
	})
	doc.PaymentTerms = strings.Join(terms, "\n")
	root.each("cac:AllowanceCharge", func(n *node) {
		doc.AllowanceCharges = append(doc.AllowanceCharges, m.allowanceCharge(n, true))
	})
	root.each("cac:TaxTotal", func(n *node) { m.taxTotal(n) })
	m.monetaryTotal(root.child("cac:LegalMonetaryTotal"))

	lineName, qtyName := "cac:InvoiceLine", "cbc:InvoicedQuantity"
	if doc.Kind == formats.KindCreditNote {
		lineName, qtyName = "cac:CreditNoteLine", "cbc:CreditedQuantity"
	}
	root.each(lineName, func(n *node) { doc.Lines = append(doc.Lines, m.line(n, qtyName)) })
	if m.err != nil {
		return nil, m.err
	}
	return doc, nil
}

// documentReference maps AdditionalDocumentReference: a project reference
// (how a CreditNote carries BT-11), or a supporting document (BG-24).
func (m *mapper) documentReference(n *node) {
	id := n.val("cbc:ID")
	switch n.val("cbc:DocumentTypeCode") {
	case typeProject:
		if m.doc.ProjectReference == "" {
			m.doc.ProjectReference = id
		}
		return
	case typeInvoicedObject:
		return // BT-18 has no place in the model
	}
	a := formats.Attachment{ID: id, Description: n.val("cbc:DocumentDescription")}
	att := n.child("cac:Attachment")
	a.URI = att.child("cac:ExternalReference").val("cbc:URI")
	if bin := att.child("cbc:EmbeddedDocumentBinaryObject"); bin != nil {
		a.MimeCode = bin.attr("mimeCode")
		a.Filename = bin.attr("filename")
		data, err := decodeBase64(bin.text)
		if err != nil {
			m.fail(bin, abbreviate(bin.text), "not valid base64", err)
		}
		a.Data = data
	}
	m.doc.Attachments = append(m.doc.Attachments, a)
}

// decodeBase64 accepts base64 broken into lines, as XML writers wrap it.
func decodeBase64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(clean)
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

type role int

const (
	roleSeller role = iota
	roleBuyer
	rolePayee
)

// party maps a cac:Party (or cac:PayeeParty, which has the same shape).
func (m *mapper) party(n *node, r role) formats.Party {
	if n == nil {
		return formats.Party{}
	}
	p := formats.Party{
		Endpoint:    ident(n.child("cbc:EndpointID")),
		TradingName: n.child("cac:PartyName").val("cbc:Name"),
		Address:     address(n.child("cac:PostalAddress")),
	}
	n.each("cac:PartyIdentification", func(pi *node) {
		id := ident(pi.child("cbc:ID"))
		if id.IsZero() {
			return
		}
		p.Identifiers = append(p.Identifiers, id)
		if r == roleBuyer && id.Scheme == "" && p.CustomerNumber == "" {
			p.CustomerNumber = id.Value
		}
	})
	n.each("cac:PartyTaxScheme", func(ts *node) {
		id := ts.val("cbc:CompanyID")
		if strings.EqualFold(ts.child("cac:TaxScheme").val("cbc:ID"), "VAT") {
			if p.VATID == "" {
				p.VATID = id
			}
		} else if p.TaxRegistration == "" {
			p.TaxRegistration = id
		}
	})
	legal := n.child("cac:PartyLegalEntity")
	p.Name = legal.val("cbc:RegistrationName")
	p.LegalID = ident(legal.child("cbc:CompanyID"))
	p.LegalInfo = legal.val("cbc:CompanyLegalForm")
	if c := n.child("cac:Contact"); c != nil {
		p.Contact = formats.Contact{Name: c.val("cbc:Name"), Phone: c.val("cbc:Telephone"), Email: c.val("cbc:ElectronicMail")}
	}
	if p.Name == "" {
		p.Name = p.TradingName
		if r == rolePayee {
			p.TradingName = "" // a payee's PartyName is its name (BT-59)
		}
	}
	return p
}

func address(n *node) formats.Address {
	if n == nil {
		return formats.Address{}
	}
	return formats.Address{
		Street:      n.val("cbc:StreetName"),
		Additional:  n.val("cbc:AdditionalStreetName"),
		Line3:       n.child("cac:AddressLine").val("cbc:Line"),
		City:        n.val("cbc:CityName"),
		PostalCode:  n.val("cbc:PostalZone"),
		Subdivision: n.val("cbc:CountrySubentity"),
		Country:     n.child("cac:Country").val("cbc:IdentificationCode"),
	}
}

func (m *mapper) delivery(n *node) *formats.Delivery {
	if n == nil {
		return nil
	}
	loc := n.child("cac:DeliveryLocation")
	d := &formats.Delivery{
		Name:       n.child("cac:DeliveryParty").child("cac:PartyName").val("cbc:Name"),
		Date:       m.date(n.child("cbc:ActualDeliveryDate")),
		LocationID: ident(loc.child("cbc:ID")),
		Address:    address(loc.child("cac:Address")),
	}
	if *d == (formats.Delivery{}) {
		return nil
	}
	return d
}

func (m *mapper) paymentMeans(n *node) formats.PaymentMeans {
	code := n.child("cbc:PaymentMeansCode")
	acct := n.child("cac:PayeeFinancialAccount")
	mandate := n.child("cac:PaymentMandate")
	pm := formats.PaymentMeans{
		Code:           n.val("cbc:PaymentMeansCode"),
		Text:           code.attr("name"),
		PaymentID:      n.val("cbc:PaymentID"),
		Account:        acct.val("cbc:ID"),
		AccountScheme:  acct.child("cbc:ID").attr("schemeID"),
		AccountName:    acct.val("cbc:Name"),
		ServiceID:      acct.child("cac:FinancialInstitutionBranch").val("cbc:ID"),
		MandateID:      mandate.val("cbc:ID"),
		DebitedAccount: mandate.child("cac:PayerFinancialAccount").val("cbc:ID"),
		CardPAN:        n.child("cac:CardAccount").val("cbc:PrimaryAccountNumberID"),
	}
	// BIS 3's Swedish rules (SE-R-007..010) mark a bankgiro or plusgiro with
	// FinancialInstitutionBranch/ID; some senders use schemeID instead.
	if isGiro(pm.ServiceID) {
		pm.AccountScheme, pm.ServiceID = strings.ToUpper(pm.ServiceID), ""
	}
	// Peppol's default account is an IBAN; an unmarked Swedish account number
	// stays without scheme rather than being mislabelled.
	if pm.AccountScheme == "" && looksLikeIBAN(pm.Account) {
		pm.AccountScheme = formats.AccountIBAN
	}
	return pm
}

func isGiro(s string) bool {
	return strings.EqualFold(s, formats.AccountBankgiro) || strings.EqualFold(s, formats.AccountPlusgiro)
}

// looksLikeIBAN checks the shape (country letters, check digits, then
// letters and digits) and the ISO 7064 mod-97 checksum.
func looksLikeIBAN(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) < 15 || len(s) > 34 || !upper(s[0]) || !upper(s[1]) || !digit(s[2]) || !digit(s[3]) {
		return false
	}
	rem := 0
	for _, c := range []byte(s[4:] + s[:4]) {
		switch {
		case digit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case upper(c):
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

func digit(c byte) bool { return c >= '0' && c <= '9' }
func upper(c byte) bool { return c >= 'A' && c <= 'Z' }

// allowanceCharge maps a document-level (doc true) or line-level
// AllowanceCharge; the BR-DEC rule differs between the two.
func (m *mapper) allowanceCharge(n *node, doc bool) formats.AllowanceCharge {
	charge := strings.TrimSpace(n.val("cbc:ChargeIndicator")) == "true"
	rules := [2][2]string{{"BR-DEC-24", "BR-DEC-25"}, {"BR-DEC-27", "BR-DEC-28"}}
	if doc {
		rules = [2][2]string{{"BR-DEC-01", "BR-DEC-02"}, {"BR-DEC-05", "BR-DEC-06"}}
	}
	r := rules[0]
	if charge {
		r = rules[1]
	}
	tax := n.child("cac:TaxCategory")
	ac := formats.AllowanceCharge{
		Charge:      charge,
		Amount:      m.amount(n.child("cbc:Amount"), r[0]),
		BaseAmount:  m.optAmount(n.child("cbc:BaseAmount"), r[1]),
		Percent:     m.decimal(n.child("cbc:MultiplierFactorNumeric")),
		Reason:      n.val("cbc:AllowanceChargeReason"),
		ReasonCode:  n.val("cbc:AllowanceChargeReasonCode"),
		VATCategory: tax.val("cbc:ID"),
		VATRate:     m.decimal(tax.child("cbc:Percent")),
	}
	return ac
}

// taxTotal maps one TaxTotal. The one in the document currency carries
// BT-110 and the breakdown; one in TaxCurrencyCode without subtotals is BT-111.
func (m *mapper) taxTotal(n *node) {
	amt := n.child("cbc:TaxAmount")
	cur := amt.attr("currencyID")
	d := m.doc
	if d.TaxCurrency != "" && d.TaxCurrency != d.Currency && cur == d.TaxCurrency && n.child("cac:TaxSubtotal") == nil {
		a := m.amountIn(amt, "BR-DEC-15", d.TaxCurrency)
		d.Totals.TaxTotalAccounting = &a
		return
	}
	if d.Totals.TaxTotal == nil {
		d.Totals.TaxTotal = m.optAmount(amt, "BR-DEC-13")
	}
	n.each("cac:TaxSubtotal", func(s *node) {
		cat := s.child("cac:TaxCategory")
		d.VAT = append(d.VAT, formats.VATBreakdown{
			Category:        cat.val("cbc:ID"),
			Rate:            m.decimal(cat.child("cbc:Percent")),
			TaxableAmount:   m.amount(s.child("cbc:TaxableAmount"), "BR-DEC-19"),
			TaxAmount:       m.amount(s.child("cbc:TaxAmount"), "BR-DEC-20"),
			ExemptionReason: cat.val("cbc:TaxExemptionReason"),
			ExemptionCode:   cat.val("cbc:TaxExemptionReasonCode"),
		})
	})
}

func (m *mapper) monetaryTotal(n *node) {
	t := &m.doc.Totals
	t.LineExtension = m.amount(n.child("cbc:LineExtensionAmount"), "BR-DEC-09")
	t.TaxExclusive = m.amount(n.child("cbc:TaxExclusiveAmount"), "BR-DEC-12")
	t.TaxInclusive = m.amount(n.child("cbc:TaxInclusiveAmount"), "BR-DEC-14")
	t.AllowanceTotal = m.optAmount(n.child("cbc:AllowanceTotalAmount"), "BR-DEC-10")
	t.ChargeTotal = m.optAmount(n.child("cbc:ChargeTotalAmount"), "BR-DEC-11")
	t.Prepaid = m.optAmount(n.child("cbc:PrepaidAmount"), "BR-DEC-16")
	t.Rounding = m.optAmount(n.child("cbc:PayableRoundingAmount"), "BR-DEC-17")
	t.Payable = m.amount(n.child("cbc:PayableAmount"), "BR-DEC-18")
}

func (m *mapper) line(n *node, qtyName string) formats.Line {
	qty := n.child(qtyName)
	var notes []string
	n.each("cbc:Note", func(t *node) {
		if t.text != "" {
			notes = append(notes, t.text)
		}
	})
	l := formats.Line{
		ID:             n.val("cbc:ID"),
		Note:           strings.Join(notes, "\n"),
		Quantity:       m.decimal(qty),
		Unit:           qty.attr("unitCode"),
		NetAmount:      m.amount(n.child("cbc:LineExtensionAmount"), "BR-DEC-23"),
		OrderLineRef:   n.child("cac:OrderLineReference").val("cbc:LineID"),
		AccountingCost: n.val("cbc:AccountingCost"),
		Period:         m.period(n.child("cac:InvoicePeriod")),
	}
	n.each("cac:AllowanceCharge", func(ac *node) {
		l.AllowanceCharges = append(l.AllowanceCharges, m.allowanceCharge(ac, false))
	})
	item := n.child("cac:Item")
	tax := item.child("cac:ClassifiedTaxCategory")
	l.Item = formats.LineItem{
		Name:          item.val("cbc:Name"),
		Description:   item.val("cbc:Description"),
		SellerID:      item.child("cac:SellersItemIdentification").val("cbc:ID"),
		BuyerID:       item.child("cac:BuyersItemIdentification").val("cbc:ID"),
		StandardID:    ident(item.child("cac:StandardItemIdentification").child("cbc:ID")),
		OriginCountry: item.child("cac:OriginCountry").val("cbc:IdentificationCode"),
		VATCategory:   tax.val("cbc:ID"),
		VATRate:       m.decimal(tax.child("cbc:Percent")),
	}
	item.each("cac:CommodityClassification", func(c *node) {
		code := c.child("cbc:ItemClassificationCode")
		if code != nil && code.text != "" {
			l.Item.Classification = append(l.Item.Classification, formats.Identifier{Scheme: code.attr("listID"), Value: code.text})
		}
	})
	price := n.child("cac:Price")
	base := price.child("cbc:BaseQuantity")
	l.Price = formats.Price{
		Amount:       m.decimal(price.child("cbc:PriceAmount")),
		BaseQuantity: m.decimal(base),
		BaseUnit:     base.attr("unitCode"),
	}
	m.currency(price.child("cbc:PriceAmount"))
	if ac := price.child("cac:AllowanceCharge"); ac != nil {
		l.Price.Discount = m.decimal(ac.child("cbc:Amount"))
		l.Price.Gross = m.decimal(ac.child("cbc:BaseAmount"))
		m.currency(ac.child("cbc:Amount"))
		m.currency(ac.child("cbc:BaseAmount"))
	}
	return l
}

// currency checks the currencyID of a price, whose decimals are not limited.
func (m *mapper) currency(n *node) {
	if cur := n.attr("currencyID"); cur != "" && m.doc.Currency != "" && cur != m.doc.Currency {
		m.fail(n, n.text, fmt.Sprintf("currencyID %s differs from the document currency %s (PEPPOL-EN16931-R051)", cur, m.doc.Currency), nil)
	}
}
