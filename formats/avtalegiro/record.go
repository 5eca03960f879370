package avtalegiro

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/multikanal/multikanal/formats"
)

// recordLen is the length of every record (Systemspesifikasjon AvtaleGiro
// 1, "Justering og blanking av felter", and every record table).
const recordLen = 80

// record builds one 80-character record from its fields. Numeric fields
// are right-aligned and zero-filled, alphanumeric fields left-aligned and
// blank-filled (specification 1); a KID is the one alphanumeric field
// that is right-aligned, as Nets' examples show it.
type record struct {
	b   strings.Builder
	err error
}

func newRecord(service Service, kind, recType string) *record {
	r := &record{}
	r.b.Grow(recordLen)
	r.b.WriteString("NY" + string(service) + kind + recType)
	return r
}

// num writes digits right-aligned in width, zero-filled.
func (r *record) num(what, digits string, width int) *record {
	if !allDigits(digits) && digits != "" || len(digits) > width {
		r.fail("%s %q: %d digits at most", what, digits, width)
		digits = ""
	}
	r.b.WriteString(strings.Repeat("0", width-len(digits)) + digits)
	return r
}

// int writes a non-negative number in width digits.
func (r *record) int(what string, n int64, width int) *record {
	if n < 0 {
		r.fail("%s %d: must not be negative", what, n)
		n = 0
	}
	return r.num(what, strconv.FormatInt(n, 10), width)
}

// text writes a field left-aligned (right when right is set), blank-filled.
func (r *record) text(what, s string, width int, right bool) *record {
	t, err := latin1(s)
	if err != nil {
		r.fail("%s %q: %v", what, s, err)
		t = ""
	}
	if n := utf8.RuneCountInString(t); n > width {
		r.fail("%s %q: %d characters, the field holds %d", what, s, n, width)
		t = ""
	}
	pad := strings.Repeat(" ", width-utf8.RuneCountInString(t))
	if right {
		r.b.WriteString(pad + t)
	} else {
		r.b.WriteString(t + pad)
	}
	return r
}

// date writes DDMMYY; a zero date writes zeros.
func (r *record) date(what string, d formats.Date) *record {
	if d.IsZero() {
		r.b.WriteString("000000")
		return r
	}
	if d.Year < 1970 || d.Year > 2069 {
		r.fail("%s %s: a date in the file is DDMMYY, read as 1970-2069", what, d)
	}
	fmt.Fprintf(&r.b, "%02d%02d%02d", d.Day, int(d.Month), d.Year%100)
	return r
}

func (r *record) raw(s string) *record { r.b.WriteString(s); return r }

func (r *record) zeros(n int) *record { return r.raw(strings.Repeat("0", n)) }

func (r *record) blanks(n int) *record { return r.raw(strings.Repeat(" ", n)) }

func (r *record) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// line returns the record as UTF-8 text of exactly 80 characters.
func (r *record) line() (string, error) {
	s := r.b.String()
	if r.err == nil && utf8.RuneCountInString(s) != recordLen {
		// A layout mistake in this package, never the caller's data.
		panic(fmt.Sprintf("avtalegiro: record of %d characters: %q", utf8.RuneCountInString(s), s))
	}
	return s, r.err
}

// latin1Equivalents are the characters outside ISO-8859-1 an invoice most
// often carries, with their nearest equivalent inside it.
var latin1Equivalents = map[rune]string{
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '−': "-",
	'‘': "'", '’': "'", '‚': "'", '“': `"`, '”': `"`, '„': `"`,
	'…': "...", '€': "EUR",
}

// latin1 returns s as a text field can hold it: every ISO-8859-1 character
// as it is (æ, ø and å among them), spaces as a space, a few typographic
// characters as their plain equivalent, and a letter whose mark ISO-8859-1
// lacks without it ("Č" is "C"). A control character, or one with no
// equivalent (Chinese, an emoji), is an error naming it.
func latin1(s string) (string, error) {
	var b strings.Builder
	for i, c := range s {
		switch {
		case c == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return "", fmt.Errorf("byte 0x%02x is not UTF-8 text", s[i])
		case c == '\t' || c == '\n' || c == '\r' || c > 0xff && unicode.IsSpace(c):
			b.WriteByte(' ')
		case c < 0x20 || c >= 0x7f && c < 0xa0:
			return "", fmt.Errorf("control character U+%04X", c)
		case c <= 0xff:
			b.WriteRune(c)
		case latin1Equivalents[c] != "":
			b.WriteString(latin1Equivalents[c])
		default:
			base := []rune(norm.NFD.String(string(c)))
			if len(base) == 0 || base[0] > 0xff || base[0] < 0x20 {
				return "", fmt.Errorf("%q (U+%04X) has no ISO-8859-1 equivalent", c, c)
			}
			for _, m := range base[1:] {
				if !unicode.Is(unicode.Mn, m) {
					return "", fmt.Errorf("%q (U+%04X) has no ISO-8859-1 equivalent", c, c)
				}
			}
			b.WriteRune(base[0])
		}
	}
	return b.String(), nil
}

// encodeLatin1 turns text whose every character is ISO-8859-1 (what latin1
// returns) into its bytes.
func encodeLatin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, c := range s {
		out = append(out, byte(c))
	}
	return out
}

// decodeLatin1 turns ISO-8859-1 bytes into a Go string.
func decodeLatin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseDate reads DDMMYY; all zeros is the zero date. Two-digit years are
// 2000-2069 and 1970-1999 (Nets' oldest examples are from 1992).
func parseDate(s string) (formats.Date, bool) {
	if s == "000000" {
		return formats.Date{}, true
	}
	if len(s) != 6 || !allDigits(s) {
		return formats.Date{}, false
	}
	d, _ := strconv.Atoi(s[0:2])
	m, _ := strconv.Atoi(s[2:4])
	y, _ := strconv.Atoi(s[4:6])
	if y < 70 {
		y += 2000
	} else {
		y += 1900
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || d < 1 || t.Day() != d {
		return formats.Date{}, false
	}
	return formats.DateOf(t), true
}

// Fit returns s as a text field of n characters can always hold it: in
// ISO-8859-1 (characters with no equivalent are left out), cut to n
// characters. It is for descriptive text (a payer's short name, a line of
// the notice), where a character left out harms nobody; a reference that
// must stay as it is goes to the writer as it is and is refused there.
func Fit(s string, n int) string {
	var b strings.Builder
	for _, c := range s {
		if t, err := latin1(string(c)); err == nil {
			b.WriteString(t)
		}
	}
	r := []rune(strings.TrimSpace(b.String()))
	if len(r) > n {
		r = r[:n]
	}
	return strings.TrimRight(string(r), " ")
}
