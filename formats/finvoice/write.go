package finvoice

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/multikanal/multikanal/formats"
)

// Batch is one file for the biller's bank or e-invoice operator: the
// messages one cut-off collected.
type Batch struct {
	// Created is the messages' time stamp (MessageTimeStamp and the SOAP
	// frame's Timestamp); stable across retries, so a retry writes the
	// same bytes.
	Created time.Time
	// Intermediator is the biller's own intermediator (FromIntermediator):
	// its bank's BIC or its operator's code, as its Finvoice agreement
	// names it.
	Intermediator string
	Items         []Item
}

// Item is one message of a batch.
type Item struct {
	// ID is the MessageIdentifier (2 to 48 characters), unique in the
	// batch; the channel uses the delivery key, so a receiver recognises
	// a repeat.
	ID  string
	To  Address // the recipient's e-invoice address and intermediator
	Doc *formats.Document
}

// Codes this writer uses. INV01 and INV02 are Finvoice's invoice and
// credit note (InvoiceTypeCode, code list SPY) with the UN/CEFACT 1001
// codes beside them; the type text is what the payer's online bank shows,
// in Finnish. SLEV is the SEPA charge option (charges follow the SEPA
// rules), 58 the UNCL 4461 code of a SEPA credit transfer, SPY and ISO the
// schemes of a Finnish reference number and an RF creditor reference.
const (
	version         = "3.0"
	typeInvoice     = "INV01"
	typeCreditNote  = "INV02"
	textInvoice     = "LASKU"
	textCreditNote  = "HYVITYSLASKU"
	originOriginal  = "Original"
	chargeSEPA      = "SLEV"
	meansSEPA       = "58"
	refFinnish      = "SPY"
	refRF           = "ISO"
	currencyEUR     = "EUR"
	specEN16931     = "EN16931"
	dateFormat      = "CCYYMMDD"
	schemaLocation  = "Finvoice3.0.xsd"
	stylesheet      = `<?xml-stylesheet type="text/xsl" href="Finvoice.xsl"?>`
	declarationLat9 = `<?xml version="1.0" encoding="ISO-8859-15"?>`
)

// Check reports whether a Finvoice message can carry the document: the
// rules of the schema and of the payment the bank makes from EpiDetails.
// The channel asks it before a document joins a batch, so one document the
// format cannot carry falls back to another channel instead of failing
// the batch. The error is an *Error naming the rule.
func Check(d *formats.Document) error {
	if _, err := mapDocument(d); err != nil {
		return err
	}
	return nil
}

// WriteBatch writes the batch as one file: for each item its SOAP frame
// and its Finvoice message, in ISO-8859-15. Nothing is written when an
// item breaks a rule; the error is an *Error naming the item.
func WriteBatch(w io.Writer, b Batch) error {
	if err := checkBatch(b); err != nil {
		return err
	}
	var out bytes.Buffer
	for i, it := range b.Items {
		m, err := mapDocument(it.Doc)
		if err != nil {
			err.Item = i + 1
			return err
		}
		from := Address{ID: m.SellerUnit, Intermediator: strings.ToUpper(b.Intermediator)}
		stamp := b.Created.Format(time.RFC3339)
		m.Transmission = &transmission{
			Sender:   senderDetails{From: schemed{Scheme: from.scheme(), Value: from.ID}, Intermediator: from.Intermediator},
			Receiver: receiverDetails{To: schemed{Scheme: it.To.scheme(), Value: it.To.ID}, Intermediator: it.To.Intermediator},
			Message:  messageDetails{ID: it.ID, TimeStamp: stamp, Specification: specEN16931},
		}
		writeFrame(&out, it.ID, from, it.To, stamp)
		out.WriteString(declarationLat9 + "\n" + stylesheet + "\n")
		enc := xml.NewEncoder(&out)
		enc.Indent("", "  ")
		if err := enc.Encode(m); err != nil {
			return &Error{Item: i + 1, Invoice: it.Doc.Label(), Rule: RuleText, Msg: err.Error()}
		}
		out.WriteString("\n")
	}
	// Every text went through latin9, so the encoder cannot meet a
	// character it lacks; an error here is a bug, not bad input.
	// The character set (implementation guidelines, section 9.3): Finvoice
	// messages are ISO-8859-15 ("Latin-9"), and banks check that the bytes
	// are, not only the declaration; every text was folded by formats.Latin9.
	body, err := charmap.ISO8859_15.NewEncoder().Bytes(out.Bytes())
	if err != nil {
		return fmt.Errorf("finvoice: encoding the batch as ISO-8859-15: %w", err)
	}
	_, err = w.Write(body)
	return err
}

func checkBatch(b Batch) error {
	switch {
	case b.Created.IsZero():
		return fail(RuleBatch, "the batch has no creation time")
	case len(b.Items) == 0:
		return fail(RuleBatch, "the batch has no message")
	}
	inter := strings.ToUpper(strings.TrimSpace(b.Intermediator))
	if err := (Address{ID: "00", Intermediator: inter}).Check(); err != nil {
		return fail(RuleBatch, "the biller's own intermediator (FromIntermediator): %v", err)
	}
	seen := map[string]bool{}
	for i, it := range b.Items {
		e := &Error{Item: i + 1}
		if it.Doc != nil {
			e.Invoice = it.Doc.Label()
		}
		switch {
		case it.Doc == nil:
			e.Rule, e.Msg = RuleBatch, "no document"
		case len(it.ID) < 2 || len(it.ID) > 48 || !ascii(it.ID):
			e.Rule, e.Msg = RuleBatch, fmt.Sprintf("message id %q: 2 to 48 ASCII characters", it.ID)
		case seen[it.ID]:
			e.Rule, e.Msg = RuleBatch, fmt.Sprintf("message id %s occurs twice in the batch", it.ID)
		default:
			if err := it.To.Check(); err != nil {
				e.Rule, e.Msg = RuleAddress, "recipient: "+err.Error()
			}
		}
		if e.Rule != "" {
			return e
		}
		seen[it.ID] = true
	}
	return nil
}

// writeFrame writes the SOAP frame that precedes each message on its way
// through the Finvoice forwarding service (implementation guidelines,
// section 9.1): an ebXML message header (version 2.0) naming sender and
// receiver with their intermediators, and a manifest pointing at the
// message by its identifier. The values are ASCII (checked addresses and
// ids), so the frame reads the same in any encoding.
func writeFrame(w *bytes.Buffer, id string, from, to Address, stamp string) {
	x := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	fmt.Fprintf(w, `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:eb="http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd">
  <SOAP-ENV:Header>
    <eb:MessageHeader SOAP-ENV:mustUnderstand="1" eb:version="2.0">
      <eb:From>
        <eb:PartyId>%s</eb:PartyId>
        <eb:Role>Sender</eb:Role>
      </eb:From>
      <eb:From>
        <eb:PartyId>%s</eb:PartyId>
        <eb:Role>Intermediator</eb:Role>
      </eb:From>
      <eb:To>
        <eb:PartyId>%s</eb:PartyId>
        <eb:Role>Receiver</eb:Role>
      </eb:To>
      <eb:To>
        <eb:PartyId>%s</eb:PartyId>
        <eb:Role>Intermediator</eb:Role>
      </eb:To>
      <eb:CPAId>yoursandmycpa</eb:CPAId>
      <eb:ConversationId>%s</eb:ConversationId>
      <eb:Service>Routing</eb:Service>
      <eb:Action>ProcessInvoice</eb:Action>
      <eb:MessageData>
        <eb:MessageId>%s</eb:MessageId>
        <eb:Timestamp>%s</eb:Timestamp>
      </eb:MessageData>
    </eb:MessageHeader>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <eb:Manifest eb:id="Manifest" eb:version="2.0">
      <eb:Reference eb:id="Finvoice" xlink:href="%s">
        <eb:Schema eb:location="http://www.finvoice.info/finvoice.xsd" eb:version="%s"/>
      </eb:Reference>
    </eb:Manifest>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
`, x(from.ID), x(from.Intermediator), x(to.ID), x(to.Intermediator), x(id), x(id), x(stamp), x(id), version)
}

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
	case pay.Method == formats.PayAutoGiro:
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
