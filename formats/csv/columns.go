package csv

import (
	"fmt"
	"regexp"
	"slices"
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
	codec
}

// codec is how a column's value goes into a document and comes out of it
// again: one entry serves Read and Writer both, so the two cannot disagree
// about a column.
type codec struct {
	inv  func(b *builder, v string) error         // an invoice column: set the value
	line func(b *builder, r *row, v string) error // a line column: set it on the row's line
	// out is the value Writer writes for line l of d, its numbers with
	// n's decimal mark.
	out func(n numbers, d *formats.Document, l *formats.Line) string
}

// columns in the order Writer writes them.
var columns = []column{
	{name: "type", codec: codec{inv: setKind, out: docValue(func(d *formats.Document) string { return string(d.Kind) })}},
	{name: "invoice_number", required: true, codec: text(func(d *formats.Document) *string { return &d.Number })},
	{name: "issue_date", required: true, codec: date(func(d *formats.Document) *formats.Date { return &d.IssueDate })},
	{name: "due_date", codec: date(func(d *formats.Document) *formats.Date { return &d.DueDate })},
	{name: "currency", codec: code("currency code (ISO 4217, like SEK)", 3, 3, false, func(d *formats.Document) *string { return &d.Currency })},
	{name: "buyer_reference", codec: text(func(d *formats.Document) *string { return &d.BuyerReference })},
	{name: "order_reference", codec: text(func(d *formats.Document) *string { return &d.OrderReference })},
	{name: "preceding_invoice", codec: codec{
		inv: func(b *builder, v string) error { b.preceding.Number = v; return nil },
		out: docValue(func(d *formats.Document) string {
			if len(d.Preceding) == 1 {
				return d.Preceding[0].Number
			}
			return ""
		}),
	}},
	{name: "preceding_invoice_date", codec: codec{
		inv: func(b *builder, v string) error {
			d, err := formats.ParseDate(v)
			b.preceding.IssueDate = d
			return err
		},
		out: docValue(func(d *formats.Document) string {
			if len(d.Preceding) == 1 {
				return d.Preceding[0].IssueDate.String()
			}
			return ""
		}),
	}},
	{name: "note", codec: codec{
		inv: func(b *builder, v string) error { b.doc.Notes = []string{v}; return nil },
		out: docValue(func(d *formats.Document) string {
			if len(d.Notes) == 1 {
				return d.Notes[0]
			}
			return ""
		}),
	}},
	{name: "payment_terms", codec: text(func(d *formats.Document) *string { return &d.PaymentTerms })},
	{name: "language", codec: code("language (sv or en)", 2, 2, false, func(d *formats.Document) *string { return &d.Language })},
	{name: "customer_group", codec: text(func(d *formats.Document) *string { return &d.CustomerGroup })},
	{name: "channel", codec: codec{inv: setChannel, out: docValue(func(d *formats.Document) string { return d.ForcedChannel })}},
	{name: "resend", codec: codec{inv: setResend, out: docValue(func(d *formats.Document) string {
		if d.Resend {
			return "yes"
		}
		return ""
	})}},

	{name: "seller_name", required: true, codec: text(func(d *formats.Document) *string { return &d.Seller.Name })},
	{name: "seller_orgnr", codec: codec{
		inv: func(b *builder, v string) error { b.doc.Seller.LegalID = orgnr(v); return nil },
		out: docValue(func(d *formats.Document) string { return d.Seller.LegalID.Value }),
	}},
	{name: "seller_vat_id", codec: code("VAT id (country prefix and number, like SE556732170701)", 4, 20, true, func(d *formats.Document) *string { return &d.Seller.VATID })},
	{name: "seller_tax_registration", codec: text(func(d *formats.Document) *string { return &d.Seller.TaxRegistration })},
	{name: "seller_peppol_id", codec: endpoint(func(d *formats.Document) *formats.Identifier { return &d.Seller.Endpoint })},
	{name: "seller_street", codec: text(func(d *formats.Document) *string { return &d.Seller.Address.Street })},
	{name: "seller_street2", codec: text(func(d *formats.Document) *string { return &d.Seller.Address.Additional })},
	{name: "seller_postal_code", codec: text(func(d *formats.Document) *string { return &d.Seller.Address.PostalCode })},
	{name: "seller_city", codec: text(func(d *formats.Document) *string { return &d.Seller.Address.City })},
	{name: "seller_country", codec: code("country code (ISO 3166-1, like SE)", 2, 2, false, func(d *formats.Document) *string { return &d.Seller.Address.Country })},
	{name: "seller_email", codec: email(func(d *formats.Document) *string { return &d.Seller.Contact.Email })},
	{name: "seller_phone", codec: codec{
		inv: phone(func(b *builder) *string { return &b.doc.Seller.Contact.Phone }),
		out: docValue(func(d *formats.Document) string { return d.Seller.Contact.Phone }),
	}},
	{name: "seller_bankgiro", codec: codec{
		inv: func(b *builder, v string) error { b.bankgiro = account(v, formats.CheckBankgiro); return nil },
		out: docValue((*formats.Document).Bankgiro),
	}},
	{name: "seller_plusgiro", codec: codec{
		inv: func(b *builder, v string) error { b.plusgiro = account(v, formats.CheckPlusgiro); return nil },
		out: docValue((*formats.Document).Plusgiro),
	}},
	{name: "seller_iban", codec: codec{
		inv: func(b *builder, v string) error { b.iban = strings.ToUpper(strings.ReplaceAll(v, " ", "")); return nil },
		out: docValue((*formats.Document).IBAN),
	}},
	{name: "seller_bic", codec: codec{
		inv: func(b *builder, v string) error { b.bic = strings.ToUpper(v); return nil },
		out: docValue(func(d *formats.Document) string {
			for _, m := range d.PaymentMeans {
				if m.AccountScheme == formats.AccountIBAN && m.Account != "" {
					return m.ServiceID
				}
			}
			return ""
		}),
	}},
	{name: "ocr", codec: codec{
		inv: func(b *builder, v string) error { b.ocr = v; return nil },
		out: docValue((*formats.Document).PaymentReference),
	}},
	{name: "autogiro_payer_number", codec: codec{
		inv: func(b *builder, v string) error { b.payer = v; return nil },
		out: docValue((*formats.Document).MandateReference),
	}},

	{name: "buyer_name", required: true, codec: text(func(d *formats.Document) *string { return &d.Buyer.Name })},
	{name: "buyer_customer_number", codec: text(func(d *formats.Document) *string { return &d.Buyer.CustomerNumber })},
	{name: "buyer_orgnr", codec: codec{
		inv: func(b *builder, v string) error { b.doc.Buyer.LegalID = orgnr(v); return nil },
		out: docValue(func(d *formats.Document) string { return d.Buyer.LegalID.Value }),
	}},
	{name: "buyer_vat_id", codec: code("VAT id (country prefix and number, like SE556732170701)", 4, 20, true, func(d *formats.Document) *string { return &d.Buyer.VATID })},
	{name: "buyer_personnummer", codec: codec{
		inv: func(b *builder, v string) error { b.personnummer = v; return nil },
		out: docValue(func(d *formats.Document) string { return d.Buyer.PersonalID }),
	}},
	{name: "buyer_peppol_id", codec: endpoint(func(d *formats.Document) *formats.Identifier { return &d.Buyer.Endpoint })},
	{name: "buyer_email", codec: email(func(d *formats.Document) *string { return &d.Buyer.Contact.Email })},
	// The model has one phone number: a Swedish mobile number goes out in
	// buyer_mobile, where the SMS channel looks, any other in buyer_phone.
	{name: "buyer_mobile", codec: codec{inv: phone(func(b *builder) *string { return &b.mobile }), out: buyerPhone(true)}},
	{name: "buyer_phone", codec: codec{inv: phone(func(b *builder) *string { return &b.phone }), out: buyerPhone(false)}},
	{name: "buyer_street", codec: text(func(d *formats.Document) *string { return &d.Buyer.Address.Street })},
	{name: "buyer_street2", codec: text(func(d *formats.Document) *string { return &d.Buyer.Address.Additional })},
	{name: "buyer_postal_code", codec: text(func(d *formats.Document) *string { return &d.Buyer.Address.PostalCode })},
	{name: "buyer_city", codec: text(func(d *formats.Document) *string { return &d.Buyer.Address.City })},
	{name: "buyer_country", codec: code("country code (ISO 3166-1, like SE)", 2, 2, false, func(d *formats.Document) *string { return &d.Buyer.Address.Country })},

	{name: "vat_exemption_reason", codec: codec{
		inv: func(b *builder, v string) error { b.exemption = v; return nil },
		out: docValue(func(d *formats.Document) string {
			for _, b := range d.VAT {
				if b.ExemptionReason != "" {
					return b.ExemptionReason
				}
			}
			return ""
		}),
	}},
	{name: "total_excl_vat", numeric: true, codec: codec{inv: total(totalExcl), out: func(n numbers, d *formats.Document, _ *formats.Line) string {
		return n.format(d.Totals.TaxExclusive)
	}}},
	{name: "total_vat", numeric: true, codec: codec{inv: total(totalVAT), out: func(n numbers, d *formats.Document, _ *formats.Line) string {
		if d.Totals.TaxTotal != nil {
			return n.format(*d.Totals.TaxTotal)
		}
		return ""
	}}},
	{name: "total_incl_vat", numeric: true, codec: codec{inv: total(totalIncl), out: func(n numbers, d *formats.Document, _ *formats.Line) string {
		return n.format(d.Totals.TaxInclusive)
	}}},

	{name: "line_description", level: lineLevel, required: true, codec: codec{
		line: func(_ *builder, r *row, v string) error { r.l.Item.Name = v; return nil },
		out:  lineValue(func(l *formats.Line) string { return l.Item.Name }),
	}},
	{name: "line_article_number", level: lineLevel, codec: codec{
		line: func(_ *builder, r *row, v string) error { r.l.Item.SellerID = v; return nil },
		out:  lineValue(func(l *formats.Line) string { return l.Item.SellerID }),
	}},
	{name: "line_quantity", level: lineLevel, required: true, numeric: true, codec: codec{
		line: func(b *builder, r *row, v string) (err error) {
			r.l.Quantity, err = b.decimal(v)
			return err
		},
		out: func(n numbers, _ *formats.Document, l *formats.Line) string { return n.formatDecimal(l.Quantity) },
	}},
	{name: "line_unit", level: lineLevel, codec: codec{
		line: func(_ *builder, r *row, v string) error {
			// Codes are upper case; refusing lower case also catches the
			// Swedish "st" (stycken, pieces), which upper-cased is ST, a
			// sheet.
			if !isCode(v, 1, 3, true) || strings.ToUpper(v) != v {
				return fmt.Errorf("%q is not a UN/ECE Recommendation 20 unit code; write C62 (one), H87 (piece), HUR (hour), KGM (kilogram), KWH, ...", v)
			}
			r.l.Unit = v
			return nil
		},
		out: lineValue(func(l *formats.Line) string { return l.Unit }),
	}},
	{name: "line_price", level: lineLevel, required: true, numeric: true, codec: codec{
		line: func(b *builder, r *row, v string) (err error) {
			r.l.Price.Amount, err = b.decimal(v)
			return err
		},
		out: func(n numbers, _ *formats.Document, l *formats.Line) string { return n.formatDecimal(l.Price.Amount) },
	}},
	{name: "line_vat_rate", level: lineLevel, required: true, numeric: true, codec: codec{
		line: func(b *builder, r *row, v string) error {
			d, err := b.decimal(v)
			r.l.Item.VATRate = trimZeros(d)
			return err
		},
		out: func(n numbers, _ *formats.Document, l *formats.Line) string { return n.formatDecimal(l.Item.VATRate) },
	}},
	{name: "line_vat_category", level: lineLevel, codec: codec{
		line: func(_ *builder, r *row, v string) error {
			c := strings.ToUpper(v)
			if !vatCategories[c] {
				return fmt.Errorf("%q is not a VAT category; write S (standard), Z (zero rated), E (exempt), AE (reverse charge), K (intra-EU), G (export), O (not subject to VAT), L or M", v)
			}
			r.l.Item.VATCategory = c
			return nil
		},
		out: lineValue(func(l *formats.Line) string { return l.Item.VATCategory }),
	}},
	{name: "line_amount", level: lineLevel, numeric: true, codec: codec{
		line: func(b *builder, r *row, v string) (err error) {
			r.amount.set = true
			r.amount.amount, err = b.amount(v)
			return err
		},
		out: func(n numbers, _ *formats.Document, l *formats.Line) string { return n.format(l.NetAmount) },
	}},
}

// docValue writes an invoice column from the document alone.
func docValue(f func(d *formats.Document) string) func(numbers, *formats.Document, *formats.Line) string {
	return func(_ numbers, d *formats.Document, _ *formats.Line) string { return f(d) }
}

// lineValue writes a line column from the line alone.
func lineValue(f func(l *formats.Line) string) func(numbers, *formats.Document, *formats.Line) string {
	return func(_ numbers, _ *formats.Document, l *formats.Line) string { return f(l) }
}

// buyerPhone writes the buyer's phone number in buyer_mobile when it is a
// Swedish mobile number (mobile true), otherwise in buyer_phone.
func buyerPhone(mobile bool) func(numbers, *formats.Document, *formats.Line) string {
	return docValue(func(d *formats.Document) string {
		if _, ok := formats.SwedishMobile(d.Buyer.Contact.Phone); ok == mobile {
			return d.Buyer.Contact.Phone
		}
		return ""
	})
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

func text(field func(d *formats.Document) *string) codec {
	return codec{
		inv: func(b *builder, v string) error { *field(b.doc) = v; return nil },
		out: docValue(func(d *formats.Document) string { return *field(d) }),
	}
}

func date(field func(d *formats.Document) *formats.Date) codec {
	return codec{
		inv: func(b *builder, v string) (err error) {
			*field(b.doc), err = formats.ParseDate(v)
			return err
		},
		out: docValue(func(d *formats.Document) string { return field(d).String() }),
	}
}

// code sets an upper-case code of min to max letters (or letters and digits).
func code(what string, min, max int, digits bool, field func(d *formats.Document) *string) codec {
	return codec{
		inv: func(b *builder, v string) error {
			if !isCode(v, min, max, digits) {
				return fmt.Errorf("%q is not a %s", v, what)
			}
			*field(b.doc) = strings.ToUpper(v)
			return nil
		},
		out: docValue(func(d *formats.Document) string { return *field(d) }),
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

func email(field func(d *formats.Document) *string) codec {
	return codec{
		inv: func(b *builder, v string) error {
			local, domain, ok := strings.Cut(v, "@")
			if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(v, " ,;<>\"") || strings.Contains(domain, "@") {
				return fmt.Errorf("%q is not an e-mail address", v)
			}
			*field(b.doc) = v
			return nil
		},
		out: docValue(func(d *formats.Document) string { return *field(d) }),
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
func endpoint(field func(d *formats.Document) *formats.Identifier) codec {
	return codec{
		inv: func(b *builder, v string) error {
			scheme, value, ok := strings.Cut(v, ":")
			if !ok || !isCode(scheme, 2, 4, true) || value == "" || strings.ContainsAny(value, " \t") {
				return fmt.Errorf("%q is not a Peppol participant id; write scheme:value, like 0007:5567321707", v)
			}
			*field(b.doc) = formats.Identifier{Scheme: strings.ToUpper(scheme), Value: value}
			return nil
		},
		out: docValue(func(d *formats.Document) string { return field(d).String() }),
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
		return fmt.Errorf("%q is not a document type; write invoice, creditnote or reminder", v)
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
	case "reminder", "påminnelse":
		return formats.KindReminder, true
	}
	return "", false
}

// setChannel reads the channel column: the channel the invoice must go by.
// The names come from the reader's Format.Channels.
func setChannel(b *builder, v string) error {
	c := strings.ToLower(strings.TrimSpace(v))
	switch {
	case c == "":
		return nil
	case b.channels == nil && channelName.MatchString(c), slices.Contains(b.channels, c):
		b.doc.ForcedChannel = c
		return nil
	case b.channels == nil:
		return fmt.Errorf("%q is not a channel name; write one of the gateway's channels, or leave it empty to let routing choose", v)
	}
	return fmt.Errorf("%q is not a channel; write one of %s, or leave it empty to let routing choose", v, strings.Join(b.channels, ", "))
}

// channelName is what a channel's name looks like, for a reader that was
// not told the names.
var channelName = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

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
