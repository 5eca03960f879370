package formats

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Amount is a monetary amount in minor units (öre, cent): EN 16931 allows at
// most two decimals on every amount (BR-DEC rules), so an integer is exact.
type Amount int64

// ParseAmount reads a decimal amount with at most two decimals, such as
// "1656.25", "-3", "0.5". It accepts a leading sign and no thousands separators.
func ParseAmount(s string) (Amount, error) {
	d, err := ParseDecimal(s)
	if err != nil {
		return 0, err
	}
	return d.Amount()
}

// MustAmount is ParseAmount for constants in tests and defaults.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// String formats the amount with two decimals and a point: "1656.25".
func (a Amount) String() string {
	var b [24]byte
	return string(a.AppendText(b[:0]))
}

// AppendText appends the amount as String writes it: without fmt, since
// every invoice's amounts are written several times (its record, its
// receipt line, its PDF and e-mail), and fmt's reflection was 1% of the
// daemon's CPU.
func (a Amount) AppendText(b []byte) []byte {
	u := uint64(a)
	if a < 0 {
		b = append(b, '-')
		u = uint64(-a)
	}
	b = strconv.AppendUint(b, u/100, 10)
	c := u % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// Swedish formats the amount the Swedish way: "1 656,25".
func (a Amount) Swedish() string {
	s := a.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteRune('\u00a0')
		}
		b.WriteRune(r)
	}
	return sign + b.String() + "," + frac
}

// MarshalText writes the amount as a decimal string, never a float.
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := ParseAmount(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Decimal is an exact decimal number kept as its canonical text, for values
// that may carry more than two decimals: quantities, unit prices, VAT rates.
// Arithmetic goes through Rat, which is exact.
type Decimal string

// ParseDecimal checks that s is a plain decimal number ("12", "-0.125",
// "+3.50") and returns it in canonical form (no plus sign, no leading zeros).
func ParseDecimal(s string) (Decimal, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", fmt.Errorf("empty number")
	}
	neg := false
	switch t[0] {
	case '-':
		neg, t = true, t[1:]
	case '+':
		t = t[1:]
	}
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" && frac == "" {
		return "", fmt.Errorf("%q is not a number", s)
	}
	if hasDot && frac == "" {
		return "", fmt.Errorf("%q is not a number: nothing after the decimal point", s)
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return "", fmt.Errorf("%q is not a number (only digits, one '.' and a sign)", s)
			}
		}
	}
	if len(intPart)+len(frac) > 30 {
		return "", fmt.Errorf("%q has more than 30 digits", s)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return Decimal(out), nil
}

// Rat returns the exact value; an invalid Decimal is zero.
func (d Decimal) Rat() *big.Rat {
	r, ok := new(big.Rat).SetString(string(d))
	if !ok {
		return new(big.Rat)
	}
	return r
}

// IsZero reports whether the value is zero (or empty).
func (d Decimal) IsZero() bool { return d == "" || d.Rat().Sign() == 0 }

// Decimals is the number of digits after the point.
func (d Decimal) Decimals() int {
	_, frac, _ := strings.Cut(string(d), ".")
	return len(frac)
}

// Amount converts a decimal with at most two decimals into minor units.
func (d Decimal) Amount() (Amount, error) {
	s := string(d)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		if strings.TrimRight(frac[2:], "0") != "" {
			return 0, fmt.Errorf("%s has more than two decimals (BR-DEC: amounts carry at most 2)", d)
		}
		frac = frac[:2]
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if len(intPart) > 16 {
		return 0, fmt.Errorf("%s is too large for an amount", d)
	}
	v, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", d, err)
	}
	if neg {
		v = -v
	}
	return Amount(v), nil
}

// RatAmount rounds an exact value to minor units, half away from zero, as
// EN 16931 rounds calculated amounts.
func RatAmount(r *big.Rat) Amount {
	scaled := new(big.Rat).Mul(r, big.NewRat(100, 1))
	num, den := scaled.Num(), scaled.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	twice := new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2))
	if twice.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return Amount(q.Int64())
}

// Rat returns the amount as an exact rational.
func (a Amount) Rat() *big.Rat { return big.NewRat(int64(a), 100) }
