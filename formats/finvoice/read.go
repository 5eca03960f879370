package finvoice

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"

	"github.com/multikanal/multikanal/formats"
)

// Message is one Finvoice message Read found, with the routing its SOAP
// frame (or, without one, its MessageTransmissionDetails) names.
type Message struct {
	ID   string    // MessageIdentifier / MessageId
	Time time.Time // MessageTimeStamp; zero when absent
	From Address
	To   Address
	Doc  *formats.Document
}

// MaxFile bounds what Read takes in: a batch of Finvoice messages for a
// bank is megabytes, not gigabytes.
const MaxFile = 256 << 20

// Read parses a Finvoice file: one or more messages, each optionally
// preceded by its SOAP frame, in the encoding the first XML declaration
// names (ISO-8859-15 as written, ISO-8859-1, windows-1252 or UTF-8). Every
// message becomes a formats.Document; a credit note's negative amounts
// become the canonical model's positive ones. An error is an *Error naming
// the message and the rule.
func Read(r io.Reader) ([]Message, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxFile+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxFile {
		return nil, fail(RuleFile, "the file is larger than %d MiB", MaxFile>>20)
	}
	text, ferr := utf8Text(raw)
	if ferr != nil {
		return nil, ferr
	}
	dec := xml.NewDecoder(strings.NewReader(text))
	var out []Message
	var frame *envelope
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &Error{Item: len(out) + 1, Rule: RuleFile, Msg: "not well-formed XML: " + err.Error()}
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			if cd, isText := tok.(xml.CharData); isText && len(bytes.TrimSpace(cd)) > 0 {
				return nil, &Error{Item: len(out) + 1, Rule: RuleFile, Msg: "text outside any element"}
			}
			continue
		}
		switch start.Name.Local {
		case "Envelope":
			frame = &envelope{}
			if err := dec.DecodeElement(frame, &start); err != nil {
				return nil, &Error{Item: len(out) + 1, Rule: RuleFile, Msg: "SOAP frame: not well-formed XML: " + err.Error()}
			}
		case "Finvoice":
			var msg message
			if err := dec.DecodeElement(&msg, &start); err != nil {
				return nil, &Error{Item: len(out) + 1, Rule: RuleFile, Msg: "not well-formed XML: " + err.Error()}
			}
			m, err := msg.read(frame)
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					e.Item = len(out) + 1
				}
				return nil, err
			}
			out = append(out, m)
			frame = nil
		default:
			return nil, &Error{Item: len(out) + 1, Rule: RuleFile, Msg: fmt.Sprintf("<%s> is neither a SOAP frame nor a Finvoice message", start.Name.Local)}
		}
	}
	if len(out) == 0 {
		return nil, fail(RuleFile, "no Finvoice message in the file")
	}
	return out, nil
}

var (
	declaration = regexp.MustCompile(`<\?xml\s[^>]*\?>`)
	encodingOf  = regexp.MustCompile(`encoding\s*=\s*["']([A-Za-z0-9._-]+)["']`)
)

// utf8Text decodes the file by the encoding its first declaration names and
// drops every XML declaration: a batch repeats one before each message,
// which an XML decoder would take for a second document.
func utf8Text(raw []byte) (string, *Error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	name := "UTF-8"
	if d := declaration.Find(raw); d != nil {
		if m := encodingOf.FindSubmatch(d); m != nil {
			name = strings.ToUpper(string(m[1]))
		}
	}
	var enc encoding.Encoding
	switch name {
	case "UTF-8", "UTF8":
	case "ISO-8859-15", "ISO8859-15", "LATIN-9", "LATIN9":
		enc = charmap.ISO8859_15
	case "ISO-8859-1", "ISO8859-1", "LATIN1":
		enc = charmap.ISO8859_1
	case "WINDOWS-1252", "CP1252":
		enc = charmap.Windows1252
	default:
		return "", fail(RuleFile, "encoding %s: Finvoice files are ISO-8859-15 (or UTF-8)", name)
	}
	text := string(raw)
	if enc != nil {
		b, err := enc.NewDecoder().Bytes(raw)
		if err != nil {
			return "", fail(RuleFile, "not %s: %v", name, err)
		}
		text = string(b)
	} else if !utf8.ValidString(text) {
		return "", fail(RuleFile, "the file declares UTF-8 (or nothing) but is not UTF-8 text")
	}
	return declaration.ReplaceAllString(text, ""), nil
}

// envelope is the part of the SOAP frame Read uses: the parties by role
// and the message id. Tags without a namespace match the eb: elements.
type envelope struct {
	From      []frameParty `xml:"Header>MessageHeader>From"`
	To        []frameParty `xml:"Header>MessageHeader>To"`
	MessageID string       `xml:"Header>MessageHeader>MessageData>MessageId"`
	Timestamp string       `xml:"Header>MessageHeader>MessageData>Timestamp"`
}

type frameParty struct {
	ID   string `xml:"PartyId"`
	Role string `xml:"Role"`
}

func roles(ps []frameParty, main string) Address {
	var a Address
	for _, p := range ps {
		switch strings.TrimSpace(p.Role) {
		case main:
			a.ID = strings.TrimSpace(p.ID)
		case "Intermediator":
			a.Intermediator = strings.TrimSpace(p.ID)
		}
	}
	return a
}

// reader converts one message's texts back to the canonical model and
// keeps the first value it cannot read.
type reader struct {
	sign formats.Amount
	err  *Error
}

func (r *reader) fail(rule Rule, format string, a ...any) {
	if r.err == nil {
		r.err = fail(rule, format, a...)
	}
}

func (r *reader) amount(field string, a *amount) formats.Amount {
	if a == nil {
		return 0
	}
	v, err := formats.ParseAmount(strings.Replace(strings.TrimSpace(a.Value), ",", ".", 1))
	if err != nil {
		r.fail(RuleFile, "%s %q: %v", field, a.Value, err)
	}
	return v * r.sign
}

func (r *reader) amountPtr(field string, a *amount) *formats.Amount {
	if a == nil {
		return nil
	}
	v := r.amount(field, a)
	return &v
}

func (r *reader) decimal(field, s string) formats.Decimal {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	d, err := formats.ParseDecimal(strings.Replace(s, ",", ".", 1))
	if err != nil {
		r.fail(RuleFile, "%s %q: %v", field, s, err)
	}
	return d
}

func (r *reader) date(field string, d *date) formats.Date {
	if d == nil || strings.TrimSpace(d.Value) == "" {
		return formats.Date{}
	}
	t, err := time.Parse("20060102", strings.TrimSpace(d.Value))
	if err != nil {
		r.fail(RuleFile, "%s %q is not a date in the form CCYYMMDD", field, d.Value)
		return formats.Date{}
	}
	return formats.DateOf(t)
}

func identifier(s *schemed) formats.Identifier {
	if s == nil {
		return formats.Identifier{}
	}
	return formats.Identifier{Scheme: s.Scheme, Value: strings.TrimSpace(s.Value)}
}

func endpoint(value string) formats.Identifier {
	if value == "" {
		return formats.Identifier{}
	}
	id := formats.Identifier{Value: value}
	if isOVT(value) {
		id.Scheme = schemeOVT
	}
	return id
}

func streets(s []string) formats.Address {
	var a formats.Address
	for i, l := range s {
		switch i {
		case 0:
			a.Street = l
		case 1:
			a.Additional = l
		case 2:
			a.Line3 = l
		}
	}
	return a
}

// read converts a parsed message (and the frame before it, if any).
func (msg *message) read(frame *envelope) (Message, error) {
	out := Message{}
	if t := msg.Transmission; t != nil {
		out.ID = t.Message.ID
		out.From = Address{ID: t.Sender.From.Value, Intermediator: t.Sender.Intermediator}
		out.To = Address{ID: t.Receiver.To.Value, Intermediator: t.Receiver.Intermediator}
		out.Time, _ = time.Parse(time.RFC3339, t.Message.TimeStamp)
	}
	if frame != nil {
		if f := roles(frame.From, "Sender"); f.ID != "" {
			out.From = f
		}
		if t := roles(frame.To, "Receiver"); t.ID != "" {
			out.To = t
		}
		if out.ID == "" {
			out.ID = frame.MessageID
		}
		if out.Time.IsZero() {
			out.Time, _ = time.Parse(time.RFC3339, frame.Timestamp)
		}
	}
	d, err := msg.document()
	if err != nil {
		return Message{}, err
	}
	out.Doc = d
	return out, nil
}

func (msg *message) document() (*formats.Document, error) {
	id := msg.Details
	r := &reader{sign: 1}
	d := &formats.Document{Kind: formats.KindInvoice, Number: strings.TrimSpace(id.Number), TypeCode: id.TypeCodeUN,
		Currency: strings.ToUpper(id.TotalVatIncluded.Currency)}
	if msg.Version != version {
		r.fail(RuleFile, "Finvoice version %q; this reader takes 3.0", msg.Version)
	}
	if strings.TrimSpace(id.TypeCode.Value) == typeCreditNote || id.TypeCodeUN == "381" {
		d.Kind, r.sign = formats.KindCreditNote, -1
	}
	d.IssueDate = r.date("InvoiceDate", &id.Date)
	d.Notes = id.FreeText
	d.BuyerReference, d.OrderReference, d.SalesOrderRef = id.BuyerReference, id.OrderID, id.SellerReference
	d.ContractReference, d.ProjectReference, d.AccountingCost = id.AgreementID, id.ProjectReference, id.AccountDimension
	if id.OriginalNumber != "" {
		d.Preceding = append(d.Preceding, formats.PrecedingInvoice{Number: id.OriginalNumber, IssueDate: r.date("OriginalInvoiceDate", id.OriginalDate)})
	}
	for _, o := range id.OriginalRefs {
		d.Preceding = append(d.Preceding, formats.PrecedingInvoice{Number: o.Number, IssueDate: r.date("OriginalInvoiceReference/InvoiceDate", o.Date)})
	}
	if id.PeriodStart != nil || id.PeriodEnd != nil {
		d.Period = &formats.Period{Start: r.date("InvoicingPeriodStartDate", id.PeriodStart), End: r.date("InvoicingPeriodEndDate", id.PeriodEnd)}
	}
	for _, t := range id.PaymentTerms {
		if due := r.date("InvoiceDueDate", t.DueDate); !due.IsZero() && d.DueDate.IsZero() {
			d.DueDate = due
		}
		if len(t.FreeText) > 0 && d.PaymentTerms == "" {
			d.PaymentTerms = strings.Join(t.FreeText, " ")
		}
	}

	s := msg.Seller
	d.Seller = formats.Party{Name: strings.Join(s.Names, " "), TradingName: s.TradingName, LegalID: identifier(s.ID), VATID: s.TaxCode,
		Endpoint: endpoint(msg.SellerUnit), Contact: formats.Contact{Name: msg.SellerPerson}}
	if s.Address != nil {
		a := streets(s.Address.Streets)
		a.City, a.PostalCode, a.Subdivision, a.Country = s.Address.Town, s.Address.PostCode, s.Address.Subdivision, s.Address.Country
		d.Seller.Address = a
	}
	if c := msg.SellerComm; c != nil {
		d.Seller.Contact.Phone, d.Seller.Contact.Email = c.Phone, c.Email
	}
	if info := msg.SellerInfo; info != nil {
		d.Seller.TaxRegistration, d.Seller.LegalInfo = info.TaxRegistration, info.LegalInfo
	}
	b := msg.Buyer
	d.Buyer = formats.Party{Name: strings.Join(b.Names, " "), TradingName: b.TradingName, LegalID: identifier(b.ID), VATID: b.TaxCode,
		Endpoint: endpoint(msg.BuyerUnit), CustomerNumber: id.SellersBuyerID, Contact: formats.Contact{Name: msg.BuyerPerson}}
	if b.Address != nil {
		a := streets(b.Address.Streets)
		a.City, a.PostalCode, a.Subdivision, a.Country = b.Address.Town, b.Address.PostCode, b.Address.Subdivision, b.Address.Country
		d.Buyer.Address = a
	}
	if c := msg.BuyerComm; c != nil {
		d.Buyer.Contact.Phone, d.Buyer.Contact.Email = c.Phone, c.Email
	}
	if msg.Delivery != nil || msg.DeliveryTo != nil {
		d.Delivery = &formats.Delivery{}
		if msg.Delivery != nil {
			d.Delivery.Date = r.date("DeliveryDate", msg.Delivery.Date)
		}
		if p := msg.DeliveryTo; p != nil {
			a := streets(p.Address.Streets)
			a.City, a.PostalCode, a.Subdivision, a.Country = p.Address.Town, p.Address.PostCode, p.Address.Subdivision, p.Address.Country
			d.Delivery.Name, d.Delivery.Address = strings.Join(p.Names, " "), a
		}
	}

	for _, v := range id.VAT {
		d.VAT = append(d.VAT, formats.VATBreakdown{Category: v.Code, Rate: r.decimal("VatRatePercent", v.RatePercent),
			TaxableAmount: r.amount("VatBaseAmount", v.Base), TaxAmount: r.amount("VatRateAmount", v.RateAmount),
			ExemptionReason: strings.Join(v.FreeText, " "), ExemptionCode: v.ExemptionReason})
	}
	for _, x := range id.Discounts {
		d.AllowanceCharges = append(d.AllowanceCharges, formats.AllowanceCharge{Amount: r.amount("DiscountDetails/Amount", x.Amount),
			BaseAmount: r.amountPtr("DiscountDetails/BaseAmount", x.BaseAmount), Percent: r.decimal("DiscountDetails/Percent", x.Percent),
			Reason: x.FreeText, ReasonCode: x.ReasonCode, VATCategory: x.VatCode, VATRate: r.decimal("DiscountDetails/VatRatePercent", x.VatPercent)})
	}
	for _, x := range id.Charges {
		d.AllowanceCharges = append(d.AllowanceCharges, formats.AllowanceCharge{Charge: true, Amount: r.amount("ChargeDetails/Amount", x.Amount),
			BaseAmount: r.amountPtr("ChargeDetails/BaseAmount", x.BaseAmount), Percent: r.decimal("ChargeDetails/Percent", x.Percent),
			Reason: x.ReasonText, ReasonCode: x.ReasonCode, VATCategory: x.VatCode, VATRate: r.decimal("ChargeDetails/VatRatePercent", x.VatPercent)})
	}
	for i, row := range msg.Rows {
		d.Lines = append(d.Lines, r.line(i, row))
	}
	e := msg.Epi
	d.Totals = formats.Totals{
		LineExtension: r.amount("RowsTotalVatExcludedAmount", id.RowsTotal), AllowanceTotal: r.amountPtr("DiscountsTotalVatExcludedAmount", id.DiscountsTotal),
		ChargeTotal: r.amountPtr("ChargesTotalVatExcludedAmount", id.ChargesTotal), TaxExclusive: r.amount("InvoiceTotalVatExcludedAmount", id.TotalVatExcluded),
		TaxTotal: r.amountPtr("InvoiceTotalVatAmount", id.TotalVat), TaxInclusive: r.amount("InvoiceTotalVatIncludedAmount", &id.TotalVatIncluded),
		Rounding: r.amountPtr("InvoiceTotalRoundoffAmount", id.Roundoff), Prepaid: r.amountPtr("InvoicePaidAmount", id.Paid),
		Payable: r.amount("EpiInstructedAmount", &e.Instruction.Amount),
	}
	pm := formats.PaymentMeans{Code: e.Instruction.MeansCode, Account: strings.TrimSpace(e.Party.Beneficiary.Account.Value),
		AccountScheme: formats.AccountIBAN, Text: e.Instruction.MeansText}
	if pm.Code == "" {
		pm.Code = formats.MeansSEPACreditTrans
	}
	if ref := e.Instruction.Reference; ref != nil {
		pm.PaymentID = strings.TrimSpace(ref.Value)
	}
	if bic := e.Party.Bfi.BIC; bic != nil {
		pm.ServiceID = strings.TrimSpace(bic.Value)
	}
	d.PaymentMeans = []formats.PaymentMeans{pm}
	if due := r.date("EpiDateOptionDate", &e.Instruction.DueDate); d.DueDate.IsZero() && d.Kind == formats.KindInvoice {
		d.DueDate = due
	}
	if r.err != nil {
		r.err.Invoice = d.Label()
		return nil, r.err
	}
	return d, nil
}

func (r *reader) line(i int, row invoiceRow) formats.Line {
	field := func(name string) string { return fmt.Sprintf("InvoiceRow %d %s", i+1, name) }
	l := formats.Line{ID: row.Position, OrderLineRef: row.OrderPosition, AccountingCost: row.AccountDimension,
		Note:      strings.Join(row.FreeText, " "),
		NetAmount: r.amount(field("RowVatExcludedAmount"), row.VatExcludedAmount),
		Item: formats.LineItem{Name: row.ArticleName, Description: row.ArticleText, SellerID: row.ArticleID, BuyerID: row.BuyerArticleID,
			StandardID: identifier(row.EanCode), VATCategory: row.VatCode, VATRate: r.decimal(field("RowVatRatePercent"), row.VatRatePercent)},
	}
	if l.ID == "" {
		l.ID = fmt.Sprint(i + 1)
	}
	if q := row.Quantity; q != nil {
		l.Quantity, l.Unit = r.decimal(field("InvoicedQuantity"), q.Value), q.UnitUN
		if r.sign < 0 {
			l.Quantity = negate(l.Quantity)
		}
	}
	if row.StartDate != nil || row.EndDate != nil {
		l.Period = &formats.Period{Start: r.date(field("StartDate"), row.StartDate), End: r.date(field("EndDate"), row.EndDate)}
	}
	if p := row.UnitPrice; p != nil {
		l.Price.Amount = r.decimal(field("UnitPriceAmount"), p.Value)
		if l.Unit == "" {
			l.Unit = p.UnitUN
		}
	}
	if b := row.UnitPriceBase; b != nil {
		l.Price.BaseQuantity, l.Price.BaseUnit = r.decimal(field("UnitPriceBaseQuantity"), b.Value), b.UnitUN
	}
	for _, x := range row.Discounts {
		l.AllowanceCharges = append(l.AllowanceCharges, formats.AllowanceCharge{Amount: r.amount(field("RowDiscountAmount"), x.Amount),
			BaseAmount: r.amountPtr(field("RowDiscountBaseAmount"), x.BaseAmount), Percent: r.decimal(field("RowDiscountPercent"), x.Percent),
			Reason: x.TypeText, ReasonCode: x.TypeCode})
	}
	for _, x := range row.Charges {
		l.AllowanceCharges = append(l.AllowanceCharges, formats.AllowanceCharge{Charge: true, Amount: r.amount(field("RowChargeDetails/Amount"), x.Amount),
			BaseAmount: r.amountPtr(field("RowChargeDetails/BaseAmount"), x.BaseAmount), Percent: r.decimal(field("RowChargeDetails/Percent"), x.Percent),
			Reason: x.ReasonText, ReasonCode: x.ReasonCode})
	}
	return l
}
