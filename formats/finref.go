package formats

import (
	"fmt"
	"math/big"
	"strings"
)

// Finnish payment and party identifiers. The Finnish reference number
// (viitenumero) and the international RF creditor reference (ISO 11649) are
// the two structured references a Finnish bank pays with; the Y-tunnus is
// the business ID every Finnish e-invoice names its seller by. The rules
// and their sources are in docs/channels/finvoice.md.

// CheckFinnishReference checks a Finnish reference number (viitenumero):
// 4 to 20 digits, the last a check digit computed with the weights 7, 3, 1
// from the right (FinnishReferenceDigit). People write it in groups of five
// ("12 34561"); spaces are allowed and removed. Leading zeros are allowed
// (machine-readable references are padded to 20 digits) but do not count
// towards the minimum of 4 digits. It returns the digits without spaces.
func CheckFinnishReference(s string) (string, error) {
	v := strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if !allDigits(v) {
		return "", fmt.Errorf("Finnish reference %q: only digits (and spaces between groups) are allowed, like 12 34561", s)
	}
	if len(v) > 20 || len(strings.TrimLeft(v, "0")) < 4 {
		return "", fmt.Errorf("Finnish reference %s: a reference number has 4 to 20 digits, the last the check digit", s)
	}
	if want := FinnishReferenceDigit(v[:len(v)-1]); v[len(v)-1] != want {
		return "", fmt.Errorf("Finnish reference %s: check digit is %c, expected %c (weights 7, 3, 1 from the right)", s, v[len(v)-1], want)
	}
	return v, nil
}

// FinnishReferenceDigit returns the check digit to append to the digits of
// a reference number's base: each digit, from the right, is multiplied by
// 7, 3, 1, 7, 3, 1, ...; the check digit is what the sum lacks to the next
// multiple of ten (0 when the sum is one already).
func FinnishReferenceDigit(base string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i, j := len(base)-1, 0; i >= 0; i, j = i-1, j+1 {
		sum += int(base[i]-'0') * weights[j%3]
	}
	return byte('0' + (10-sum%10)%10)
}

// CheckRF checks an RF creditor reference (ISO 11649): "RF", two check
// digits and 1 to 21 letters and digits, 25 characters at most, the whole
// (its first four characters moved to the end, letters counted A=10 to
// Z=35) equal to 1 modulo 97. Spaces between groups of four are allowed;
// letters may be written in either case. It returns the reference upper
// case without spaces.
func CheckRF(s string) (string, error) {
	v := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	if len(v) < 5 || len(v) > 25 || v[:2] != "RF" || !allDigits(v[2:4]) || !alnum(v[4:]) {
		return "", fmt.Errorf("RF reference %q: write RF, two check digits and up to 21 letters or digits, like RF18 5390 0754 7034", s)
	}
	if mod97(v[4:]+v[:4]) != 1 {
		return "", fmt.Errorf("RF reference %s: check digits %s are wrong, expected %s", s, v[2:4], rfDigits(v[4:]))
	}
	return v, nil
}

// RFReference builds the RF creditor reference for a reference body (1 to
// 21 letters and digits): "RF", the check digits and the body. A Finnish
// reference number becomes an RF reference this way, with its own check
// digit kept in the body.
func RFReference(body string) (string, error) {
	b := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(body), " ", ""))
	if len(b) < 1 || len(b) > 21 || !alnum(b) {
		return "", fmt.Errorf("RF reference body %q: 1 to 21 letters or digits", body)
	}
	return "RF" + rfDigits(b) + b, nil
}

// rfDigits computes ISO 11649's check digits for a body: 98 minus the
// body followed by "RF00" modulo 97, as two digits.
func rfDigits(body string) string {
	return fmt.Sprintf("%02d", 98-mod97(body+"RF00"))
}

// mod97 reads s as a number, letters counted A=10 to Z=35 (ISO 7064 MOD
// 97-10 as IBAN and ISO 11649 use it), and returns it modulo 97. s must be
// upper-case letters and digits.
func mod97(s string) int64 {
	var digits strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			fmt.Fprintf(&digits, "%d", c-'A'+10)
		} else {
			digits.WriteRune(c)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	return new(big.Int).Mod(n, big.NewInt(97)).Int64()
}

// CheckYTunnus checks a Finnish business ID (Y-tunnus): seven digits, a
// hyphen and a check digit ("0199920-7"). The check digit is 11 minus the
// sum of the digits weighted 7, 9, 10, 5, 8, 4, 2 from the left modulo 11,
// 0 when the remainder is 0; a remainder of 1 is never issued. An older
// six-digit ID is padded with a leading zero, and the hyphen may be left
// out ("01999207"). It returns the ID as NNNNNNN-C.
func CheckYTunnus(s string) (string, error) {
	v := strings.TrimSpace(s)
	d := strings.ReplaceAll(v, "-", "")
	if !allDigits(d) || strings.Count(v, "-") > 1 || strings.Contains(v, "-") && !strings.HasSuffix(v[:len(v)-1], "-") {
		return "", fmt.Errorf("Y-tunnus %q: write seven digits, a hyphen and the check digit, like 0199920-7", s)
	}
	if len(d) == 7 {
		d = "0" + d
	}
	if len(d) != 8 {
		return "", fmt.Errorf("Y-tunnus %q: a business ID has seven digits and a check digit, like 0199920-7", s)
	}
	weights := [7]int{7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(d[i]-'0') * w
	}
	r := sum % 11
	if r == 1 {
		return "", fmt.Errorf("Y-tunnus %s: no business ID has these seven digits (their check would be 10)", s)
	}
	want := byte('0')
	if r > 1 {
		want = byte('0' + 11 - r)
	}
	if d[7] != want {
		return "", fmt.Errorf("Y-tunnus %s: check digit is %c, expected %c", s, d[7], want)
	}
	return d[:7] + "-" + d[7:], nil
}
