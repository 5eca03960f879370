package autogiro

import (
	"bytes"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// RecordLen is the fixed length of every AutoGiro record.
const RecordLen = 80

// rec is one record being read: its line, its 80 bytes (ISO-8859-1, padded
// with blanks) and the first problem found in it. Field readers record the
// first problem and return zero values after it, so a record's fields can be
// read in one go and the error checked once.
type rec struct {
	no  int
	b   []byte
	err *Error
}

func (r *rec) tk() string { return string(r.b[:2]) }

func (r *rec) fail(rule Rule, format string, args ...any) {
	if r.err == nil {
		r.err = errAt(r.no, rule, format, args...)
	}
}

// raw returns positions from..to (1-based, inclusive, as in the manual).
func (r *rec) raw(from, to int) []byte { return r.b[from-1 : to] }

// text returns an alphanumeric field without its trailing blanks.
func (r *rec) text(from, to int) string {
	return formats.DecodeLatin1(bytes.TrimRight(r.raw(from, to), " "))
}

func (r *rec) blank(from, to int) bool {
	for _, c := range r.raw(from, to) {
		if c != ' ' {
			return false
		}
	}
	return true
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

func zeros(b []byte) bool { return bytes.Count(b, []byte{'0'}) == len(b) }

// digits returns a numeric field as written; it must be all digits.
func (r *rec) digits(from, to int, what string) string {
	b := r.raw(from, to)
	if !isDigits(b) {
		r.fail(RuleField, "%s (positions %d–%d) must be %d digits, found %q", what, from, to, to-from+1, formats.DecodeLatin1(b))
		return ""
	}
	return string(b)
}

// num returns a numeric field's value.
func (r *rec) num(from, to int, what string) int64 {
	var n int64
	for _, c := range []byte(r.digits(from, to, what)) {
		n = n*10 + int64(c-'0')
	}
	return n
}

// id returns a right-aligned zero-filled number (payer number, bankgiro)
// without its leading zeros; "" when it is all zeros.
func (r *rec) id(from, to int, what string) string {
	return strings.TrimLeft(r.digits(from, to, what), "0")
}

// optID is id for a field that may also be blank.
func (r *rec) optID(from, to int, what string) string {
	if r.blank(from, to) {
		return ""
	}
	return r.id(from, to, what)
}

// optDigits returns a numeric field as written, "" when blank or all zeros.
func (r *rec) optDigits(from, to int, what string) string {
	if r.blank(from, to) || zeros(r.raw(from, to)) {
		return ""
	}
	return r.digits(from, to, what)
}

func (r *rec) amount(from, to int, what string) formats.Amount {
	return formats.Amount(r.num(from, to, what))
}

// signedAmount reads an amount whose last digit may carry a minus sign as
// the manual's "signat fält" (8.5.3) does: å J K L M N O P Q R for 0–9.
func (r *rec) signedAmount(from, to int, what string) formats.Amount {
	b := r.raw(from, to)
	last, d := b[len(b)-1], -1
	switch {
	case last == 0xE5: // å in ISO-8859-1
		d = 0
	case last >= 'J' && last <= 'R':
		d = int(last-'J') + 1
	}
	if d < 0 || !isDigits(b[:len(b)-1]) && len(b) > 1 {
		return r.amount(from, to, what)
	}
	var n int64
	for _, c := range b[:len(b)-1] {
		n = n*10 + int64(c-'0')
	}
	return -formats.Amount(n*10 + int64(d))
}

func (r *rec) date(from, to int, what string) Date {
	s := r.digits(from, to, what)
	if s == "" {
		return Date{}
	}
	d := Date{Year: atoi(s[:4]), Month: time.Month(atoi(s[4:6])), Day: atoi(s[6:8])}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
		r.fail(RuleField, "%s (positions %d–%d) is no date: %s", what, from, to, s)
	}
	return d
}

// optDate is date for a field that may be blank or zero-filled.
func (r *rec) optDate(from, to int, what string) Date {
	if r.blank(from, to) || zeros(r.raw(from, to)) {
		return Date{}
	}
	return r.date(from, to, what)
}

// period reads a period code; blank only where the manual allows it.
func (r *rec) period(pos int, blankOK bool) Period {
	c := r.b[pos-1]
	switch {
	case c == ' ' && blankOK:
		return PeriodUnspecified
	case c >= '0' && c <= '8':
		return Period(string(c))
	}
	r.fail(RuleField, "period code (position %d) must be 0–8, found %q", pos, formats.DecodeLatin1([]byte{c}))
	return ""
}

// repeats reads the number of self-renewing payments: blank or 3 digits.
func (r *rec) repeats(from, to int) int {
	if r.blank(from, to) {
		return 0
	}
	return int(r.num(from, to, "number of self-renewing payments"))
}

func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		n = n*10 + int(c-'0')
	}
	return n
}
