package pdf

import (
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// nbsp groups thousands, as formats.Amount.Swedish does, so a figure never
// breaks across lines and pdftotext gives it back in one piece.
const nbsp = "\u00a0"

// decimal writes a number the Swedish way (1 234,5) with at least minFrac
// decimals; trailing zeros beyond those go. Text that is not a number is
// printed as it is: the PDF shows what the document says.
func decimal(d formats.Decimal, minFrac int) string {
	if d == "" {
		return ""
	}
	c, err := formats.ParseDecimal(string(d))
	if err != nil {
		return string(d)
	}
	s := string(c)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	for len(frac) < minFrac {
		frac += "0"
	}
	var b strings.Builder
	b.WriteString(sign)
	for i := 0; i < len(intPart); i++ {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(nbsp)
		}
		b.WriteByte(intPart[i])
	}
	if frac != "" {
		b.WriteByte(',')
		b.WriteString(frac)
	}
	return b.String()
}

// percent writes a VAT rate: "25 %", "12,5 %".
func percent(d formats.Decimal) string {
	if d == "" {
		return ""
	}
	return decimal(d, 0) + nbsp + "%"
}

// units maps the UN/ECE Recommendation 20 codes Swedish invoices use to
// the abbreviations a Swedish reader knows; other codes print as they are.
var units = map[string]string{
	"C62": "st", "EA": "st", "H87": "st", "XPP": "st", "NAR": "st",
	"HUR": "tim", "MIN": "min", "DAY": "dag", "WEE": "v", "MON": "mån", "ANN": "år",
	"KGM": "kg", "GRM": "g", "TNE": "ton", "MTR": "m", "KMT": "km", "MTK": "m²", "MTQ": "m³",
	"LTR": "l", "KWH": "kWh", "MWH": "MWh", "SET": "set", "PK": "frp", "XPK": "frp", "LS": "st",
}

func unit(code string) string {
	if u, ok := units[strings.ToUpper(code)]; ok {
		return u
	}
	return code
}

// bankgiro writes a bankgiro number as it is printed: NNN-NNNN or NNNN-NNNN.
func bankgiro(s string) string {
	d := formats.OnlyDigits(s)
	if len(d) < 7 || len(d) > 8 {
		return s
	}
	return d[:len(d)-4] + "-" + d[len(d)-4:]
}

// plusgiro writes a plusgiro number with a hyphen before the check digit.
func plusgiro(s string) string {
	d := formats.OnlyDigits(s)
	if len(d) < 2 || len(d) > 8 {
		return s
	}
	return d[:len(d)-1] + "-" + d[len(d)-1:]
}

// postal writes a Swedish postal code as "123 45"; others stay as they are.
func postal(code, country string) string {
	d := formats.OnlyDigits(code)
	if (country == "" || strings.EqualFold(country, "SE")) && len(d) == 5 && len(code) <= 6 {
		return d[:3] + " " + d[3:]
	}
	return code
}

// isOCR reports whether a payment reference is a Swedish OCR number (digits
// with a valid check digit) rather than free text.
func isOCR(ref string) bool {
	return len(ref) >= 2 && len(ref) <= 25 && formats.Luhn(ref)
}

// vatText names a VAT category for the breakdown. Standard rate (S) shows as
// its rate; the others say why no or reduced VAT applies, because Swedish
// law (mervärdesskattelagen 17 kap.) wants that reason on the invoice.
func vatText(v formats.VATBreakdown, l translator) string {
	reason := v.ExemptionReason
	switch strings.ToUpper(v.Category) {
	case "S", "":
		return l.t("Moms") + " " + percent(v.Rate)
	case "Z":
		return strings.ReplaceAll(l.t("Moms 0 % (nollskattesats)"), " %", nbsp+"%")
	case "AE":
		return or(reason, l.t("Omvänd betalningsskyldighet"))
	case "E":
		return or(reason, l.t("Undantaget från moms"))
	case "K":
		return or(reason, l.t("Gemenskapsintern leverans"))
	case "G":
		return or(reason, l.t("Export, momsfri"))
	case "O":
		return or(reason, l.t("Utanför momsens tillämpningsområde"))
	}
	return l.t("Moms") + " " + v.Category + " " + percent(v.Rate)
}

func or(s, dflt string) string {
	if strings.TrimSpace(s) != "" {
		return s
	}
	return dflt
}
