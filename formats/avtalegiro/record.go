package avtalegiro

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	t, err := formats.Latin1(s)
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
		if t, err := formats.Latin1(string(c)); err == nil {
			b.WriteString(t)
		}
	}
	r := []rune(strings.TrimSpace(b.String()))
	if len(r) > n {
		r = r[:n]
	}
	return strings.TrimRight(string(r), " ")
}
