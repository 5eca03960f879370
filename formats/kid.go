package formats

import (
	"fmt"
	"strings"
)

// Norwegian identifiers. A KID (kundeidentifikasjon) is the structured
// payment reference on a Norwegian invoice, the sibling of the Swedish OCR
// number: 2 to 25 characters, digits, the last a check digit made with
// modulus 10 (the Luhn rule OCR numbers use) or modulus 11, which the
// payee chooses when it signs its agreement with its bank. Nets'
// specifications give both ("Utregning av kontrollsiffer i modulus 10 og
// modulus 11", the closing section of Systemspesifikasjon AvtaleGiro and of
// Systemspesifikasjon OCR giro; also BSK's Telepay format 2.1, "KID kontroll
// - Modulus 10 / Modulus 11"):
//
//   - modulus 10: from the rightmost digit before the check digit, weights
//     2, 1, 2, 1, ...; a product of two digits counts as the sum of its
//     digits; the check digit makes the sum a multiple of 10.
//   - modulus 11: from the rightmost digit before the check digit, weights
//     2, 3, 4, 5, 6, 7, 2, 3, ...; the check digit is 11 minus the
//     remainder of the sum divided by 11; 11 becomes 0, and 10 becomes a
//     hyphen '-', which only a KID may carry.
//
// A Norwegian organisasjonsnummer (9 digits) and a Norwegian account number
// (kontonummer, 11 digits) use the same modulus 11 with the same weights,
// but one whose check would be 10 is never issued, so no hyphen.

// KIDMethod is the check digit method of a KID.
type KIDMethod int

// The KID check digit methods.
const (
	KIDMod10 KIDMethod = 10
	KIDMod11 KIDMethod = 11
)

func (m KIDMethod) String() string {
	switch m {
	case KIDMod10:
		return "modulus 10"
	case KIDMod11:
		return "modulus 11"
	}
	return fmt.Sprintf("KIDMethod(%d)", int(m))
}

// ParseKIDMethod reads "mod10" or "mod11" (also "10", "11", "modulus 10"),
// as a configuration names the method.
func ParseKIDMethod(s string) (KIDMethod, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "") {
	case "mod10", "10", "modulus10", "luhn":
		return KIDMod10, nil
	case "mod11", "11", "modulus11":
		return KIDMod11, nil
	}
	return 0, fmt.Errorf("KID method %q: write mod10 or mod11, the check digit method of the payee's KID agreement", s)
}

// Mod11Digit returns the modulus 11 check digit to append to digits: '0'
// to '9', or '-' when the remainder leaves 10. digits must be digits.
func Mod11Digit(digits string) byte {
	sum, w := 0, 2
	for i := len(digits) - 1; i >= 0; i-- {
		sum += int(digits[i]-'0') * w
		if w++; w > 7 {
			w = 2
		}
	}
	switch c := 11 - sum%11; c {
	case 11:
		return '0'
	case 10:
		return '-'
	default:
		return byte('0' + c)
	}
}

// KIDDigit returns the check digit method m gives to digits.
func KIDDigit(digits string, m KIDMethod) byte {
	if m == KIDMod11 {
		return Mod11Digit(digits)
	}
	return LuhnDigit(digits)
}

// CheckKID checks a KID under the method the payee's agreement names: 2 to
// 25 characters, all digits but the last, which is the check digit (a
// hyphen only under modulus 11, where it stands for 10).
func CheckKID(kid string, m KIDMethod) error {
	if m != KIDMod10 && m != KIDMod11 {
		return fmt.Errorf("KID %s: unknown check digit method %v", kid, m)
	}
	if n := len(kid); n < 2 || n > 25 {
		return fmt.Errorf("KID %q: %d characters, a KID has 2 to 25", kid, n)
	}
	body, last := kid[:len(kid)-1], kid[len(kid)-1]
	if !allDigits(body) || !(last >= '0' && last <= '9' || last == '-' && m == KIDMod11) {
		if m == KIDMod11 {
			return fmt.Errorf("KID %q: only digits are allowed, and a hyphen as the last (modulus 11) check digit", kid)
		}
		return fmt.Errorf("KID %q: only digits are allowed (a hyphen check digit is modulus 11, and this KID agreement is modulus 10)", kid)
	}
	if want := KIDDigit(body, m); last != want {
		return fmt.Errorf("KID %s: %v check digit is wrong, expected %c", kid, m, want)
	}
	return nil
}

// MakeKID appends the check digit of method m to digits (a customer number,
// an invoice number): the KID a payee prints on its invoice.
func MakeKID(digits string, m KIDMethod) (string, error) {
	if !allDigits(digits) || len(digits) > 24 {
		return "", fmt.Errorf("KID base %q: 1 to 24 digits are needed to make a KID", digits)
	}
	return digits + string(KIDDigit(digits, m)), nil
}

// mod11Valid reports whether the digit string ends in its modulus 11 check
// digit, the rule of Norwegian organisation and account numbers (where a
// check of 10 is never issued, so never valid).
func mod11Valid(d string) bool {
	return allDigits(d) && len(d) > 1 && Mod11Digit(d[:len(d)-1]) == d[len(d)-1]
}

// CheckNorwegianOrgnr checks a Norwegian organisasjonsnummer (9 digits,
// "923 609 016", "923609016", or "NO923609016MVA" as the VAT number writes
// it) and returns the 9 digits: the modulus 11 check with weights 3, 2, 7,
// 6, 5, 4, 3, 2 that the Enhetsregisteret issues numbers under, the same
// test the Peppol rule PEPPOL-COMMON-R041 makes of an identifier under
// scheme 0192.
func CheckNorwegianOrgnr(s string) (string, error) {
	t := strings.TrimSpace(s)
	if u := strings.ToUpper(t); strings.HasPrefix(u, "NO") && strings.HasSuffix(u, "MVA") {
		t = t[2 : len(t)-3]
	}
	d := OnlyDigits(t)
	if !plainAccount(t) || len(d) != 9 {
		return "", fmt.Errorf("organisasjonsnummer %q: must be 9 digits, like 923 609 016", s)
	}
	if d == "000000000" {
		return "", fmt.Errorf("organisasjonsnummer %s: all zeros is no organisasjonsnummer", s)
	}
	if !mod11Valid(d) {
		if c := Mod11Digit(d[:8]); c != '-' {
			return "", fmt.Errorf("organisasjonsnummer %s: check digit is wrong, expected %c", s, c)
		}
		return "", fmt.Errorf("organisasjonsnummer %s: no check digit fits its first 8 digits (modulus 11 leaves 10), so it is no organisasjonsnummer", s)
	}
	return d, nil
}

// CheckNorwegianAccount checks a Norwegian bank account number (11 digits,
// "8601.11.17947", "8601 11 17947" or "86011117947": bank code, account
// group, account and check digit) and returns the 11 digits.
func CheckNorwegianAccount(s string) (string, error) {
	t := strings.TrimSpace(s)
	d := OnlyDigits(t)
	for i := 0; i < len(t); i++ {
		if c := t[i]; !(c >= '0' && c <= '9') && c != ' ' && c != '.' && c != '-' {
			return "", fmt.Errorf("kontonummer %q: only digits, spaces and dots, like 8601.11.17947", s)
		}
	}
	if len(d) != 11 {
		return "", fmt.Errorf("kontonummer %q: must be 11 digits, like 8601.11.17947", s)
	}
	if !mod11Valid(d) {
		if c := Mod11Digit(d[:10]); c != '-' {
			return "", fmt.Errorf("kontonummer %s: check digit is wrong, expected %c", s, c)
		}
		return "", fmt.Errorf("kontonummer %s: no check digit fits its first 10 digits (modulus 11 leaves 10), so it is no account number", s)
	}
	return d, nil
}
