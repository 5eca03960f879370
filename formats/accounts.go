package formats

import (
	"fmt"
	"strings"
)

// CheckIBAN checks an international bank account number (ISO 13616-1:
// a country code, two check digits and up to 30 letters and digits, the
// whole mod 97 equal to 1; a Swedish IBAN has 24 characters) and returns it
// upper case without spaces.
func CheckIBAN(s string) (string, error) {
	v := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
	if len(v) < 15 || len(v) > 34 || !letters(v[:2]) || !allDigits(v[2:4]) || !alnum(v[4:]) {
		return "", fmt.Errorf("IBAN %q: write the country code, two check digits and the account, like SE45 5000 0000 0583 9825 7466", s)
	}
	if v[:2] == "SE" && len(v) != 24 {
		return "", fmt.Errorf("IBAN %s: a Swedish IBAN has 24 characters, this has %d", s, len(v))
	}
	// ISO 13616: the first four characters moved to the end, the whole
	// mod 97 (ISO 7064 MOD 97-10, as the RF reference uses it) must be 1.
	if mod97(v[4:]+v[:4]) != 1 {
		return "", fmt.Errorf("IBAN %s: check digits %s are wrong", s, v[2:4])
	}
	return v, nil
}

// CheckSwish checks a Swish number a business is paid to (Swish Företag
// and Handel: 10 digits starting with 123, "123 456 78 90") and returns its
// digits. Swish numbers carry no check digit.
func CheckSwish(s string) (string, error) {
	d := OnlyDigits(s)
	if !plainAccount(s) || len(d) != 10 || !strings.HasPrefix(d, "123") {
		return "", fmt.Errorf("Swish number %q: a business Swish number has 10 digits starting with 123, like 123 456 78 90", s)
	}
	return d, nil
}

// CheckVATID checks the form of a VAT identification number (BT-31): a
// country prefix of two letters and 2 to 13 letters and digits; a Swedish
// one is SE, the 10-digit organisationsnummer (its check digit checked)
// and 01.
// It returns the number upper case without spaces, hyphens or dots.
func CheckVATID(s string) (string, error) {
	v := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ".", "").Replace(strings.TrimSpace(s)))
	if len(v) < 4 || len(v) > 15 || !letters(v[:2]) || !alnum(v[2:]) {
		return "", fmt.Errorf("VAT id %q: write the country prefix and the number, like SE556123456701", s)
	}
	if v[:2] != "SE" {
		return v, nil
	}
	if len(v) != 14 || !allDigits(v[2:]) || !strings.HasSuffix(v, "01") {
		return "", fmt.Errorf("VAT id %s: a Swedish VAT id is SE, the 10-digit organisationsnummer and 01, like SE556123456701", s)
	}
	// A sole trader's number is the owner's personnummer (third digit below
	// 2), so only the check digit is checked here.
	if !Luhn(v[2:12]) {
		return "", fmt.Errorf("VAT id %s: the check digit of organisationsnummer %s is wrong, expected %c", s, v[2:12], LuhnDigit(v[2:11]))
	}
	return v, nil
}

func letters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}
