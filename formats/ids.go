package formats

import (
	"fmt"
	"strings"
	"time"
)

// Luhn reports whether the digit string passes the mod-10 (Luhn) check that
// OCR numbers, bankgiro and plusgiro numbers and Swedish organisationsnummer
// and personnummer all use.
func Luhn(digits string) bool {
	if !allDigits(digits) {
		return false
	}
	return luhnSum(digits)%10 == 0
}

// LuhnDigit returns the check digit to append to digits.
func LuhnDigit(digits string) byte {
	s := luhnSum(digits + "0")
	return byte('0' + (10-s%10)%10)
}

func luhnSum(digits string) int {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum
}

// OnlyDigits removes spaces, hyphens and other separators people type.
func OnlyDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// CheckOCR checks a Swedish OCR reference: 2 to 25 digits, the last a Luhn
// check digit. When lengthDigit is true the second-to-last digit must equal
// the total length modulo 10 (Bankgirot's "variabel längd med längdsiffra").
func CheckOCR(ocr string, lengthDigit bool) error {
	if !allDigits(ocr) {
		return fmt.Errorf("OCR %q: only digits are allowed", ocr)
	}
	if len(ocr) < 2 || len(ocr) > 25 {
		return fmt.Errorf("OCR %s: %d digits, an OCR number has 2 to 25", ocr, len(ocr))
	}
	if !Luhn(ocr) {
		return fmt.Errorf("OCR %s: check digit is wrong, expected %c", ocr, LuhnDigit(ocr[:len(ocr)-1]))
	}
	if lengthDigit {
		want := byte('0' + len(ocr)%10)
		if ocr[len(ocr)-2] != want {
			return fmt.Errorf("OCR %s: length digit is %c, expected %c for %d digits", ocr, ocr[len(ocr)-2], want, len(ocr))
		}
	}
	return nil
}

// CheckBankgiro checks a bankgiro number (7 or 8 digits, "5050-1055" or
// "50501055") and returns its digits.
func CheckBankgiro(bg string) (string, error) {
	d := OnlyDigits(bg)
	if !plainAccount(bg) || len(d) < 7 || len(d) > 8 {
		return "", fmt.Errorf("bankgiro %q: a bankgiro number has 7 or 8 digits, like 5050-1055", bg)
	}
	if !Luhn(d) {
		return "", fmt.Errorf("bankgiro %s: check digit is wrong, expected %c", bg, LuhnDigit(d[:len(d)-1]))
	}
	return d, nil
}

// CheckPlusgiro checks a plusgiro number (2 to 8 digits, "4 41 09-7") and
// returns its digits.
func CheckPlusgiro(pg string) (string, error) {
	d := OnlyDigits(pg)
	if !plainAccount(pg) || len(d) < 2 || len(d) > 8 {
		return "", fmt.Errorf("plusgiro %q: a plusgiro number has 2 to 8 digits, like 4 41 09-7", pg)
	}
	if !Luhn(d) {
		return "", fmt.Errorf("plusgiro %s: check digit is wrong, expected %c", pg, LuhnDigit(d[:len(d)-1]))
	}
	return d, nil
}

// plainAccount allows digits with the separators people write in account numbers.
func plainAccount(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && c != ' ' && c != '-' {
			return false
		}
	}
	return true
}

// CheckOrgnr checks a Swedish organisationsnummer: 10 digits (optionally
// written NNNNNN-NNNN or with the 16 prefix), third digit at least 2, Luhn.
// It returns the 10 digits.
func CheckOrgnr(s string) (string, error) {
	d := OnlyDigits(s)
	if len(d) == 12 && strings.HasPrefix(d, "16") {
		d = d[2:]
	}
	if !plainAccount(s) || len(d) != 10 {
		return "", fmt.Errorf("organisationsnummer %q: must be 10 digits, like 556123-4567", s)
	}
	if d[2] < '2' {
		return "", fmt.Errorf("organisationsnummer %s: third digit must be 2 or more (otherwise it is a personnummer)", s)
	}
	if !Luhn(d) {
		return "", fmt.Errorf("organisationsnummer %s: check digit is wrong, expected %c", s, LuhnDigit(d[:9]))
	}
	return d, nil
}

// CheckPersonnummer checks a Swedish personnummer or samordningsnummer
// (YYYYMMDD-NNNC, YYMMDD-NNNC or YYMMDD+NNNC for those over 100) and
// returns it as 12 digits. now decides the century of a 10-digit form.
func CheckPersonnummer(s string, now time.Time) (string, error) {
	t := strings.TrimSpace(s)
	plus := strings.Contains(t, "+")
	d := OnlyDigits(t)
	for i := 0; i < len(t); i++ {
		if c := t[i]; !(c >= '0' && c <= '9') && c != '-' && c != '+' && c != ' ' {
			return "", fmt.Errorf("personnummer %q: only digits and one - or +", s)
		}
	}
	switch len(d) {
	case 12:
	case 10:
		// The century is the one that puts the birth date not after now;
		// comparing whole dates, not years, keeps someone born later this
		// year in the previous century.
		day := atoi(d[4:6])
		if day > 60 {
			day -= 60
		}
		year := now.Year()/100*100 + atoi(d[0:2])
		if time.Date(year, time.Month(atoi(d[2:4])), day, 0, 0, 0, 0, time.UTC).After(now) {
			year -= 100
		}
		if plus {
			year -= 100
		}
		d = fmt.Sprintf("%02d", year/100) + d
	default:
		return "", fmt.Errorf("personnummer %q: must be 10 or 12 digits, like 19811218-9876", s)
	}
	year := atoi(d[0:4])
	month := atoi(d[4:6])
	day := atoi(d[6:8])
	if day > 60 { // samordningsnummer: day + 60
		day -= 60
	}
	date := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || day < 1 || date.Day() != day || date.Month() != time.Month(month) {
		return "", fmt.Errorf("personnummer %s: %s is not a date", s, d[:8])
	}
	if !Luhn(d[2:]) {
		return "", fmt.Errorf("personnummer %s: check digit is wrong, expected %c", s, LuhnDigit(d[2:11]))
	}
	return d, nil
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// easCodes is the Electronic Address Scheme code list exactly as the Peppol
// BIS Billing 3.0 artefacts test it (PEPPOL-EN16931-CL008, variable eaid):
// every code a Peppol endpoint id may be under. "EM" (e-mail) is an EAS code
// in EN 16931 but not in Peppol's list: an e-mail address is no participant.
const easCodes = "0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0151 0177 0183 0184 0188 0190 0191 0192 0193 0195 0196 0198 0199 0200 0201 0202 0204 0208 0209 0210 0211 0212 0213 0215 0216 0218 0221 0230 0235 9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959 0147 0154 0158 0170 0194 0203 0205 0217 0225 0240"

var peppolSchemes = func() map[string]bool {
	m := make(map[string]bool)
	for _, c := range strings.Fields(easCodes) {
		m[c] = true
	}
	return m
}()

// PeppolParticipant reports whether an endpoint id names a Peppol
// participant, and if not, why.
func PeppolParticipant(id Identifier) (bool, string) {
	switch {
	case id.Value == "":
		return false, "no electronic address (BT-49) on the buyer"
	case strings.EqualFold(id.Scheme, "EM"):
		return false, "buyer endpoint is under scheme EM, an e-mail address, not a Peppol participant"
	case !peppolSchemes[id.Scheme]:
		return false, fmt.Sprintf("buyer endpoint scheme %q is not a Peppol participant scheme", id.Scheme)
	}
	return true, "buyer endpoint " + id.String()
}

// SwedishMobile returns a Swedish mobile number in E.164 (+467XXXXXXXX) or
// false when the number is not a Swedish mobile number (070, 072, 073, 076, 079).
func SwedishMobile(phone string) (string, bool) {
	p := strings.TrimSpace(phone)
	d := OnlyDigits(p)
	switch {
	case strings.HasPrefix(p, "+46"), strings.HasPrefix(d, "0046"):
		// "+46 (0)70 ..." as people write it: the trunk 0 goes too.
		d = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(d, "00"), "46"), "0")
	case strings.HasPrefix(d, "0"):
		d = d[1:]
	default:
		return "", false
	}
	if len(d) != 9 || d[0] != '7' || !strings.ContainsRune("02369", rune(d[1])) {
		return "", false
	}
	return "+46" + d, true
}
