package validate

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// EN 16931 tolerates a difference of less than one currency unit between a
// stated VAT amount or taxable amount and the one calculated from it
// (BR-CO-17, BR-S-08 in the official artefacts), because sellers may round
// VAT per line. Everything else must match to the öre.
const vatSlack formats.Amount = 100

// presence checks the document-level EN 16931 rules that say a business
// term must be there.
func (r *report) presence() {
	d := r.doc
	if strings.TrimSpace(d.Number) == "" {
		r.errorf("BR-02", "no invoice number (BT-1); every invoice must have one")
	}
	if d.IssueDate.IsZero() {
		r.errorf("BR-03", "no issue date (BT-2); every invoice must have one")
	}
	if strings.TrimSpace(d.TypeCode) == "" && d.Kind == "" {
		r.errorf("BR-04", "no invoice type code (BT-3); use 380 for an invoice or 381 for a credit note")
	}
	switch c := strings.TrimSpace(d.Currency); {
	case c == "":
		r.errorf("BR-05", "no invoice currency code (BT-5); state it, e.g. SEK")
	case !isCurrency(c):
		r.errorf("BR-CL-04", "invoice currency code %q is not an ISO 4217 alpha-3 code like SEK or EUR", d.Currency)
	}
	if d.TaxCurrency != "" && !isCurrency(d.TaxCurrency) {
		r.errorf("BR-CL-05", "VAT accounting currency code %q is not an ISO 4217 alpha-3 code like SEK or EUR", d.TaxCurrency)
	}
	if strings.TrimSpace(d.Seller.Name) == "" {
		r.errorf("BR-06", "no seller name (BT-27)")
	}
	if strings.TrimSpace(d.Buyer.Name) == "" {
		r.errorf("BR-07", "no buyer name (BT-44)")
	}
	if strings.TrimSpace(d.Seller.Address.Country) == "" {
		r.errorf("BR-09", "the seller's address has no country code (BT-40); use a two-letter ISO 3166 code such as SE")
	}
	if strings.TrimSpace(d.Buyer.Address.Country) == "" {
		r.errorf("BR-11", "the buyer's address has no country code (BT-55); use a two-letter ISO 3166 code such as SE")
	}
	if len(d.Lines) == 0 {
		r.errorf("BR-16", "no invoice lines (BG-25); an invoice needs at least one")
	}
	s := d.Seller
	if len(s.Identifiers) == 0 && s.LegalID.IsZero() && strings.TrimSpace(s.VATID) == "" {
		r.errorf("BR-CO-26", "the seller has no identifier (BT-29), legal registration id (BT-30) or VAT id (BT-31); give at least one, e.g. the organisationsnummer")
	}
	// A credit note's positive amount is paid back by the seller; nobody
	// needs a due date for it, and the EN 16931 examples carry none.
	if d.Kind != formats.KindCreditNote && d.Totals.Payable > 0 && d.DueDate.IsZero() && strings.TrimSpace(d.PaymentTerms) == "" {
		r.errorf("BR-CO-25", "amount due %s is positive but there is neither a due date (BT-9) nor payment terms (BT-20)", d.Totals.Payable)
	}
}

func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// lines checks the EN 16931 rules on each invoice line.
func (r *report) lines() {
	for i, l := range r.doc.Lines {
		name := lineName(i, l)
		if strings.TrimSpace(l.ID) == "" {
			r.errorf("BR-21", "%s has no line id (BT-126)", name)
		}
		if l.Quantity == "" {
			r.errorf("BR-22", "%s has no invoiced quantity (BT-129)", name)
		}
		if strings.TrimSpace(l.Unit) == "" {
			r.errorf("BR-23", "%s has no unit of measure code (BT-130); use a UN/ECE Rec 20 code such as EA, C62 or HUR", name)
		}
		if strings.TrimSpace(l.Item.Name) == "" {
			r.errorf("BR-25", "%s has no item name (BT-153)", name)
		}
		switch {
		case l.Price.Amount == "":
			r.errorf("BR-26", "%s has no item net price (BT-146)", name)
		case l.Price.Amount.Rat().Sign() < 0:
			r.errorf("BR-27", "%s: item net price %s is negative; a price is never negative, put the sign on the quantity or use an allowance", name, l.Price.Amount)
		}
		if strings.TrimSpace(l.Item.VATCategory) == "" {
			r.errorf("BR-CO-04", "%s has no VAT category code (BT-151); use S, Z, E, AE, K, G, O, L, M or B", name)
		}
	}
}

// totals checks the sums of BG-22 against each other and the lines (BR-CO-10
// to BR-CO-16). Amounts are integers, so every comparison is exact.
func (r *report) totals() {
	d, t := r.doc, r.doc.Totals
	var lines formats.Amount
	for _, l := range d.Lines {
		lines += l.NetAmount
	}
	if lines != t.LineExtension {
		r.errorf("BR-CO-10", "sum of line net amounts (BT-106) %s ≠ the %d lines' net amounts added up, %s", t.LineExtension, len(d.Lines), lines)
	}
	for _, c := range []struct {
		rule, what, bt string
		charge         bool
		total          *formats.Amount
	}{
		{"BR-CO-11", "allowances", "BT-107", false, t.AllowanceTotal},
		{"BR-CO-12", "charges", "BT-108", true, t.ChargeTotal},
	} {
		n, sum := 0, formats.Amount(0)
		for _, ac := range d.AllowanceCharges {
			if ac.Charge == c.charge {
				n++
				sum += ac.Amount
			}
		}
		switch {
		case c.total == nil && n > 0:
			r.errorf(c.rule, "sum of document-level %s (%s) is absent but the document has %d of them adding up to %s", c.what, c.bt, n, sum)
		case c.total != nil && *c.total != sum:
			r.errorf(c.rule, "sum of document-level %s (%s) %s ≠ the %d %s added up, %s", c.what, c.bt, *c.total, n, c.what, sum)
		}
	}
	allowances, charges := orZero(t.AllowanceTotal), orZero(t.ChargeTotal)
	if want := t.LineExtension - allowances + charges; t.TaxExclusive != want {
		r.errorf("BR-CO-13", "total without VAT (BT-109) %s ≠ line total %s − allowances %s + charges %s = %s",
			t.TaxExclusive, t.LineExtension, allowances, charges, want)
	}
	if len(d.VAT) > 0 {
		var vat formats.Amount
		for _, v := range d.VAT {
			vat += v.TaxAmount
		}
		if (t.TaxTotal == nil && vat != 0) || (t.TaxTotal != nil && *t.TaxTotal != vat) {
			r.errorf("BR-CO-14", "total VAT (BT-110) %s ≠ the VAT breakdown's tax amounts added up, %s", optString(t.TaxTotal), vat)
		}
	}
	if want := t.TaxExclusive + orZero(t.TaxTotal); t.TaxInclusive != want {
		r.errorf("BR-CO-15", "total with VAT (BT-112) %s ≠ total without VAT %s + VAT %s = %s",
			t.TaxInclusive, t.TaxExclusive, orZero(t.TaxTotal), want)
	}
	prepaid, rounding := orZero(t.Prepaid), orZero(t.Rounding)
	if want := t.TaxInclusive - prepaid + rounding; t.Payable != want {
		r.errorf("BR-CO-16", "amount due (BT-115) %s ≠ total with VAT %s − paid %s + rounding %s = %s",
			t.Payable, t.TaxInclusive, prepaid, rounding, want)
	}
}

// vatCategories are the UNCL5305 codes EN 16931 allows (BR-CL-17, BR-CL-18),
// B (Italian split payment) included as the artefact has it.
var vatCategories = map[string]bool{"S": true, "Z": true, "E": true, "AE": true, "K": true, "G": true, "O": true, "L": true, "M": true, "B": true}

// categoryRule holds what differs between the VAT category rule families
// BR-S, BR-Z and BR-E, which otherwise number the same checks alike.
type categoryRule struct {
	code, name string
	zeroRate   bool // rate must be 0; otherwise it must be above 0
	onlyOne    bool // exactly one breakdown of this category, not one per rate
	exemption  bool // an exemption reason is required; otherwise forbidden
}

var categoryRules = []categoryRule{
	{code: "S", name: "standard rated"},
	{code: "Z", name: "zero rated", zeroRate: true, onlyOne: true},
	{code: "E", name: "exempt from VAT", zeroRate: true, onlyOne: true, exemption: true},
}

// vatUse is one line, document allowance or document charge with the VAT
// category and rate it is taxed under.
type vatUse struct {
	what     string // "line 2", "document allowance 1 (Rabatt)"
	suffix   string // the rule number for rate and seller-id checks: line, allowance, charge
	category string
	rate     formats.Decimal
	rat      *big.Rat       // rate's value, computed once
	amount   formats.Amount // signed as it counts towards the taxable amount
}

func (r *report) vatUses() []vatUse {
	var uses []vatUse
	for i, l := range r.doc.Lines {
		uses = append(uses, vatUse{lineName(i, l), "05", strings.TrimSpace(l.Item.VATCategory), l.Item.VATRate, l.Item.VATRate.Rat(), l.NetAmount})
	}
	na, nc := 0, 0
	for _, ac := range r.doc.AllowanceCharges {
		u := vatUse{category: strings.TrimSpace(ac.VATCategory), rate: ac.VATRate, rat: ac.VATRate.Rat()}
		if ac.Charge {
			nc++
			u.what, u.suffix, u.amount = acName("charge", nc, ac), "07", ac.Amount
		} else {
			na++
			u.what, u.suffix, u.amount = acName("allowance", na, ac), "06", -ac.Amount
		}
		uses = append(uses, u)
	}
	return uses
}

func acName(kind string, n int, ac formats.AllowanceCharge) string {
	s := "document " + kind + " " + strconv.Itoa(n)
	if ac.Reason != "" {
		s += " (" + ac.Reason + ")"
	}
	return s
}

// vat checks the VAT breakdown (BG-23): that there is one, that each tax
// amount follows from its taxable amount and rate, and the category rules
// for standard rated, zero rated and exempt supplies.
func (r *report) vat() {
	d := r.doc
	if len(d.VAT) == 0 {
		r.errorf("BR-CO-18", "no VAT breakdown (BG-23); state at least one VAT category with its taxable and tax amount")
	}
	for _, v := range d.VAT {
		if !vatCategories[strings.TrimSpace(v.Category)] {
			r.errorf("BR-CL-18", "VAT breakdown category %q is not a UNCL5305 code; use S, Z, E, AE, K, G, O, L, M or B", v.Category)
			continue
		}
		rt := v.Rate.Rat()
		if rt.Sign() == 0 {
			if v.TaxAmount != 0 {
				r.errorf("BR-CO-17", "VAT breakdown %s %s: tax amount %s should be 0 at rate 0", v.Category, rate(v.Rate), v.TaxAmount)
			}
			continue
		}
		want := formats.RatAmount(new(big.Rat).Quo(new(big.Rat).Mul(v.TaxableAmount.Rat(), rt), big.NewRat(100, 1)))
		if abs(v.TaxAmount-want) >= vatSlack {
			r.errorf("BR-CO-17", "VAT breakdown %s %s: tax amount %s ≠ taxable %s × %s = %s",
				v.Category, rate(v.Rate), v.TaxAmount, v.TaxableAmount, rate(v.Rate), want)
		}
	}
	uses := r.vatUses()
	for _, u := range uses {
		if u.category != "" && !vatCategories[u.category] {
			r.errorf("BR-CL-17", "%s: VAT category %q is not a UNCL5305 code; use S, Z, E, AE, K, G, O, L, M or B", u.what, u.category)
		}
	}
	for _, c := range categoryRules {
		r.category(c, uses)
	}
}

// category applies one family of category rules (BR-S-nn, BR-Z-nn, BR-E-nn).
func (r *report) category(c categoryRule, all []vatUse) {
	d := r.doc
	id := func(n string) string { return "BR-" + c.code + "-" + n }
	var uses []vatUse
	for _, u := range all {
		if u.category == c.code {
			uses = append(uses, u)
		}
	}
	var breakdowns []formats.VATBreakdown
	for _, v := range d.VAT {
		if strings.TrimSpace(v.Category) == c.code {
			breakdowns = append(breakdowns, v)
		}
	}
	if len(uses) > 0 {
		switch {
		case len(breakdowns) == 0:
			r.errorf(id("01"), "%s is %s (%s) but the VAT breakdown has no category %s", uses[0].what, c.name, c.code, c.code)
		case c.onlyOne && len(breakdowns) > 1:
			r.errorf(id("01"), "the VAT breakdown has %d entries of category %s; %s supplies need exactly one", len(breakdowns), c.code, c.name)
		}
		if strings.TrimSpace(d.Seller.VATID) == "" && strings.TrimSpace(d.Seller.TaxRegistration) == "" {
			reported := map[string]bool{}
			for _, u := range uses {
				if n := sellerIDRule(u.suffix); !reported[n] {
					reported[n] = true
					r.errorf(id(n), "%s is %s (%s) but the seller has neither a VAT id (BT-31) nor a tax registration id (BT-32)", u.what, c.name, c.code)
				}
			}
		}
	}
	for _, u := range uses {
		rt := u.rat.Sign()
		switch {
		case c.zeroRate && rt != 0:
			r.errorf(id(u.suffix), "%s is %s (%s) with VAT rate %s; the rate must be 0", u.what, c.name, c.code, rate(u.rate))
		case !c.zeroRate && rt <= 0:
			r.errorf(id(u.suffix), "%s is %s (%s) with VAT rate %s; the rate must be above 0", u.what, c.name, c.code, rate(u.rate))
		}
	}
	for _, v := range breakdowns {
		var sum formats.Amount
		matched := 0
		vr := v.Rate.Rat()
		for _, u := range uses {
			if c.onlyOne || u.rat.Cmp(vr) == 0 {
				sum += u.amount
				matched++
			}
		}
		switch {
		case !c.onlyOne && (matched == 0 || abs(v.TaxableAmount-sum) >= vatSlack):
			r.errorf(id("08"), "VAT breakdown %s %s: taxable amount %s ≠ the %d lines, allowances and charges at %s %s added up, %s",
				c.code, rate(v.Rate), v.TaxableAmount, matched, c.code, rate(v.Rate), sum)
		case c.onlyOne && v.TaxableAmount != sum:
			r.errorf(id("08"), "VAT breakdown %s: taxable amount %s ≠ the %d lines, allowances and charges of category %s added up, %s",
				c.code, v.TaxableAmount, matched, c.code, sum)
		}
		if c.zeroRate && v.TaxAmount != 0 {
			r.errorf(id("09"), "VAT breakdown %s: tax amount %s must be 0 for %s supplies", c.code, v.TaxAmount, c.name)
		}
		hasReason := strings.TrimSpace(v.ExemptionReason) != "" || strings.TrimSpace(v.ExemptionCode) != ""
		switch {
		case c.exemption && !hasReason:
			r.errorf(id("10"), "VAT breakdown %s has no exemption reason (BT-120) or code (BT-121); say why the supply is exempt", c.code)
		case !c.exemption && hasReason:
			r.errorf(id("10"), "VAT breakdown %s %s has an exemption reason (%s); %s supplies are not exempt, remove it",
				c.code, rate(v.Rate), strings.TrimSpace(v.ExemptionCode+" "+v.ExemptionReason), c.name)
		}
	}
}

// sellerIDRule maps the rate rule number of a use (05 line, 06 allowance,
// 07 charge) to its seller-identifier rule number (02, 03, 04).
func sellerIDRule(rateRule string) string {
	return map[string]string{"05": "02", "06": "03", "07": "04"}[rateRule]
}
