package validate

import (
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

// Peppol checks the Peppol BIS Billing 3.0 rules that the model can carry,
// for a document that is to leave on the Peppol channel, under the rule ids
// of the official validation artefacts (PEPPOL-EN16931-UBL.xslt). A problem
// of severity error keeps the document off Peppol; routing goes on to the
// next channel. The Swedish national rules (SE-R-...) apply when the seller
// is in Sweden, each under the exact condition the artefact tests.
//
// Peppol does not repeat Document's checks: call both.
func Peppol(doc *formats.Document) formats.Problems {
	r := &report{doc: doc}
	r.peppolDocument()
	r.peppolParties()
	r.peppolLines()
	r.swedishNational()
	r.peppolNorwegian()
	return r.ps
}

const (
	peppolCustomization = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
	peppolProfile       = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
)

// profileFormat is the artefact's own (unanchored) pattern for R007.
var profileFormat = regexp.MustCompile(`urn:fdc:peppol.eu:2017:poacc:billing:([0-9]{2}):1.0`)

func (r *report) peppolDocument() {
	d := r.doc
	switch p := normalizeSpace(d.ProfileID); {
	case p == "":
		r.errorf("PEPPOL-EN16931-R001", "Business process MUST be provided: no ProfileID (BT-23); use %s", peppolProfile)
	case !profileFormat.MatchString(p):
		r.errorf("PEPPOL-EN16931-R007", "Business process MUST be in the format 'urn:fdc:peppol.eu:2017:poacc:billing:NN:1.0' where NN indicates the process number: ProfileID is %q", d.ProfileID)
	}
	if !strings.HasPrefix(normalizeSpace(d.CustomizationID), peppolCustomization) {
		r.errorf("PEPPOL-EN16931-R004", "Specification identifier MUST have the value '%s': CustomizationID (BT-24) is %q", peppolCustomization, d.CustomizationID)
	}
	if strings.TrimSpace(d.BuyerReference) == "" && strings.TrimSpace(d.OrderReference) == "" {
		r.errorf("PEPPOL-EN16931-R003", "A buyer reference or purchase order reference MUST be provided: neither BT-10 nor BT-13 is set; ask the buyer for their reference")
	}
	if len(d.VAT) == 0 {
		r.errorf("PEPPOL-EN16931-R053", "Only one tax total with tax subtotals MUST be provided: the document has no VAT breakdown")
	}
	// Amounts carry no currency in the model, so R051 (every currencyID
	// equals BT-5) is the parser's to enforce; what is left here are the
	// rules on the VAT accounting currency.
	if tc := normalizeSpace(d.TaxCurrency); tc != "" {
		if tc == normalizeSpace(d.Currency) {
			r.errorf("PEPPOL-EN16931-R005", "VAT accounting currency code MUST be different from invoice currency code when provided: both are %s; leave BT-6 out", tc)
		}
		if d.Totals.TaxTotalAccounting == nil {
			r.errorf("PEPPOL-EN16931-R054", "Only one tax total without tax subtotals MUST be provided when tax currency code is provided: VAT currency %s is given but not the VAT total in it (BT-111)", tc)
		} else if t := orZero(d.Totals.TaxTotal); t < 0 && *d.Totals.TaxTotalAccounting > 0 || t > 0 && *d.Totals.TaxTotalAccounting < 0 {
			r.errorf("PEPPOL-EN16931-R055", "Invoice total VAT amount and Invoice total VAT amount in accounting currency MUST have the same operational sign: %s %s and %s %s", t, d.Currency, *d.Totals.TaxTotalAccounting, tc)
		}
	} else if d.Totals.TaxTotalAccounting != nil {
		r.errorf("PEPPOL-EN16931-R054", "Only one tax total without tax subtotals MUST be provided when tax currency code is provided: a VAT total in accounting currency (BT-111) %s is given without a VAT currency (BT-6)", *d.Totals.TaxTotalAccounting)
	}
	for _, m := range d.PaymentMeans {
		if c := normalizeSpace(m.Code); (c == "49" || c == "59") && strings.TrimSpace(m.MandateID) == "" {
			r.errorf("PEPPOL-EN16931-R061", "Mandate reference MUST be provided for direct debit: payment means %s has no mandate reference (BT-89)", c)
		}
	}
}

func (r *report) peppolParties() {
	d := r.doc
	if d.Buyer.Endpoint.IsZero() {
		r.errorf("PEPPOL-EN16931-R010", "Buyer electronic address MUST be provided: the buyer has no endpoint id (BT-49)")
	} else if ok, why := formats.PeppolParticipant(d.Buyer.Endpoint); !ok {
		r.errorf("PEPPOL-EN16931-CL008", "Electronic address identifier scheme must be from the codelist \"Electronic Address Identifier Scheme\": %s", why)
	}
	if d.Seller.Endpoint.IsZero() {
		r.errorf("PEPPOL-EN16931-R020", "Seller electronic address MUST be provided: the seller has no endpoint id (BT-34)")
	} else if ok, _ := formats.PeppolParticipant(d.Seller.Endpoint); !ok {
		r.errorf("PEPPOL-EN16931-CL008", "Electronic address identifier scheme must be from the codelist \"Electronic Address Identifier Scheme\": seller endpoint scheme %q is not in it", d.Seller.Endpoint.Scheme)
	}
	for _, p := range []struct {
		role  string
		party formats.Party
	}{{"seller", d.Seller}, {"buyer", d.Buyer}} {
		ids := append([]formats.Identifier{p.party.Endpoint, p.party.LegalID}, p.party.Identifiers...)
		for _, id := range ids {
			if v := normalizeSpace(id.Value); id.Scheme == "0007" && !(utf8.RuneCountInString(v) == 10 && xpathNumber(v) && checkSEOrgnr(v)) {
				r.errorf("PEPPOL-COMMON-R049", "Swedish organization number MUST be stated in the correct format: %s id 0007:%s is not 10 digits with a valid check digit", p.role, id.Value)
			}
		}
	}
}

// peppolLines checks R120 and R121 on every line, with exact arithmetic and
// the artefact's tolerance of 0.02 on the line net amount.
func (r *report) peppolLines() {
	for i, l := range r.doc.Lines {
		name := lineName(i, l)
		q := big.NewRat(1, 1)
		if l.Quantity != "" {
			q = l.Quantity.Rat()
		}
		base := big.NewRat(1, 1)
		if l.Price.BaseQuantity != "" {
			if b := l.Price.BaseQuantity.Rat(); b.Sign() > 0 {
				base = b
			} else {
				r.errorf("PEPPOL-EN16931-R121", "Base quantity MUST be a positive number above zero: %s has base quantity %s", name, l.Price.BaseQuantity)
				if b.Sign() != 0 {
					base = b
				}
			}
		}
		allowances, charges := sumCharges(l.AllowanceCharges, false), sumCharges(l.AllowanceCharges, true)
		want := new(big.Rat).Mul(q, new(big.Rat).Quo(l.Price.Amount.Rat(), base))
		want.Add(want, charges.Rat())
		want.Sub(want, allowances.Rat())
		diff := new(big.Rat).Sub(l.NetAmount.Rat(), want)
		if diff.Abs(diff).Cmp(big.NewRat(2, 100)) > 0 {
			r.errorf("PEPPOL-EN16931-R120", "Invoice line net amount MUST equal (Invoiced quantity * (Item net price/item price base quantity) + Sum of invoice line charge amount - sum of invoice line allowance amount: %s net amount %s ≠ %s × (%s / %s) + %s − %s = %s",
				name, l.NetAmount, ratText(q), priceText(l.Price.Amount), ratText(base), charges, allowances, ratText(want))
		}
	}
}

func priceText(d formats.Decimal) string {
	if d == "" {
		return "0 (no price)"
	}
	return string(d)
}

// swedishNational checks SE-R-001 to SE-R-013, each under the context its
// schematron rule fires in.
func (r *report) swedishNational() {
	d := r.doc
	s := d.Seller
	sellerSE := normalizeSpace(s.Address.Country) == "SE"
	if !sellerSE {
		return
	}
	vatSE := strings.HasPrefix(s.VATID, "SE")
	if vatSE {
		vat := normalizeSpace(s.VATID)
		if n := utf8.RuneCountInString(vat); n != 14 {
			r.errorf("SE-R-001", "For Swedish suppliers, Swedish VAT-numbers must consist of 14 characters: seller VAT id %s has %d; write SE, the 10-digit organisationsnummer and 01", s.VATID, n)
		}
		if !xpathNumber(substring(s.VATID, 3, 12)) {
			r.errorf("SE-R-002", "For Swedish suppliers, the Swedish VAT-numbers must have the trailing 12 characters in numeric form: seller VAT id %s", s.VATID)
		}
	}
	if legal := s.LegalID.Value; legal != "" {
		if !xpathNumber(legal) {
			r.errorf("SE-R-003", "Swedish organisation numbers should be numeric: seller legal id %s; write the 10 digits without letters or hyphen", legal)
		}
		if n := utf8.RuneCountInString(normalizeSpace(legal)); n != 10 {
			r.errorf("SE-R-004", "Swedish organisation numbers consist of 10 characters: seller legal id %s has %d", legal, n)
		}
		if !checkSEOrgnr(normalizeSpace(legal)) {
			r.errorf("SE-R-013", "The last digit of a Swedish organization number must be valid according to the Luhn algorithm: seller legal id %s", legal)
		}
		if tr := s.TaxRegistration; tr != "" && strings.ToUpper(normalizeSpace(tr)) != "GODKÄND FÖR F-SKATT" {
			r.errorf("SE-R-005", "For Swedish suppliers, when using Seller tax registration identifier, 'Godkänd för F-skatt' must be stated: it says %q", tr)
		}
	}
	if vatSE {
		for _, u := range r.vatCategoriesS() {
			if !swedishRate(u.rate) {
				r.errorf("SE-R-006", "For Swedish suppliers, only standard VAT rate of 6, 12 or 25 are used: %s is standard rated at %s", u.what, rate(u.rate))
			}
		}
	}
	buyerSE := normalizeSpace(d.Buyer.Address.Country) == "SE"
	for _, m := range d.PaymentMeans {
		code, acct := normalizeSpace(m.Code), normalizeSpace(m.Account)
		n := utf8.RuneCountInString(acct)
		switch {
		case code == "30" && normalizeSpace(m.AccountScheme) == formats.AccountPlusgiro:
			if !xpathNumber(acct) {
				r.warnf("SE-R-007", "For Swedish suppliers using Plusgiro, the Account ID must be numeric: plusgiro %s; write the digits only", m.Account)
			}
			if n < 2 || n > 8 {
				r.warnf("SE-R-010", "For Swedish suppliers using Plusgiro, the Account ID must have 2-8 characters: plusgiro %s has %d", m.Account, n)
			}
		case code == "30" && normalizeSpace(m.AccountScheme) == formats.AccountBankgiro:
			if !xpathNumber(acct) {
				r.warnf("SE-R-008", "For Swedish suppliers using Bankgiro, the Account ID must be numeric: bankgiro %s; write the digits only", m.Account)
			}
			if n != 7 && n != 8 {
				r.warnf("SE-R-009", "For Swedish suppliers using Bankgiro, the Account ID must have 7-8 characters: bankgiro %s has %d", m.Account, n)
			}
		case code == "50" || code == "56":
			r.warnf("SE-R-011", "For Swedish suppliers using Swedish Bankgiro or Plusgiro, the proper way to indicate this is to use Code 30 for PaymentMeans and FinancialInstitutionBranch ID with code SE:BANKGIRO or SE:PLUSGIRO: payment means code is %s", code)
		case code == "31" && buyerSE:
			r.warnf("SE-R-012", "For domestic transactions between Swedish trading partners, credit transfer should be indicated by PaymentMeansCode=\"30\": payment means code is 31")
		}
	}
}

// vatCategoriesS lists every tax category of code S the document carries:
// the VAT breakdown, document allowances and charges, and line items.
func (r *report) vatCategoriesS() []vatUse {
	var out []vatUse
	for _, v := range r.doc.VAT {
		if v.Category == "S" {
			out = append(out, vatUse{what: "VAT breakdown S", category: "S", rate: v.Rate})
		}
	}
	for _, u := range r.vatUses() {
		if u.category == "S" {
			out = append(out, u)
		}
	}
	return out
}

func swedishRate(d formats.Decimal) bool {
	if d == "" {
		return false
	}
	v := d.Rat()
	for _, n := range []int64{25, 12, 6} {
		if v.Cmp(big.NewRat(n, 1)) == 0 {
			return true
		}
	}
	return false
}

// normalizeSpace is XPath's normalize-space: trim and collapse whitespace.
func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// substring is XPath's substring(s, start, length) with 1-based positions
// counted in characters.
func substring(s string, start, length int) string {
	rs := []rune(s)
	from, to := start-1, start-1+length
	from = max(from, 0)
	to = min(to, len(rs))
	if from >= to {
		return ""
	}
	return string(rs[from:to])
}

// xpathDouble is the lexical form XPath 2.0 number() accepts; anything else
// is NaN, which the SE-R rules test for.
var xpathDouble = regexp.MustCompile(`^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF)$`)

// xpathNumber reports whether XPath's number(s) is not NaN.
func xpathNumber(s string) bool { return xpathDouble.MatchString(strings.TrimSpace(s)) }

// checkSEOrgnr is the artefact's u:checkSEOrgnr: all digits, and the tenth
// digit is the Luhn check digit of the first nine.
func checkSEOrgnr(s string) bool {
	return isDigits(s) && len(s) >= 10 && formats.Luhn(s[:10])
}
