package efaktura

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// Svefaktura 1.0 codes this writer uses. The invoice type codes are
// UN/CEFACT 1001 as SFTI prescribes (380 invoice, 381 credit invoice). The
// payment means code 1 and the BIC-like institution ids that tell a
// bankgiro from a plusgiro number follow SFTI's published example
// invoice ("svefaktura m koder.xml"); SWT is the tax scheme under which
// Svefaktura carries the organisationsnummer and the F-tax statement.
const (
	typeInvoice     = "380"
	typeCreditNote  = "381"
	meansCode       = "1"
	institutionBG   = "BGABSESS"
	institutionPG   = "PGSISESS"
	taxSchemeVAT    = "VAT"
	taxSchemeSweden = "SWT"
	currencySEK     = "SEK"
	unitOne         = "C62"
)

// check applies the rules the bank needs to show and pay the document and
// that Svefaktura 1.0 needs to carry it. It returns the first failure.
func check(d *formats.Document) *Error {
	fail := func(r Rule, format string, a ...any) *Error {
		return &Error{Rule: r, Msg: fmt.Sprintf(format, a...)}
	}
	if strings.TrimSpace(d.Number) == "" {
		return fail(RuleNumber, "no invoice number (BT-1); Svefaktura requires an ID")
	}
	if d.IssueDate.IsZero() {
		return fail(RuleDate, "no issue date (BT-2)")
	}
	if !strings.EqualFold(d.Currency, currencySEK) {
		return fail(RuleCurrency, "currency %q (BT-5): e-faktura privat carries SEK invoices only", d.Currency)
	}
	if strings.TrimSpace(d.Seller.Name) == "" {
		return fail(RuleParty, "the seller has no name (BT-27); Svefaktura requires PartyName")
	}
	if strings.TrimSpace(d.Buyer.Name) == "" {
		return fail(RuleParty, "the buyer has no name (BT-44); Svefaktura requires PartyName")
	}
	if len(d.Lines) == 0 {
		return fail(RuleLines, "no invoice line (BG-25); Svefaktura requires at least one InvoiceLine")
	}
	if d.Totals.Prepaid != nil && *d.Totals.Prepaid != 0 {
		return fail(RuleTotals, "a paid amount of %s (BT-113): Svefaktura 1.0 has no prepaid total, so the bank would ask for too much", d.Totals.Prepaid)
	}
	if want := d.Totals.TaxInclusive + rounding(d); d.Totals.Payable != want {
		return fail(RuleTotals, "amount due %s (BT-115) is not the total with VAT plus rounding, %s", d.Totals.Payable, want)
	}
	pay := d.HowToPay()
	if bg := pay.Bankgiro; bg != "" {
		if _, err := formats.CheckBankgiro(bg); err != nil {
			return fail(RulePayment, "%v", err)
		}
	}
	if pg := pay.Plusgiro; pg != "" {
		if _, err := formats.CheckPlusgiro(pg); err != nil {
			return fail(RulePayment, "%v", err)
		}
	}
	// The banks pay the reference as an OCR number and some refuse one
	// without a valid check digit, so only a real OCR number may go out.
	if ocr := pay.Reference; ocr != "" && !pay.DirectDebit() {
		if err := formats.CheckOCR(ocr, false); err != nil {
			return fail(RulePayment, "payment reference (BT-83): %v; the internet bank pays it as an OCR number", err)
		}
	}
	if d.Kind == formats.KindCreditNote {
		if len(credited(d)) == 0 {
			return fail(RuleCredit, "a credit note must name the invoice it credits (BG-3); Svefaktura requires InitialInvoiceDocumentReference with type 381")
		}
		return nil
	}
	if d.Totals.Payable <= 0 {
		return fail(RulePayment, "amount due %s: an invoice in the internet bank must ask for a positive amount", d.Totals.Payable)
	}
	if !pay.DirectDebit() && pay.Bankgiro == "" && pay.Plusgiro == "" {
		return fail(RulePayment, "no bankgiro or plusgiro to pay to (BT-84 with scheme SE:BANKGIRO or SE:PLUSGIRO); the internet bank pays nothing else")
	}
	if d.DueDate.IsZero() {
		return fail(RuleDate, "no due date (BT-9); the internet bank schedules the payment on it")
	}
	if d.DueDate.Before(d.IssueDate) {
		return fail(RuleDate, "due date %s is before the issue date %s", d.DueDate, d.IssueDate)
	}
	return nil
}

func rounding(d *formats.Document) formats.Amount {
	if d.Totals.Rounding == nil {
		return 0
	}
	return *d.Totals.Rounding
}

func credited(d *formats.Document) []string {
	var out []string
	for _, p := range d.Preceding {
		if n := strings.TrimSpace(p.Number); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// invoice maps a checked document to a Svefaktura 1.0 Invoice element, in
// the order of SFTIInvoiceType's sequence. The namespaces are declared on
// the Invoice itself, so every invoice cut out of a batch is a complete
// Svefaktura document.
func invoice(d *formats.Document, recipient string) *node {
	typeCode := typeInvoice
	if d.Kind == formats.KindCreditNote {
		typeCode = typeCreditNote
	}
	inv := &node{name: "Invoice", attrs: []attr{
		{"xmlns", nsInvoice}, {"xmlns:cac", nsCAC}, {"xmlns:cbc", nsCBC},
	}}
	notes, terms := d.Notes, d.PaymentTerms
	if w := withdrawal(d); w != "" {
		// Svefaktura 1.0 has no way to say "direct debit": no mandate
		// element, and a payment means is an account to pay to. So an
		// invoice withdrawn by AutoGiro carries no payment means (the bank
		// has nothing to offer for payment) and says so in the texts the
		// internet bank shows: the note and the payment terms.
		notes = append([]string{w}, notes...)
		terms = strings.TrimSpace(w + " " + terms)
	}
	inv.add(
		leaf("ID", d.Number),
		leaf("cbc:IssueDate", d.IssueDate.String()),
		leaf("InvoiceTypeCode", typeCode),
		leaf("cbc:Note", strings.Join(notes, "\n")),
		leaf("InvoiceCurrencyCode", currencySEK),
		leaf("LineItemCountNumeric", strconv.Itoa(len(d.Lines))),
		elem("cac:BuyerParty", party(d.Buyer, recipient)),
		elem("cac:SellerParty", party(d.Seller, "")),
		delivery(d.Delivery),
	)
	inv.add(paymentMeans(d)...)
	if terms := leaf("cbc:Note", terms); terms != nil {
		inv.add(elem("cac:PaymentTerms", terms))
	}
	for _, ac := range d.AllowanceCharges {
		inv.add(allowanceCharge(ac))
	}
	inv.add(taxTotal(d), legalTotal(d))
	for _, l := range d.Lines {
		inv.add(line(l))
	}
	// "Er referens" is mandatory in Svefaktura 1.0. A consumer has no
	// purchasing department: without a buyer reference, the consumer's
	// own name is the reference the bank shows.
	ref := d.BuyerReference
	if strings.TrimSpace(ref) == "" {
		ref = d.Buyer.Name
	}
	inv.add(elem("RequisitionistDocumentReference", leaf("cac:ID", ref)))
	if d.Kind == formats.KindCreditNote {
		for _, n := range credited(d) {
			inv.add(elem("InitialInvoiceDocumentReference", leaf("cac:ID", n)))
		}
	}
	if p := d.Period; p != nil {
		if period := elem("InvoicingPeriod").add(leaf("cbc:StartDateTime", dateTime(p.Start)), leaf("cbc:EndDateTime", dateTime(p.End))); !period.empty() {
			inv.add(period)
		}
	}
	return inv
}

// party maps a seller or buyer. id, for the buyer, is the registration the
// bank knows the consumer by.
func party(p formats.Party, id string) *node {
	n := elem("cac:Party")
	if id != "" {
		n.add(elem("cac:PartyIdentification", leaf("cac:ID", id)))
	}
	name := p.DisplayName()
	n.add(elem("cac:PartyName", leaf("cbc:Name", name)), address("cac:Address", p.Address))
	if p.LegalID.Value != "" || p.TaxRegistration != "" {
		n.add(elem("cac:PartyTaxScheme").add(
			leaf("cbc:RegistrationName", registrationName(p)),
			leaf("cac:CompanyID", orgnr(p.LegalID.Value)),
			leaf("cbc:ExemptionReason", p.TaxRegistration),
			elem("cac:TaxScheme", leaf("cac:ID", taxSchemeSweden))))
	}
	if p.VATID != "" {
		n.add(elem("cac:PartyTaxScheme",
			leaf("cac:CompanyID", p.VATID),
			elem("cac:TaxScheme", leaf("cac:ID", taxSchemeVAT))))
	}
	if c := elem("cac:Contact").add(leaf("cbc:Name", p.Contact.Name), leaf("cbc:Telephone", p.Contact.Phone), leaf("cbc:ElectronicMail", p.Contact.Email)); !c.empty() {
		n.add(c)
	}
	return n
}

// registrationName is the legal name (BT-27/44) for PartyTaxScheme, or ""
// when it is the name PartyName already carries: SFTI's validation (rule
// R-44) refuses a RegistrationName equal to the party name, and the
// element is optional, so it is written only when it says something the
// PartyName does not (a trading name BT-28/45 beside the legal name).
func registrationName(p formats.Party) string {
	if strings.TrimSpace(p.Name) == strings.TrimSpace(p.DisplayName()) {
		return ""
	}
	return p.Name
}

// orgnr writes an organisationsnummer as its 10 digits, as SFTI's example
// does; anything else (a foreign company id) goes out as given.
func orgnr(s string) string {
	if d, err := formats.CheckOrgnr(s); err == nil {
		return d
	}
	return s
}

// address always returns the element: Address is mandatory in a Svefaktura
// party even when every part of it is optional.
func address(name string, a formats.Address) *node {
	n := elem(name).add(leaf("cbc:StreetName", a.Street), leaf("cbc:CityName", a.City), leaf("cbc:PostalZone", postalZone(a)))
	if lines := elem("cac:AddressLine").add(leaf("cbc:Line", a.Additional), leaf("cbc:Line", a.Line3)); !lines.empty() {
		n.add(lines)
	}
	if a.Country != "" {
		n.add(elem("cac:Country", leaf("cac:IdentificationCode", a.Country)))
	}
	return n
}

// postalZone writes a postal code as SFTI asks: an unedited string of
// characters, without spaces ("903 25" is 90325). SFTI's validation flags a
// space (rule R-8); "Rapport SFTI handledning för Svefaktura", section 7.1.1
// (Adressinformation), also names hyphens and other editing characters,
// which a Swedish postal code (five digits) never needs, so those go from
// Swedish addresses too; a foreign code keeps its letters and hyphens.
func postalZone(a formats.Address) string {
	z := strings.Join(strings.Fields(a.PostalCode), "")
	if a.Country == "" || strings.EqualFold(a.Country, "SE") {
		z = strings.TrimPrefix(strings.ToUpper(z), "SE-")
		z = strings.ReplaceAll(z, "-", "")
	}
	return z
}

func delivery(d *formats.Delivery) *node {
	if d == nil {
		return nil
	}
	n := elem("cac:Delivery").add(leaf("cbc:ActualDeliveryDateTime", dateTime(d.Date)))
	if !d.Address.IsZero() {
		n.add(address("cac:DeliveryAddress", d.Address))
	}
	if n.empty() {
		return nil
	}
	return n
}

// paymentMeans writes the bankgiro and the plusgiro of the payment
// decision, each with the due date and the OCR number; the schema allows
// three, and the internet bank pays to nothing but these two. An invoice
// withdrawn by AutoGiro gets none: there is nothing to pay to.
func paymentMeans(d *formats.Document) []*node {
	pay := d.HowToPay()
	if pay.DirectDebit() {
		return nil
	}
	var out []*node
	for _, acc := range []struct{ number, institution string }{
		{pay.Bankgiro, institutionBG},
		{pay.Plusgiro, institutionPG},
	} {
		if acc.number == "" {
			continue
		}
		out = append(out, elem("cac:PaymentMeans").add(
			leaf("cac:PaymentMeansTypeCode", meansCode),
			leaf("cbc:DuePaymentDate", d.DueDate.String()),
			elem("cac:PayeeFinancialAccount").add(
				leaf("cac:ID", formats.OnlyDigits(acc.number)),
				elem("cac:FinancialInstitutionBranch", elem("cac:FinancialInstitution", leaf("cac:ID", acc.institution))),
				leaf("cac:PaymentInstructionID", pay.Reference))))
	}
	return out
}

// withdrawal is the sentence an invoice withdrawn by AutoGiro carries in
// place of payment means, or "".
func withdrawal(d *formats.Document) string {
	pay := d.HowToPay()
	if d.Kind == formats.KindCreditNote || !pay.DirectDebit() {
		return ""
	}
	return pay.WithdrawalText() + " från ditt konto. Betala inte den här fakturan."
}

func allowanceCharge(ac formats.AllowanceCharge) *node {
	return elem("AllowanceCharge").add(
		leaf("cbc:ChargeIndicator", strconv.FormatBool(ac.Charge)),
		money("cbc:Amount", ac.Amount),
		taxCategory(ac.VATCategory, ac.VATRate, ""))
}

func taxTotal(d *formats.Document) *node {
	var sum formats.Amount
	subs := make([]*node, 0, len(d.VAT))
	for _, v := range d.VAT {
		sum += v.TaxAmount
		subs = append(subs, elem("cac:TaxSubTotal",
			money("cbc:TaxableAmount", v.TaxableAmount),
			money("cbc:TaxAmount", v.TaxAmount),
			taxCategory(v.Category, v.Rate, v.ExemptionReason)))
	}
	if d.Totals.TaxTotal != nil {
		sum = *d.Totals.TaxTotal
	}
	return elem("cac:TaxTotal", money("cbc:TotalTaxAmount", sum)).add(subs...)
}

func taxCategory(category string, rate formats.Decimal, exemption string) *node {
	if category == "" {
		return nil
	}
	return elem("cac:TaxCategory").add(
		leaf("cac:ID", category),
		leaf("cbc:Percent", string(rate)),
		leaf("cbc:ExemptionReason", exemption),
		elem("cac:TaxScheme", leaf("cac:ID", taxSchemeVAT)))
}

// legalTotal: Svefaktura has no amount-due element; the total with VAT,
// rounding included, is what the bank shows and pays, which check made
// sure equals BT-115.
func legalTotal(d *formats.Document) *node {
	t := d.Totals
	n := elem("cac:LegalTotal",
		money("cbc:LineExtensionTotalAmount", t.LineExtension),
		money("cbc:TaxExclusiveTotalAmount", t.TaxExclusive),
		money("cbc:TaxInclusiveTotalAmount", t.Payable))
	if t.Rounding != nil && *t.Rounding != 0 {
		n.add(money("cac:RoundOffAmount", *t.Rounding))
	}
	return n
}

func line(l formats.Line) *node {
	n := elem("cac:InvoiceLine", leaf("cac:ID", l.ID))
	if l.Quantity != "" {
		n.add(leaf("cbc:InvoicedQuantity", string(l.Quantity), attr{"quantityUnitCode", unitCode(l.Unit)}))
	}
	n.add(money("cbc:LineExtensionAmount", l.NetAmount), leaf("cbc:Note", l.Note))
	item := elem("cac:Item").add(leaf("cbc:Description", l.Item.Name))
	if l.Item.SellerID != "" {
		item.add(elem("cac:SellersItemIdentification", leaf("cac:ID", l.Item.SellerID)))
	}
	item.add(taxCategory(l.Item.VATCategory, l.Item.VATRate, ""))
	if l.Price.Amount != "" {
		item.add(elem("cac:BasePrice").add(
			leaf("cbc:PriceAmount", string(l.Price.Amount), attr{"amountCurrencyID", currencySEK}),
			leaf("cbc:BaseQuantity", string(l.Price.BaseQuantity))))
	}
	return n.add(item)
}

// unitCode is the line's unit (UN/ECE Recommendation 20, as EN 16931
// BT-130), or C62 ("one") when the input gives none: Svefaktura 1.0's schema
// requires quantityUnitCode on InvoicedQuantity, and a count of units is
// what a line without a unit means.
func unitCode(u string) string {
	if u = strings.TrimSpace(u); u != "" {
		return u
	}
	return unitOne
}

func money(name string, a formats.Amount) *node {
	return leaf(name, a.String(), attr{"amountCurrencyID", currencySEK})
}

// dateTime writes a date where the UBL 1.0 element is a date-time; "" for
// the zero date, which drops the element.
func dateTime(d formats.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String() + "T00:00:00"
}
