package finvoice

// The mapping of a document onto a Finvoice message: the mapper, its
// checked text, amounts and dates, and the parties.

import (
	"strings"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

// mapper builds one message and keeps the first rule it breaks, so the
// mapping reads as a list of fields rather than a ladder of error checks.
type mapper struct {
	d    *formats.Document
	sign formats.Amount // -1 for a credit note: Finvoice states a credit note's amounts as negative
	cur  string
	err  *Error
}

func (m *mapper) fail(r Rule, format string, a ...any) {
	if m.err == nil {
		m.err = fail(r, format, a...)
	}
}

// text folds s into ISO-8859-15 and checks its length (in characters)
// against the element's maximum; field names the element for the message.
func (m *mapper) text(field, s string, max int) string {
	v, err := formats.Latin9(strings.TrimSpace(s))
	if err != nil {
		m.fail(RuleText, "%s: %v", field, err)
		return ""
	}
	if n := utf8.RuneCountInString(v); n > max {
		m.fail(RuleText, "%s has %d characters; Finvoice's %s holds at most %d", field, n, field, max)
		return ""
	}
	return v
}

// chunks folds s and splits it at spaces into pieces of at most max
// characters, for elements that may repeat (names, free texts). A word
// longer than max is cut. limit caps the number of pieces (0: no cap); a
// text that needs more breaks RuleText.
func (m *mapper) chunks(field, s string, max, limit int) []string {
	v, err := formats.Latin9(strings.Join(strings.Fields(s), " "))
	if err != nil {
		m.fail(RuleText, "%s: %v", field, err)
		return nil
	}
	var out []string
	for v != "" {
		r := []rune(v)
		if len(r) <= max {
			out = append(out, v)
			break
		}
		cut := max
		for i := max; i > max/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, strings.TrimSpace(string(r[:cut])))
		v = strings.TrimSpace(string(r[cut:]))
	}
	if limit > 0 && len(out) > limit {
		m.fail(RuleText, "%s is too long: Finvoice holds it in at most %d elements of %d characters", field, limit, max)
		return nil
	}
	return out
}

func (m *mapper) amount(a formats.Amount) amount {
	return amount{Currency: m.cur, Value: comma((a * m.sign).String())}
}

// amountPtr is amount for an optional total: nil stays absent.
func (m *mapper) amountPtr(a *formats.Amount) *amount {
	if a == nil {
		return nil
	}
	v := m.amount(*a)
	return &v
}

func comma(s string) string { return strings.Replace(s, ".", ",", 1) }

func finDate(d formats.Date) date {
	return date{Format: dateFormat, Value: strings.ReplaceAll(d.String(), "-", "")}
}

func finDatePtr(d formats.Date) *date {
	if d.IsZero() {
		return nil
	}
	v := finDate(d)
	return &v
}

// percent writes a rate as the schema's percentage: up to three integer
// digits, decimal comma, no trailing zeros, and at most three decimals:
// the schema of November 2019, which Finance Finland reinstated in
// December 2020, allows three (the one of 30 November 2020 allowed four).
func (m *mapper) percent(field string, d formats.Decimal) string {
	if d == "" {
		return ""
	}
	s := string(d)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	in, frac, _ := strings.Cut(s, ".")
	if strings.HasPrefix(s, "-") || len(in) > 3 || len(frac) > 3 {
		m.fail(RuleText, "%s %s: Finvoice's percentage holds 0 to 999 with at most three decimals", field, d)
		return ""
	}
	return comma(s)
}

// mapDocument maps and checks one document. The message it returns lacks
// only its MessageTransmissionDetails, which depend on the batch.
func mapDocument(d *formats.Document) (*message, *Error) {
	m := &mapper{d: d, sign: 1, cur: strings.ToUpper(d.Currency)}
	credit := d.Kind == formats.KindCreditNote
	if credit {
		m.sign = -1
	}
	msg := &message{Version: version, XSI: "http://www.w3.org/2001/XMLSchema-instance", SchemaFile: schemaLocation}
	m.checkBasics()
	msg.Seller, msg.SellerUnit = m.seller()
	msg.SellerPerson = m.text("SellerContactPersonName", d.Seller.Contact.Name, 70)
	if c := (sellerComm{Phone: m.text("SellerPhoneNumberIdentifier", d.Seller.Contact.Phone, 35),
		Email: m.text("SellerEmailaddressIdentifier", d.Seller.Contact.Email, 70)}); c != (sellerComm{}) {
		msg.SellerComm = &c
	}
	msg.Buyer = m.buyer()
	if isFinnishEndpoint(d.Buyer.Endpoint) {
		msg.BuyerUnit = m.text("BuyerOrganisationUnitNumber", d.Buyer.Endpoint.Value, 35)
	}
	msg.BuyerPerson = m.text("BuyerContactPersonName", d.Buyer.Contact.Name, 70)
	if c := (buyerComm{Phone: m.text("BuyerPhoneNumberIdentifier", d.Buyer.Contact.Phone, 35),
		Email: m.text("BuyerEmailaddressIdentifier", d.Buyer.Contact.Email, 70)}); c != (buyerComm{}) {
		msg.BuyerComm = &c
	}
	msg.DeliveryTo, msg.Delivery = m.delivery()
	msg.Details = m.details(credit)
	for i := range d.Lines {
		msg.Rows = append(msg.Rows, m.row(i))
	}
	msg.Epi, msg.SellerInfo = m.epi(credit)
	if m.err != nil {
		m.err.Invoice = d.Label()
		return nil, m.err
	}
	return msg, nil
}

func (m *mapper) checkBasics() {
	d := m.d
	switch {
	case strings.TrimSpace(d.Number) == "":
		m.fail(RuleNumber, "no invoice number (BT-1); Finvoice requires InvoiceNumber")
	case utf8.RuneCountInString(strings.TrimSpace(d.Number)) > 20:
		m.fail(RuleNumber, "invoice number %q has more than the 20 characters Finvoice's InvoiceNumber holds", d.Number)
	case d.IssueDate.IsZero():
		m.fail(RuleDate, "no issue date (BT-2)")
	case m.cur != currencyEUR:
		m.fail(RuleCurrency, "currency %q (BT-5): EpiDetails is a SEPA credit transfer in euro, and the online banks show euro invoices only", d.Currency)
	case len(d.Lines) == 0:
		m.fail(RuleLines, "no invoice line (BG-25); Finvoice requires at least one InvoiceRow")
	}
}

// seller maps BG-4. The seller's e-invoice address (SellerOrganisationUnitNumber,
// and FromIdentifier in the frame) is its electronic address (BT-34) when
// that is under a Finnish scheme, otherwise the OVT code of its Y-tunnus.
func (m *mapper) seller() (sellerParty, string) {
	p := m.d.Seller
	s := sellerParty{
		ID:          m.legalID("SellerPartyIdentifier", p),
		Names:       m.names("SellerOrganisationName", p.Name, "the seller", "BT-27"),
		TradingName: m.text("SellerOrganisationTradingName", p.TradingName, 70),
		TaxCode:     m.text("SellerOrganisationTaxCode", p.VATID, 35),
	}
	if a := m.address("seller", p.Address); a != nil {
		s.Address = &sellerAddress{Streets: a.streets, Town: a.town, PostCode: a.postCode, Subdivision: a.subdivision, Country: a.country}
	}
	unit := ""
	switch {
	case isFinnishEndpoint(p.Endpoint):
		unit = p.Endpoint.Value
	case yTunnus(p) != "":
		unit = ovtOf(yTunnus(p))
	default:
		m.fail(RuleAddress, "the seller has no Finnish e-invoice address: give its electronic address (BT-34) under scheme 0037 or 0216, or its Y-tunnus (BT-30 under scheme 0212)")
	}
	if unit != "" {
		if err := (Address{ID: unit, Intermediator: "00"}).Check(); err != nil {
			m.fail(RuleAddress, "the seller's %v", err)
		}
	}
	return s, unit
}

func (m *mapper) buyer() buyerParty {
	p := m.d.Buyer
	b := buyerParty{
		ID:          m.legalID("BuyerPartyIdentifier", p),
		Names:       m.names("BuyerOrganisationName", p.Name, "the buyer", "BT-44"),
		TradingName: m.text("BuyerOrganisationTradingName", p.TradingName, 70),
		TaxCode:     m.text("BuyerOrganisationTaxCode", p.VATID, 35),
	}
	if a := m.address("buyer", p.Address); a != nil {
		b.Address = &buyerAddress{Streets: a.streets, Town: a.town, PostCode: a.postCode, Subdivision: a.subdivision, Country: a.country}
	}
	return b
}

// names splits a party's name over as many 70-character elements as it
// needs (the schema allows any number, each at least 2 characters).
func (m *mapper) names(field, name, who, bt string) []string {
	n := m.chunks(field, name, 70, 0)
	if len(n) == 0 || utf8.RuneCountInString(strings.Join(n, " ")) < 2 {
		m.fail(RuleParty, "%s has no name of at least 2 characters (%s); Finvoice requires %s", who, bt, field)
	}
	return n
}

// legalID writes BT-30 / BT-47 with its ISO 6523 scheme; a Finnish
// Y-tunnus is written checked, under 0212.
func (m *mapper) legalID(field string, p formats.Party) *schemed {
	if y := yTunnus(p); y != "" && (p.LegalID.IsZero() || p.LegalID.Scheme == schemeYTunnus || p.LegalID.Scheme == schemeOVT) {
		return &schemed{Scheme: schemeYTunnus, Value: y}
	}
	if p.LegalID.IsZero() {
		return nil
	}
	id := &schemed{Value: m.text(field, p.LegalID.Value, 35)}
	if isICD(p.LegalID.Scheme) {
		id.Scheme = p.LegalID.Scheme
	}
	return id
}

func isICD(s string) bool { return len(s) == 4 && formats.OnlyDigits(s) == s }

// yTunnus finds a party's Y-tunnus: its legal id under 0212 or 0037 (or
// without a scheme but in the Y-tunnus form), or its Finnish VAT number
// (FI and the eight digits). It returns "" when the party has none or it
// fails its check digit.
func yTunnus(p formats.Party) string {
	candidates := []string{}
	switch p.LegalID.Scheme {
	case schemeYTunnus, schemeOVT:
		candidates = append(candidates, p.LegalID.Value)
	case "":
		if strings.Contains(p.LegalID.Value, "-") {
			candidates = append(candidates, p.LegalID.Value)
		}
	}
	if v := strings.ToUpper(strings.ReplaceAll(p.VATID, " ", "")); strings.HasPrefix(v, "FI") && len(v) == 10 {
		candidates = append(candidates, v[2:])
	}
	for _, c := range candidates {
		if y, err := formats.CheckYTunnus(c); err == nil {
			return y
		}
	}
	return ""
}

// isFinnishEndpoint reports whether an electronic address (BT-34, BT-49)
// is a Finnish e-invoice address: an OVT code under 0037 or 0216.
func isFinnishEndpoint(id formats.Identifier) bool {
	return (id.Scheme == schemeOVT || id.Scheme == schemeOVTPeppol) && id.Value != ""
}

type postal struct {
	streets                              []string
	town, postCode, subdivision, country string
}

// address maps a postal address when it has what Finvoice's address
// details require (a street, a town and a postal code, each at least 2
// characters); a partial address is left out rather than refused, since
// the e-invoice needs no postal address to arrive.
func (m *mapper) address(who string, a formats.Address) *postal {
	if !a.Postal() {
		return nil
	}
	var streets []string
	for _, l := range []string{a.Street, a.Additional, a.Line3} {
		streets = append(streets, m.chunks(who+" street", l, 35, 0)...)
	}
	if len(streets) > 3 {
		m.fail(RuleParty, "the %s's street address needs more than the three 35-character lines Finvoice holds", who)
	}
	p := &postal{streets: streets, town: m.text(who+" town", a.City, 35), postCode: m.text(who+" postal code", a.PostalCode, 35),
		subdivision: m.text(who+" country subdivision", a.Subdivision, 35)}
	if c := strings.ToUpper(strings.TrimSpace(a.Country)); len(c) == 2 {
		p.country = c
	}
	for _, s := range append(append([]string{}, streets...), p.town, p.postCode) {
		if utf8.RuneCountInString(s) < 2 {
			return nil
		}
	}
	if p.subdivision != "" && utf8.RuneCountInString(p.subdivision) < 2 {
		p.subdivision = ""
	}
	return p
}

func (m *mapper) delivery() (*deliveryParty, *deliveryDetails) {
	dl := m.d.Delivery
	if dl == nil {
		return nil, nil
	}
	var party *deliveryParty
	if a := m.address("delivery", dl.Address); a != nil && strings.TrimSpace(dl.Name) != "" {
		party = &deliveryParty{Names: m.chunks("DeliveryOrganisationName", dl.Name, 35, 0),
			Address: deliveryAddress{Streets: a.streets, Town: a.town, PostCode: a.postCode, Subdivision: a.subdivision, Country: a.country}}
	}
	var details *deliveryDetails
	if !dl.Date.IsZero() {
		details = &deliveryDetails{Date: finDatePtr(dl.Date)}
	}
	return party, details
}
