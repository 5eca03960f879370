package finvoice

// The mapping of a document onto a Finvoice message: the invoice details,
// the rows and the payment (EpiDetails).

import (
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

func (m *mapper) details(credit bool) invoiceDetails {
	d := m.d
	id := invoiceDetails{
		TypeCode:         typeCode{Value: typeInvoice},
		TypeCodeUN:       d.TypeCode,
		TypeText:         textInvoice,
		OriginCode:       originOriginal,
		Number:           m.text("InvoiceNumber", d.Number, 20),
		Date:             finDate(d.IssueDate),
		SellerReference:  m.text("SellerReferenceIdentifier", d.SalesOrderRef, 70),
		SellersBuyerID:   m.text("SellersBuyerIdentifier", d.Buyer.CustomerNumber, 70),
		OrderID:          m.text("OrderIdentifier", d.OrderReference, 70),
		AgreementID:      m.text("AgreementIdentifier", d.ContractReference, 70),
		BuyerReference:   m.text("BuyerReferenceIdentifier", d.BuyerReference, 70),
		ProjectReference: m.text("ProjectReferenceIdentifier", d.ProjectReference, 70),
		RowsTotal:        m.amountPtr(&d.Totals.LineExtension),
		DiscountsTotal:   m.amountPtr(d.Totals.AllowanceTotal),
		ChargesTotal:     m.amountPtr(d.Totals.ChargeTotal),
		TotalVatExcluded: m.amountPtr(&d.Totals.TaxExclusive),
		TotalVat:         m.amountPtr(d.Totals.TaxTotal),
		TotalVatIncluded: m.amount(d.Totals.TaxInclusive),
		Roundoff:         m.amountPtr(d.Totals.Rounding),
		Paid:             m.amountPtr(d.Totals.Prepaid),
		AccountDimension: m.text("AccountDimensionText", d.AccountingCost, 35),
	}
	if credit {
		id.TypeCode.Value, id.TypeText = typeCreditNote, textCreditNote
	}
	if id.TypeCodeUN == "" {
		id.TypeCodeUN = "380"
		if credit {
			id.TypeCodeUN = "381"
		}
	}
	for i, p := range d.Preceding {
		n := m.text("OriginalInvoiceNumber", p.Number, 20)
		if n == "" {
			continue
		}
		if i == 0 {
			id.OriginalNumber, id.OriginalDate = n, finDatePtr(p.IssueDate)
			continue
		}
		id.OriginalRefs = append(id.OriginalRefs, originalRef{Number: n, Date: finDatePtr(p.IssueDate)})
	}
	if d.Period != nil {
		id.PeriodStart, id.PeriodEnd = finDatePtr(d.Period.Start), finDatePtr(d.Period.End)
	}
	for _, v := range d.VAT {
		vd := vatDetails{
			Base:            m.amountPtr(&v.TaxableAmount),
			RatePercent:     m.percent("VatRatePercent", v.Rate),
			Code:            m.text("VatCode", strings.ToUpper(v.Category), 3),
			RateAmount:      m.amountPtr(&v.TaxAmount),
			FreeText:        m.chunks("VatFreeText", v.ExemptionReason, 70, 3),
			ExemptionReason: m.text("VatExemptionReasonCode", v.ExemptionCode, 20),
		}
		id.VAT = append(id.VAT, vd)
	}
	for _, n := range d.Notes {
		id.FreeText = append(id.FreeText, m.chunks("InvoiceFreeText", n, 512, 0)...)
	}
	terms := paymentTerms{DueDate: finDatePtr(d.DueDate)}
	if t := strings.TrimSpace(d.PaymentTerms); t != "" {
		// Two lines of 70 characters hold most terms; longer ones go to
		// the invoice's free text, which has room, rather than be cut.
		if ft := m.chunks("PaymentTermsFreeText", t, 70, 0); len(ft) <= 2 {
			terms.FreeText = ft
		} else {
			id.FreeText = append(id.FreeText, m.chunks("InvoiceFreeText", t, 512, 0)...)
		}
	}
	if terms.DueDate != nil || len(terms.FreeText) > 0 {
		id.PaymentTerms = []paymentTerms{terms}
	}
	for _, ac := range d.AllowanceCharges {
		base := m.amountPtr(ac.BaseAmount)
		amt := m.amount(ac.Amount)
		if ac.Charge {
			id.Charges = append(id.Charges, chargeDetails{ReasonText: m.text("ChargeDetails/ReasonText", ac.Reason, 70),
				ReasonCode: m.text("ChargeDetails/ReasonCode", ac.ReasonCode, 3), Percent: m.percent("ChargeDetails/Percent", ac.Percent),
				Amount: &amt, BaseAmount: base, VatCode: m.text("ChargeDetails/VatCategoryCode", ac.VATCategory, 3),
				VatPercent: m.percent("ChargeDetails/VatRatePercent", ac.VATRate)})
			continue
		}
		id.Discounts = append(id.Discounts, discountDetails{FreeText: m.text("DiscountDetails/FreeText", ac.Reason, 70),
			ReasonCode: m.text("DiscountDetails/ReasonCode", ac.ReasonCode, 3), Percent: m.percent("DiscountDetails/Percent", ac.Percent),
			Amount: &amt, BaseAmount: base, VatCode: m.text("DiscountDetails/VatCategoryCode", ac.VATCategory, 3),
			VatPercent: m.percent("DiscountDetails/VatRatePercent", ac.VATRate)})
	}
	return id
}

// row maps one invoice line (BG-25). A credit note's quantities and
// amounts are negative like its totals; prices stay positive.
func (m *mapper) row(i int) invoiceRow {
	l := m.d.Lines[i]
	field := func(name string) string { return fmt.Sprintf("InvoiceRow %d %s", i+1, name) }
	r := invoiceRow{
		ArticleID:        m.text(field("ArticleIdentifier"), l.Item.SellerID, 70),
		BuyerArticleID:   m.text(field("BuyerArticleIdentifier"), l.Item.BuyerID, 70),
		OrderPosition:    m.text(field("RowOrderPositionIdentifier"), l.OrderLineRef, 35),
		Position:         m.text(field("RowPositionIdentifier"), l.ID, 35),
		AccountDimension: m.text(field("RowAccountDimensionText"), l.AccountingCost, 35),
		VatRatePercent:   m.percent(field("RowVatRatePercent"), l.Item.VATRate),
		VatCode:          m.text(field("RowVatCode"), strings.ToUpper(l.Item.VATCategory), 3),
	}
	// An item name longer than ArticleName's 100 characters is cut there
	// and given whole in the row's free text, so nothing is lost.
	name := m.chunks(field("ArticleName"), l.Item.Name, 100, 0)
	if len(name) > 0 {
		r.ArticleName = name[0]
	}
	if len(name) > 1 {
		r.FreeText = append(r.FreeText, m.chunks(field("RowFreeText"), l.Item.Name, 512, 0)...)
	}
	if desc := strings.TrimSpace(l.Item.Description); utf8.RuneCountInString(desc) <= 512 {
		r.ArticleText = m.text(field("ArticleDescription"), desc, 512)
	} else {
		r.FreeText = append(r.FreeText, m.chunks(field("RowFreeText"), desc, 512, 0)...)
	}
	r.FreeText = append(r.FreeText, m.chunks(field("RowFreeText"), l.Note, 512, 0)...)
	if id := l.Item.StandardID; id.Value != "" {
		r.EanCode = &schemed{Value: m.text(field("EanCode"), id.Value, 35)}
		if isICD(id.Scheme) {
			r.EanCode.Scheme = id.Scheme
		}
	}
	unit := strings.ToUpper(strings.TrimSpace(l.Unit))
	if !unitCode(unit) {
		unit = ""
	}
	if l.Quantity != "" {
		q := string(l.Quantity)
		if m.sign < 0 {
			q = string(negate(l.Quantity))
		}
		r.Quantity = &quantity{UnitUN: unit, Value: m.text(field("InvoicedQuantity"), comma(q), 14)}
	}
	if l.Period != nil {
		r.StartDate, r.EndDate = finDatePtr(l.Period.Start), finDatePtr(l.Period.End)
	}
	if l.Price.Amount != "" {
		price, base := m.unitPrice(field("UnitPriceAmount"), l.Price.Amount, l.Price.BaseQuantity)
		r.UnitPrice = &unitAmount{Currency: m.cur, UnitUN: unit, Value: price}
		if base != "" {
			bu := strings.ToUpper(l.Price.BaseUnit)
			if !unitCode(bu) {
				bu = unit
			}
			r.UnitPriceBase = &quantity{UnitUN: bu, Value: m.text(field("UnitPriceBaseQuantity"), base, 14)}
		}
	}
	for _, ac := range l.AllowanceCharges {
		amt := m.amount(ac.Amount)
		if ac.Charge {
			r.Charges = append(r.Charges, rowCharge{ReasonText: m.text(field("RowChargeDetails/ReasonText"), ac.Reason, 70),
				ReasonCode: m.text(field("RowChargeDetails/ReasonCode"), ac.ReasonCode, 3), Percent: m.percent(field("RowChargeDetails/Percent"), ac.Percent),
				Amount: &amt, BaseAmount: m.amountPtr(ac.BaseAmount)})
			continue
		}
		r.Discounts = append(r.Discounts, rowDiscount{Percent: m.percent(field("RowDiscountPercent"), ac.Percent), Amount: &amt,
			BaseAmount: m.amountPtr(ac.BaseAmount), TypeCode: m.text(field("RowDiscountTypeCode"), ac.ReasonCode, 3),
			TypeText: m.text(field("RowDiscountTypeText"), ac.Reason, 35)})
	}
	r.VatExcludedAmount = m.amountPtr(&l.NetAmount)
	return r
}

// unitPrice writes a net price (BT-146) as the schema's unit amount: no
// decimals or two to five. A finer price is given per a larger base
// quantity (BT-149), which states the same price exactly: 0.1234567 per
// unit becomes 12.34567 per 100 units.
func (m *mapper) unitPrice(field string, price, base formats.Decimal) (string, string) {
	p := price.Rat()
	b := new(big.Rat).SetInt64(1)
	if base != "" && !base.IsZero() {
		b = base.Rat()
	}
	n := price.Decimals()
	for ; n > 5; n-- {
		p.Mul(p, big.NewRat(10, 1))
		b.Mul(b, big.NewRat(10, 1))
	}
	text := p.FloatString(n)
	if n == 1 {
		text += "0"
	}
	if strings.HasPrefix(text, "-") || len(strings.SplitN(text, ".", 2)[0]) > 15 {
		m.fail(RuleLines, "%s %s: Finvoice's unit price is a positive amount of at most 15 digits", field, price)
		return "", ""
	}
	baseText := ""
	if base != "" || price.Decimals() > 5 {
		baseText = comma(trimZeros(b.FloatString(6)))
	}
	return comma(text), baseText
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func negate(d formats.Decimal) formats.Decimal {
	s := string(d)
	switch {
	case d.IsZero():
		return d
	case strings.HasPrefix(s, "-"):
		return formats.Decimal(s[1:])
	}
	return formats.Decimal("-" + s)
}

// unitCode reports whether u fits the schema's UN/ECE recommendation 20
// unit code (two or three capitals or digits).
func unitCode(u string) bool {
	if len(u) < 2 || len(u) > 3 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// epi maps the payment decision (Document.HowToPay) to EpiDetails, the part
// the payer's bank turns into a credit transfer, and to the seller's
// account details. Finvoice states a transfer only: an invoice collected
// by AutoGiro, or payable to a bankgiro or plusgiro only, cannot be sent
// this way, since the bank would offer the payer a transfer it must not
// make or cannot make.
func (m *mapper) epi(credit bool) (epiDetails, *sellerInfo) {
	d := m.d
	pay := d.HowToPay()
	e := epiDetails{}
	e.Identification = epiIdentification{Date: finDate(d.IssueDate), Reference: nameChars(d.Number, 35)}
	switch {
	case pay.DirectDebit():
		m.fail(RulePayment, "the invoice is withdrawn by direct debit (%s, payer %s), which Finvoice cannot state: the payer's bank would offer a transfer as well", pay.Method, pay.Payer)
	case pay.IBAN == "":
		m.fail(RulePayment, "no IBAN to pay to (BT-84 with scheme IBAN, or the tenant's IBAN): Finvoice's EpiAccountID is an IBAN; a bankgiro or plusgiro cannot be paid from a Finnish bank")
	}
	iban, err := formats.CheckIBAN(pay.IBAN)
	if pay.IBAN != "" && err != nil {
		m.fail(RulePayment, "%v", err)
	}
	e.Party.Beneficiary.Account = schemeNamed{Scheme: "IBAN", Value: iban}
	bic := strings.ToUpper(strings.TrimSpace(pay.BIC))
	if bic != "" {
		if !isBIC(bic) {
			m.fail(RulePayment, "BIC %q of IBAN %s: four letters for the bank, two for the country and two or five letters or digits, like NDEAFIHH", pay.BIC, iban)
		}
		e.Party.Bfi.BIC = &schemeNamed{Scheme: "BIC", Value: bic}
	}
	payee := d.Seller
	if d.Payee != nil && strings.TrimSpace(d.Payee.Name) != "" {
		payee = *d.Payee
	}
	if n := m.chunks("EpiNameAddressDetails", payee.Name, 35, 0); len(n) > 0 && utf8.RuneCountInString(n[0]) >= 2 {
		e.Party.Beneficiary.Name = n[0]
	}
	e.Party.Beneficiary.BEI = yTunnus(payee)
	due := pay.Date
	if due.IsZero() {
		due = d.DueDate
	}
	e.Instruction = epiInstruction{Amount: amount{Currency: m.cur, Value: comma((d.Totals.Payable * m.sign).String())},
		Charge: schemeCharge{Option: chargeSEPA, Value: chargeSEPA}, MeansCode: meansSEPA}
	if pay.Method == formats.PayTransfer {
		switch {
		case d.Totals.Payable <= 0:
			m.fail(RulePayment, "amount due %s (BT-115): an invoice to be paid by transfer must ask for a positive amount", d.Totals.Payable)
		case due.IsZero():
			m.fail(RuleDate, "no due date (BT-9); the payer's bank schedules the payment on EpiDateOptionDate")
		case due.Before(d.IssueDate):
			m.fail(RuleDate, "due date %s is before the issue date %s", due, d.IssueDate)
		}
		e.Instruction.Reference = m.reference(pay.Reference)
	} else if ref := strings.TrimSpace(pay.Reference); ref != "" {
		e.Instruction.Reference = m.reference(ref)
	}
	if due.IsZero() {
		// Nothing is paid (a credit note): the date is still required,
		// and the issue date says "now".
		due = d.IssueDate
	}
	e.Instruction.DueDate = finDate(due)
	info := &sellerInfo{TaxRegistration: m.text("SellerTaxRegistrationText", d.Seller.TaxRegistration, 35),
		LegalInfo: m.text("SellerAdditionalLegalInfo", d.Seller.LegalInfo, 512)}
	if iban != "" && e.Party.Bfi.BIC != nil {
		info.Accounts = []sellerAccount{{Account: schemeNamed{Scheme: "IBAN", Value: iban}, BIC: *e.Party.Bfi.BIC}}
	}
	if info.TaxRegistration == "" && info.LegalInfo == "" && len(info.Accounts) == 0 {
		info = nil
	}
	return e, info
}

// reference writes the payment reference (BT-83) as EpiRemittanceInfoIdentifier:
// a Finnish reference number under SPY, an RF creditor reference under ISO.
// Anything else is refused: the bank would pay without a reference the
// biller can match.
func (m *mapper) reference(ref string) *schemeNamed {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		m.fail(RuleReference, "no payment reference (BT-83): the payer's bank pays a Finvoice with a Finnish reference number or an RF creditor reference")
		return nil
	}
	if strings.HasPrefix(strings.ToUpper(ref), "RF") {
		v, err := formats.CheckRF(ref)
		if err != nil {
			m.fail(RuleReference, "payment reference (BT-83): %v", err)
			return nil
		}
		return &schemeNamed{Scheme: refRF, Value: v}
	}
	v, err := formats.CheckFinnishReference(ref)
	if err != nil {
		m.fail(RuleReference, "payment reference (BT-83): %v; a Finvoice is paid with a Finnish reference number or an RF creditor reference", err)
		return nil
	}
	return &schemeNamed{Scheme: refFinnish, Value: v}
}

// nameChars keeps the characters of s that an NMTOKEN may hold (letters,
// digits, . - _ :), up to max, for EpiReference.
func nameChars(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			break
		}
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:", r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
