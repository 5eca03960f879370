package csv

import (
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// level says whether a column belongs to the invoice (the same on every row
// of it) or to the line the row stands for.
type level uint8

const (
	invoiceLevel level = iota
	lineLevel
)

// column is one column the format knows. The table below is the format's
// definition: the reader, the writer, Sniff and the tests all work from it,
// and docs/formats/csv.md describes every entry.
type column struct {
	name     string
	level    level
	required bool // the header must name it
	numeric  bool // its values show which decimal mark the file uses
	inv      func(b *builder, v string) error
	line     func(b *builder, r *row, v string) error
}

// columns in the order Writer writes them.
var columns = []column{
	{name: "type", inv: setKind},
	{name: "invoice_number", required: true, inv: text(func(d *formats.Document) *string { return &d.Number })},
	{name: "issue_date", required: true, inv: date(func(d *formats.Document) *formats.Date { return &d.IssueDate })},
	{name: "due_date", inv: date(func(d *formats.Document) *formats.Date { return &d.DueDate })},
	{name: "currency", inv: code("currency code (ISO 4217, like SEK)", 3, 3, false, func(d *formats.Document) *string { return &d.Currency })},
	{name: "buyer_reference", inv: text(func(d *formats.Document) *string { return &d.BuyerReference })},
	{name: "order_reference", inv: text(func(d *formats.Document) *string { return &d.OrderReference })},
	{name: "preceding_invoice", inv: func(b *builder, v string) error { b.preceding.Number = v; return nil }},
	{name: "preceding_invoice_date", inv: func(b *builder, v string) error {
		d, err := formats.ParseDate(v)
		b.preceding.IssueDate = d
		return err
	}},
	{name: "note", inv: func(b *builder, v string) error { b.doc.Notes = []string{v}; return nil }},
	{name: "payment_terms", inv: text(func(d *formats.Document) *string { return &d.PaymentTerms })},
	{name: "channel", inv: setChannel},
	{name: "resend", inv: setResend},

	{name: "seller_name", required: true, inv: text(func(d *formats.Document) *string { return &d.Seller.Name })},
	{name: "seller_orgnr", inv: func(b *builder, v string) error { b.doc.Seller.LegalID = orgnr(v); return nil }},
	{name: "seller_vat_id", inv: code("VAT id (country prefix and number, like SE556732170701)", 4, 20, true, func(d *formats.Document) *string { return &d.Seller.VATID })},
	{name: "seller_tax_registration", inv: text(func(d *formats.Document) *string { return &d.Seller.TaxRegistration })},
	{name: "seller_peppol_id", inv: endpoint(func(d *formats.Document) *formats.Identifier { return &d.Seller.Endpoint })},
	{name: "seller_street", inv: text(func(d *formats.Document) *string { return &d.Seller.Address.Street })},
	{name: "seller_street2", inv: text(func(d *formats.Document) *string { return &d.Seller.Address.Additional })},
	{name: "seller_postal_code", inv: text(func(d *formats.Document) *string { return &d.Seller.Address.PostalCode })},
	{name: "seller_city", inv: text(func(d *formats.Document) *string { return &d.Seller.Address.City })},
	{name: "seller_country", inv: code("country code (ISO 3166-1, like SE)", 2, 2, false, func(d *formats.Document) *string { return &d.Seller.Address.Country })},
	{name: "seller_email", inv: email(func(d *formats.Document) *string { return &d.Seller.Contact.Email })},
	{name: "seller_phone", inv: phone(func(b *builder) *string { return &b.doc.Seller.Contact.Phone })},
	{name: "seller_bankgiro", inv: func(b *builder, v string) error { b.bankgiro = account(v, formats.CheckBankgiro); return nil }},
	{name: "seller_plusgiro", inv: func(b *builder, v string) error { b.plusgiro = account(v, formats.CheckPlusgiro); return nil }},
	{name: "seller_iban", inv: func(b *builder, v string) error { b.iban = strings.ToUpper(strings.ReplaceAll(v, " ", "")); return nil }},
	{name: "seller_bic", inv: func(b *builder, v string) error { b.bic = strings.ToUpper(v); return nil }},
	{name: "ocr", inv: func(b *builder, v string) error { b.ocr = v; return nil }},
	{name: "autogiro_payer_number", inv: func(b *builder, v string) error { b.payer = v; return nil }},

	{name: "buyer_name", required: true, inv: text(func(d *formats.Document) *string { return &d.Buyer.Name })},
	{name: "buyer_customer_number", inv: text(func(d *formats.Document) *string { return &d.Buyer.CustomerNumber })},
	{name: "buyer_orgnr", inv: func(b *builder, v string) error { b.doc.Buyer.LegalID = orgnr(v); return nil }},
	{name: "buyer_vat_id", inv: code("VAT id (country prefix and number, like SE556732170701)", 4, 20, true, func(d *formats.Document) *string { return &d.Buyer.VATID })},
	{name: "buyer_personnummer", inv: func(b *builder, v string) error { b.personnummer = v; return nil }},
	{name: "buyer_peppol_id", inv: endpoint(func(d *formats.Document) *formats.Identifier { return &d.Buyer.Endpoint })},
	{name: "buyer_email", inv: email(func(d *formats.Document) *string { return &d.Buyer.Contact.Email })},
	{name: "buyer_mobile", inv: phone(func(b *builder) *string { return &b.mobile })},
	{name: "buyer_phone", inv: phone(func(b *builder) *string { return &b.phone })},
	{name: "buyer_street", inv: text(func(d *formats.Document) *string { return &d.Buyer.Address.Street })},
	{name: "buyer_street2", inv: text(func(d *formats.Document) *string { return &d.Buyer.Address.Additional })},
	{name: "buyer_postal_code", inv: text(func(d *formats.Document) *string { return &d.Buyer.Address.PostalCode })},
	{name: "buyer_city", inv: text(func(d *formats.Document) *string { return &d.Buyer.Address.City })},
	{name: "buyer_country", inv: code("country code (ISO 3166-1, like SE)", 2, 2, false, func(d *formats.Document) *string { return &d.Buyer.Address.Country })},

	{name: "vat_exemption_reason", inv: func(b *builder, v string) error { b.exemption = v; return nil }},
	{name: "total_excl_vat", numeric: true, inv: total(totalExcl)},
	{name: "total_vat", numeric: true, inv: total(totalVAT)},
	{name: "total_incl_vat", numeric: true, inv: total(totalIncl)},

	{name: "line_description", level: lineLevel, required: true, line: func(_ *builder, r *row, v string) error { r.l.Item.Name = v; return nil }},
	{name: "line_article_number", level: lineLevel, line: func(_ *builder, r *row, v string) error { r.l.Item.SellerID = v; return nil }},
	{name: "line_quantity", level: lineLevel, required: true, numeric: true, line: func(b *builder, r *row, v string) (err error) {
		r.l.Quantity, err = b.decimal(v)
		return err
	}},
	{name: "line_unit", level: lineLevel, line: func(_ *builder, r *row, v string) error {
		// Codes are upper case; refusing lower case also catches the Swedish
		// "st" (stycken, pieces), which upper-cased is ST, a sheet.
		if !isCode(v, 1, 3, true) || strings.ToUpper(v) != v {
			return fmt.Errorf("%q is not a UN/ECE Recommendation 20 unit code; write C62 (one), H87 (piece), HUR (hour), KGM (kilogram), KWH, ...", v)
		}
		r.l.Unit = v
		return nil
	}},
	{name: "line_price", level: lineLevel, required: true, numeric: true, line: func(b *builder, r *row, v string) (err error) {
		r.l.Price.Amount, err = b.decimal(v)
		return err
	}},
	{name: "line_vat_rate", level: lineLevel, required: true, numeric: true, line: func(b *builder, r *row, v string) error {
		d, err := b.decimal(v)
		r.l.Item.VATRate = trimZeros(d)
		return err
	}},
	{name: "line_vat_category", level: lineLevel, line: func(_ *builder, r *row, v string) error {
		c := strings.ToUpper(v)
		if !vatCategories[c] {
			return fmt.Errorf("%q is not a VAT category; write S (standard), Z (zero rated), E (exempt), AE (reverse charge), K (intra-EU), G (export), O (not subject to VAT), L or M", v)
		}
		r.l.Item.VATCategory = c
		return nil
	}},
	{name: "line_amount", level: lineLevel, numeric: true, line: func(b *builder, r *row, v string) (err error) {
		r.amount.set = true
		r.amount.amount, err = b.amount(v)
		return err
	}},
}

// columnIndex finds a column by name.
var columnIndex = func() map[string]int {
	m := make(map[string]int, len(columns))
	for i, c := range columns {
		m[c.name] = i
	}
	return m
}()

// vatCategories are the UNCL5305 codes EN 16931 allows (BT-118, BT-151).
var vatCategories = map[string]bool{"S": true, "Z": true, "E": true, "AE": true, "K": true, "G": true, "O": true, "L": true, "M": true}

// channels are the values the channel column accepts.
var channels = []string{"peppol", "efaktura", "kivra", "email", "sms", "print"}

func text(field func(d *formats.Document) *string) func(*builder, string) error {
	return func(b *builder, v string) error { *field(b.doc) = v; return nil }
}

func date(field func(d *formats.Document) *formats.Date) func(*builder, string) error {
	return func(b *builder, v string) (err error) {
		*field(b.doc), err = formats.ParseDate(v)
		return err
	}
}

// code sets an upper-case code of min to max letters (or letters and digits).
func code(what string, min, max int, digits bool, field func(d *formats.Document) *string) func(*builder, string) error {
	return func(b *builder, v string) error {
		if !isCode(v, min, max, digits) {
			return fmt.Errorf("%q is not a %s", v, what)
		}
		*field(b.doc) = strings.ToUpper(v)
		return nil
	}
}

// isCode reports whether v is min to max ASCII letters, or letters and
// digits when digits is true.
func isCode(v string, min, max int, digits bool) bool {
	if len(v) < min || len(v) > max {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20
		if !(c >= 'a' && c <= 'z') && !(digits && v[i] >= '0' && v[i] <= '9') {
			return false
		}
	}
	return true
}

func email(field func(d *formats.Document) *string) func(*builder, string) error {
	return func(b *builder, v string) error {
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(v, " ,;<>\"") || strings.Contains(domain, "@") {
			return fmt.Errorf("%q is not an e-mail address", v)
		}
		*field(b.doc) = v
		return nil
	}
}

func phone(field func(b *builder) *string) func(*builder, string) error {
	return func(b *builder, v string) error {
		digits := 0
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c >= '0' && c <= '9':
				digits++
			case c == '+' && i == 0, c == ' ', c == '-', c == '(', c == ')':
			default:
				return fmt.Errorf("%q is not a phone number (digits, spaces, -, and a leading +)", v)
			}
		}
		if digits < 5 || digits > 15 {
			return fmt.Errorf("%q is not a phone number: it has %d digits", v, digits)
		}
		*field(b) = v
		return nil
	}
}

// endpoint reads a Peppol participant id, "0007:5567321707".
func endpoint(field func(d *formats.Document) *formats.Identifier) func(*builder, string) error {
	return func(b *builder, v string) error {
		scheme, value, ok := strings.Cut(v, ":")
		if !ok || !isCode(scheme, 2, 4, true) || value == "" || strings.ContainsAny(value, " \t") {
			return fmt.Errorf("%q is not a Peppol participant id; write scheme:value, like 0007:5567321707", v)
		}
		*field(b.doc) = formats.Identifier{Scheme: strings.ToUpper(scheme), Value: value}
		return nil
	}
}

// orgnr keeps a valid organisationsnummer as its 10 digits and anything else
// as written, for validation to name what is wrong with it.
func orgnr(v string) formats.Identifier {
	if d, err := formats.CheckOrgnr(v); err == nil {
		v = d
	}
	return formats.Identifier{Scheme: "0007", Value: v}
}

// account keeps a valid bankgiro or plusgiro number as its digits and
// anything else as written, for validation to name what is wrong with it.
func account(v string, check func(string) (string, error)) string {
	if d, err := check(v); err == nil {
		return d
	}
	return v
}

func setKind(b *builder, v string) error {
	k, ok := kindOf(v)
	if !ok {
		return fmt.Errorf("%q is not a document type; write invoice or creditnote", v)
	}
	b.doc.Kind = k
	return nil
}

// kindOf reads the type column; an empty value is an invoice.
func kindOf(v string) (formats.Kind, bool) {
	switch strings.ToLower(v) {
	case "", "invoice", "380":
		return formats.KindInvoice, true
	case "creditnote", "credit_note", "381":
		return formats.KindCreditNote, true
	}
	return "", false
}

func setChannel(b *builder, v string) error {
	c := strings.ToLower(v)
	for _, ch := range channels {
		if c == ch {
			b.doc.ForcedChannel = c
			return nil
		}
	}
	return fmt.Errorf("%q is not a channel; write one of %s, or leave it empty to let routing choose", v, strings.Join(channels, ", "))
}

// setResend reads the resend column: yes marks an invoice the biller sends
// again on purpose, which the gateway then delivers although it has sent
// that invoice before.
func setResend(b *builder, v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "ja", "y", "j", "1", "true", "x":
		b.doc.Resend = true
	case "", "no", "nej", "n", "0", "false":
		b.doc.Resend = false
	default:
		return fmt.Errorf("%q is not yes or no; write yes (or 1, true) to send an invoice again on purpose, or leave it empty", v)
	}
	return nil
}

func total(which int) func(*builder, string) error {
	return func(b *builder, v string) error {
		a, err := b.amount(v)
		b.totals[which] = given{set: true, amount: a, line: b.line}
		return err
	}
}

// trimZeros writes a rate the short way, "25" for "25.00", so rates that are
// equal group into one VAT breakdown.
func trimZeros(d formats.Decimal) formats.Decimal {
	s := string(d)
	if strings.IndexByte(s, '.') < 0 {
		return d
	}
	s = strings.TrimRight(s, "0")
	return formats.Decimal(strings.TrimSuffix(s, "."))
}
