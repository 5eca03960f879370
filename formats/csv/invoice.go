package csv

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Indexes into builder.totals, for the three totals columns.
const (
	totalExcl = iota
	totalVAT
	totalIncl
)

// totalColumns names the totals columns in builder.totals order.
var totalColumns = [3]string{"total_excl_vat", "total_vat", "total_incl_vat"}

// maxAmount bounds every amount, in öre (a thousand billion kronor), so that
// sums of up to millions of lines stay exact in an int64.
const maxAmount = 100_000_000_000_000

// maxErrors is how many problems one invoice reports before it stops counting.
const maxErrors = 20

// given is an amount the file states, with the line it is on.
type given struct {
	set    bool
	amount formats.Amount
	line   int
}

// row is one line of an invoice as read from one row of the file.
type row struct {
	line   int
	l      formats.Line
	amount given // line_amount, when the file has it
}

// builder assembles one invoice from its rows. Values that the model keeps
// elsewhere or derives (payment means, personnummer) wait here until finish.
type builder struct {
	numbers
	doc        *formats.Document
	line       int // line of the value being set
	start, end int // first and last physical line of the invoice
	rows       int
	preceding  formats.PrecedingInvoice
	bankgiro   string
	plusgiro   string
	iban, bic  string
	ocr, payer string
	exemption  string
	mobile     string
	phone      string
	// personnummer waits for the issue date, which decides the century of
	// a 10-digit one.
	personnummer string
	totals       [3]given
	errs         []error
	channels     []string // what the channel column accepts (Format.Channels)
}

// fail records a problem with the invoice; the invoice is then not emitted.
func (b *builder) fail(line int, column string, err error) {
	switch {
	case len(b.errs) < maxErrors:
		b.errs = append(b.errs, &Error{Line: line, Column: column, Err: err})
	case len(b.errs) == maxErrors:
		b.errs = append(b.errs, &Error{Line: line, Err: fmt.Errorf("more problems, not listed; fix these first")})
	}
}

// err returns the invoice's problems as one error, each naming the invoice.
func (b *builder) err() error {
	for _, e := range b.errs {
		var ce *Error
		if errors.As(e, &ce) {
			ce.Invoice, ce.Kind = b.doc.Number, b.doc.Kind
		}
	}
	if len(b.errs) == 1 {
		return b.errs[0]
	}
	return errors.Join(b.errs...)
}

// addRow finishes the line a row stands for: defaults, required values, the
// line amount.
func (b *builder) addRow(r *row, has func(string) bool) {
	l := &r.l
	for _, c := range [...]string{"line_description", "line_quantity", "line_price"} {
		if !has(c) {
			b.fail(r.line, c, errors.New("is empty; every row is an invoice line and needs line_description, line_quantity and line_price"))
			return
		}
	}
	if l.Unit == "" {
		l.Unit = "C62"
	}
	rated := has("line_vat_rate")
	switch {
	case l.Item.VATCategory == "O" && rated:
		b.fail(r.line, "line_vat_rate", fmt.Errorf("%s: VAT category O (not subject to VAT) has no rate; leave line_vat_rate empty", l.Item.VATRate))
		return
	case l.Item.VATCategory != "O" && !rated:
		b.fail(r.line, "line_vat_rate", errors.New("is empty; write the VAT rate in percent (25, 12, 6 or 0)"))
		return
	case rated && !percentage(l.Item.VATRate):
		b.fail(r.line, "line_vat_rate", fmt.Errorf("%s is not a VAT rate: write the rate in percent, from 0 to 100", b.formatDecimal(l.Item.VATRate)))
		return
	case l.Item.VATCategory == "" && l.Item.VATRate.IsZero():
		l.Item.VATCategory = "Z"
	case l.Item.VATCategory == "":
		l.Item.VATCategory = "S"
	}
	amount, ok := mulRound(l.Quantity, l.Price.Amount)
	if !ok {
		b.fail(r.line, "line_price", fmt.Errorf("%s × %s is too large for an amount", b.formatDecimal(l.Quantity), b.formatDecimal(l.Price.Amount)))
		return
	}
	if r.amount.set && r.amount.amount != amount {
		b.fail(r.line, "line_amount", fmt.Errorf("%s, but line_quantity × line_price is %s × %s = %s (rounded to öre); correct the amount, quantity or price",
			b.format(r.amount.amount), b.formatDecimal(l.Quantity), b.formatDecimal(l.Price.Amount), b.format(amount)))
		return
	}
	l.NetAmount = amount
	l.ID = strconv.Itoa(len(b.doc.Lines) + 1)
	b.doc.Lines = append(b.doc.Lines, *l)
}

// finish fills in defaults and derived values and computes the VAT
// breakdown and totals; it reports what is missing or does not add up.
func (b *builder) finish() {
	d := b.doc
	if d.Kind == "" {
		d.Kind = formats.KindInvoice
	}
	d.TypeCode = "380"
	if d.Kind == formats.KindCreditNote {
		d.TypeCode = "381"
	}
	if d.Currency == "" {
		d.Currency = "SEK"
	}
	for _, m := range []struct {
		column string
		empty  bool
	}{{"issue_date", d.IssueDate.IsZero()}, {"seller_name", d.Seller.Name == ""}, {"buyer_name", d.Buyer.Name == ""}} {
		if m.empty {
			b.fail(b.start, m.column, errors.New("is empty on every row of the invoice; write it on at least the first row"))
		}
	}
	if b.personnummer != "" {
		d.Buyer.PersonalID = b.personnummer
		if pnr, err := formats.CheckPersonnummer(b.personnummer, d.IssueDate.Time().Add(24*time.Hour)); err == nil {
			d.Buyer.PersonalID = pnr
		}
	}
	d.Buyer.Contact.Phone = b.mobile
	if d.Buyer.Contact.Phone == "" {
		d.Buyer.Contact.Phone = b.phone
	}
	// EN 16931 requires a country for both parties (BR-09, BR-11) even when
	// the invoice goes by e-mail with no postal address; this format is for
	// Swedish ERPs, so an empty country is Sweden.
	for _, a := range []*formats.Address{&d.Seller.Address, &d.Buyer.Address} {
		if a.Country == "" {
			a.Country = "SE"
		}
	}
	switch {
	case b.preceding.Number != "":
		d.Preceding = []formats.PrecedingInvoice{b.preceding}
	case !b.preceding.IssueDate.IsZero():
		b.fail(b.start, "preceding_invoice", errors.New("is empty but preceding_invoice_date is set; write the number of the invoice this one refers to"))
	}
	d.PaymentMeans = b.paymentMeans()
	if len(d.Lines) > 0 && len(b.errs) == 0 {
		b.sum()
	}
	b.reminder()
}

// paymentMeans turns the account columns into BG-16 entries, the OCR
// reference on each: AutoGiro first, since a payer with a mandate does not
// pay by hand, then bankgiro, plusgiro and IBAN.
func (b *builder) paymentMeans() []formats.PaymentMeans {
	var pm []formats.PaymentMeans
	if b.payer != "" {
		pm = append(pm, formats.PaymentMeans{Code: formats.MeansDirectDebit, PaymentID: b.ocr, MandateID: b.payer})
	}
	for _, a := range []struct{ account, scheme, bic string }{
		{b.bankgiro, formats.AccountBankgiro, ""},
		{b.plusgiro, formats.AccountPlusgiro, ""},
		{b.iban, formats.AccountIBAN, b.bic},
	} {
		if a.account != "" {
			pm = append(pm, formats.PaymentMeans{Code: formats.MeansCreditTransfer, PaymentID: b.ocr, Account: a.account, AccountScheme: a.scheme, ServiceID: a.bic})
		}
	}
	if pm == nil && b.ocr != "" {
		pm = append(pm, formats.PaymentMeans{Code: formats.MeansCreditTransfer, PaymentID: b.ocr})
	}
	if b.bic != "" && b.iban == "" {
		b.fail(b.start, "seller_bic", errors.New("is set but seller_iban is empty; a BIC goes with an IBAN"))
	}
	return pm
}

// sum computes the VAT breakdown (BG-23) and the totals (BG-22) from the
// lines, rounding each category's tax half away from zero to öre as EN 16931
// does, and checks them against the totals the file states.
func (b *builder) sum() {
	d := b.doc
	var net formats.Amount
	for _, l := range d.Lines {
		net += l.NetAmount
		if net > 10000*maxAmount || net < -10000*maxAmount {
			b.fail(b.start, "line_amount", errors.New("the lines add up to more than an amount can hold"))
			return
		}
		i := 0
		for i < len(d.VAT) && (d.VAT[i].Category != l.Item.VATCategory || d.VAT[i].Rate != l.Item.VATRate) {
			i++
		}
		if i == len(d.VAT) {
			d.VAT = append(d.VAT, formats.VATBreakdown{Category: l.Item.VATCategory, Rate: l.Item.VATRate})
		}
		d.VAT[i].TaxableAmount += l.NetAmount
	}
	var tax formats.Amount
	exempted := false
	for i := range d.VAT {
		v := &d.VAT[i]
		if v.Rate != "" {
			v.TaxAmount = percent(v.TaxableAmount, v.Rate)
		}
		tax += v.TaxAmount
		if v.Category != "S" && v.Category != "Z" && b.exemption != "" {
			v.ExemptionReason, exempted = b.exemption, true
		}
	}
	if b.exemption != "" && !exempted {
		b.fail(b.start, "vat_exemption_reason", errors.New("is set but no line has VAT category E, AE, K, G, O, L or M; remove it or set line_vat_category"))
	}
	d.Totals = formats.Totals{LineExtension: net, TaxExclusive: net, TaxTotal: &tax, TaxInclusive: net + tax, Payable: net + tax}
	computed := [3]formats.Amount{net, tax, net + tax}
	for i, g := range b.totals {
		if g.set && g.amount != computed[i] {
			b.fail(g.line, totalColumns[i], fmt.Errorf("%s in the file, but the lines add up to %s%s; correct the total or the lines",
				b.format(g.amount), b.format(computed[i]), b.vatDetail(i)))
		}
	}
}

// vatDetail shows how the VAT total was computed, for the mismatch message.
func (b *builder) vatDetail(which int) string {
	if which != totalVAT {
		return ""
	}
	parts := make([]string, 0, len(b.doc.VAT))
	for _, v := range b.doc.VAT {
		if v.Rate != "" {
			parts = append(parts, fmt.Sprintf("%s %% of %s", b.formatDecimal(v.Rate), b.format(v.TaxableAmount)))
		}
	}
	return " (" + strings.Join(parts, " + ") + ")"
}

// percent returns rate % of a, rounded half away from zero to öre.
func percent(a formats.Amount, rate formats.Decimal) formats.Amount {
	m, scale, ok := mantissa(rate)
	if ok && abs(int64(a)) < 1e12 && m < 1e6 && scale <= 4 {
		div := int64(100)
		for range scale {
			div *= 10
		}
		p := int64(a) * m
		q, rem := p/div, p%div
		if 2*abs(rem) >= div {
			if p < 0 {
				q--
			} else {
				q++
			}
		}
		return formats.Amount(q)
	}
	r := new(big.Rat).Mul(a.Rat(), rate.Rat())
	return formats.RatAmount(r.Quo(r, big.NewRat(100, 1)))
}

// percentage reports whether a VAT rate is between 0 and 100.
func percentage(rate formats.Decimal) bool {
	if m, scale, ok := mantissa(rate); ok && scale <= 16 {
		limit := int64(100)
		for range scale {
			limit *= 10
		}
		return m >= 0 && m <= limit
	}
	r := rate.Rat()
	return r.Sign() >= 0 && r.Cmp(big.NewRat(100, 1)) <= 0
}

// mulRound returns quantity × price rounded half away from zero to öre, and
// false when the result is too large. Small operands, which are nearly all,
// take an int64 path; the rest go through big.Rat.
func mulRound(q, p formats.Decimal) (formats.Amount, bool) {
	mq, sq, ok1 := mantissa(q)
	mp, sp, ok2 := mantissa(p)
	if ok1 && ok2 && abs(mq) < 1e9 && abs(mp) < 1e9 && sq+sp <= 18 {
		m, scale := mq*mp, sq+sp
		for ; scale < 2; scale++ {
			m *= 10
		}
		if scale > 2 {
			div := int64(1)
			for ; scale > 2; scale-- {
				div *= 10
			}
			rem := m % div
			m /= div
			if 2*abs(rem) >= div {
				if rem < 0 {
					m--
				} else {
					m++
				}
			}
		}
		return formats.Amount(m), abs(m) <= maxAmount
	}
	r := new(big.Rat).Mul(q.Rat(), p.Rat())
	if new(big.Rat).Abs(r).Cmp(big.NewRat(maxAmount, 100)) > 0 {
		return 0, false
	}
	return formats.RatAmount(r), true
}

// mantissa splits a canonical decimal into digits and scale: "-2.50" is
// -250 and 2. It reports false when the digits do not fit.
func mantissa(d formats.Decimal) (m int64, scale int, ok bool) {
	s := string(d)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) > 18 {
		return 0, 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			scale = len(s) - i - 1
			continue
		}
		m = m*10 + int64(s[i]-'0')
	}
	if neg {
		m = -m
	}
	return m, scale, true
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
