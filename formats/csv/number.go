package csv

import (
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// markOf tells which decimal mark a number is written with (',' or '.'; 0
// when it has none or is not a plain number) and whether the mark could also
// be read as a thousands separator: "1,250" is 1.25 with a decimal comma and
// 1250 with a comma for thousands, while "1,25", "0,250" and "1,2500" are
// decimals whatever the convention.
func markOf(s string) (mark byte, ambiguous bool) {
	t := s
	if t != "" && (t[0] == '-' || t[0] == '+') {
		t = t[1:]
	}
	at := -1
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9':
		case (c == ',' || c == '.') && at < 0:
			at = i
		default:
			return 0, false
		}
	}
	if at < 0 {
		return 0, false
	}
	return t[at], at >= 1 && at <= 3 && t[0] != '0' && len(t)-at-1 == 3
}

// markName names a decimal mark in messages.
func markName(mark byte) string {
	if mark == '.' {
		return "point"
	}
	return "comma"
}

// numbers reads numbers written with the file's decimal mark.
type numbers struct {
	mark byte   // ',' or '.'
	from string // where the file showed its mark, for messages
}

// decimal reads a number such as "1250,50" or "-3" into its exact value.
func (n numbers) decimal(v string) (formats.Decimal, error) {
	other := byte(',')
	if n.mark == ',' {
		other = '.'
	}
	switch {
	case strings.ContainsAny(v, " \u00a0'_"):
		return "", fmt.Errorf("%q has a space or separator inside; write numbers without thousand separators, like 1250%c50", v, n.mark)
	case strings.IndexByte(v, other) >= 0 && strings.IndexByte(v, n.mark) >= 0:
		return "", fmt.Errorf("%q has a thousands separator; write it without, like 1250%c50", v, n.mark)
	case strings.IndexByte(v, other) >= 0:
		return "", fmt.Errorf("%q has a decimal %s, but this file writes decimals with a %s (%s), and a thousands separator is never accepted; write %s",
			v, markName(other), markName(n.mark), n.from, strings.ReplaceAll(v, string(other), string(n.mark)))
	}
	d, err := formats.ParseDecimal(strings.Replace(v, string(n.mark), ".", 1))
	if err != nil {
		return "", fmt.Errorf("%q is not a number", v)
	}
	return d, nil
}

// amount reads a monetary amount: a number with at most two decimals.
func (n numbers) amount(v string) (formats.Amount, error) {
	d, err := n.decimal(v)
	if err != nil {
		return 0, err
	}
	a, err := d.Amount()
	if err == nil && (a > maxAmount || a < -maxAmount) {
		return 0, fmt.Errorf("%q is too large for an amount", v)
	}
	if err != nil {
		return 0, fmt.Errorf("%q has more than two decimals or is too large; amounts carry at most two decimals (EN 16931 BR-DEC)", v)
	}
	return a, nil
}

// format writes an amount with the file's decimal mark, for messages and the writer.
func (n numbers) format(a formats.Amount) string {
	return strings.Replace(a.String(), ".", string(n.mark), 1)
}

// formatDecimal writes a decimal with the file's decimal mark.
func (n numbers) formatDecimal(d formats.Decimal) string {
	return strings.Replace(string(d), ".", string(n.mark), 1)
}
