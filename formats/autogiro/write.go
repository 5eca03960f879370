package autogiro

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// PaymentFile is a payment file (betalningsunderlag, manual 7.3): one
// section of withdrawals from payers (TK82) and deposits to them (TK32).
// Its WriteTo writes the records exactly as the manual lays them out; seal
// the result with Seal before it leaves.
type PaymentFile struct {
	WriteDate      Date   // the day the file is made
	CustomerNumber string // the biller's kundnummer at Bankgirot, up to 6 digits
	PayeeBankgiro  string // the biller's bankgiro; "5050-1055" or "50501055"
	Payments       []Payment
}

// MandateFile is a mandate file (medgivandeunderlag, manual 7.2): one
// section of new mandates and answers to internet-bank mandates (TK04),
// cancellations (TK03) and payer number changes (TK05).
type MandateFile struct {
	WriteDate      Date
	CustomerNumber string
	PayeeBankgiro  string
	Requests       []MandateRequest
}

// WriteTo writes the payment file: TK01 and one record per payment, 80
// characters each, ISO-8859-1, CRLF. Nothing is written when an order is
// invalid; the *Error names the order (from 1) and the rule.
func (p *PaymentFile) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	bg, err := openOrders(&buf, p.WriteDate, p.CustomerNumber, p.PayeeBankgiro)
	if err != nil {
		return 0, err
	}
	if len(p.Payments) == 0 {
		return 0, &Error{Rule: RuleEmpty, Msg: "a payment file holds at least one payment"}
	}
	for i, pm := range p.Payments {
		o := newOut(i + 1)
		pm.write(o, bg)
		if err := o.flush(&buf); err != nil {
			return 0, err
		}
	}
	return writeAll(w, buf.Bytes())
}

// CheckPayment checks one payment as WriteTo would write it into a payment
// file (manual 7.3), without the file around it: a caller can refuse one
// bad order on its own instead of learning of it when the whole file fails.
// A payee bankgiro left "" is the file's and not checked.
func CheckPayment(p Payment) error {
	o := newOut(1)
	p.write(o, "")
	if o.err != nil {
		o.err.Item = 0
		return o.err
	}
	return nil
}

// write fills a TK82 or TK32 record (manual 7.3) with the payment; bg is
// the file's payee bankgiro, "" when there is no file.
func (pm Payment) write(o *out, bg string) {
	o.code(string(pm.Type), "82", "32")
	switch {
	case pm.Immediately && !pm.Date.IsZero():
		o.fail("a payment is either immediate (GENAST) or has a date, not both")
	case pm.Immediately:
		o.text(3, 10, "GENAST", "payment date")
		if pm.Period != PeriodOnce {
			o.fail("period code %q with GENAST; an immediate payment is made once (period 0)", pm.Period)
		}
	default:
		o.date(3, 10, pm.Date, "payment date")
	}
	if len(pm.Period) != 1 || pm.Period < "0" || pm.Period > "8" {
		o.fail("period code %q: the manual's codes are 0–8", pm.Period)
	}
	o.text(11, 11, string(pm.Period), "period code")
	switch {
	case pm.Repeats < 0 || pm.Repeats > 999:
		o.fail("number of self-renewing payments %d: 1–999, or 0 for until cancelled", pm.Repeats)
	case pm.Repeats > 0 && pm.Period == PeriodOnce:
		o.fail("number of self-renewing payments %d with period 0 (once)", pm.Repeats)
	case pm.Repeats > 0:
		o.num(12, 14, fmt.Sprint(pm.Repeats), "number of self-renewing payments")
	}
	o.num(16, 31, pm.PayerNumber, "payer number")
	if pm.Amount <= 0 {
		o.fail("amount %s: a payment's amount is positive; a refund is a deposit (TK32)", pm.Amount)
	}
	o.num(32, 43, fmt.Sprint(int64(pm.Amount)), "amount")
	switch {
	case bg != "":
		o.num(44, 53, sameBankgiro(o, pm.PayeeBankgiro, bg), "payee bankgiro")
	case pm.PayeeBankgiro != "":
		o.num(44, 53, plainBankgiro(pm.PayeeBankgiro), "payee bankgiro")
	}
	o.text(54, 69, pm.Reference, "reference")
}

// WriteTo writes the mandate file: TK01 and one record per request, 80
// characters each, ISO-8859-1, CRLF. Nothing is written when a request is
// invalid; the *Error names the request (from 1) and the rule.
func (m *MandateFile) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	bg, err := openOrders(&buf, m.WriteDate, m.CustomerNumber, m.PayeeBankgiro)
	if err != nil {
		return 0, err
	}
	if len(m.Requests) == 0 {
		return 0, &Error{Rule: RuleEmpty, Msg: "a mandate file holds at least one request"}
	}
	for i, rq := range m.Requests {
		o := newOut(i + 1)
		o.code(string(rq.Type), "03", "04", "05")
		o.num(3, 12, sameBankgiro(o, rq.PayeeBankgiro, bg), "payee bankgiro")
		o.num(13, 28, rq.PayerNumber, "payer number")
		switch rq.Type {
		case MandateNew:
			if (rq.Account == "") != (rq.PersonalID == "") {
				o.fail("a mandate on a bank account gives both account and personal or organisation number; one on the payer's bankgiro neither")
			}
			if rq.Account != "" {
				o.exact(29, 44, rq.Account, "bank account (4-digit clearing number, then the account number zero-filled to 12 digits)")
				o.exact(45, 56, rq.PersonalID, "personal number (YYYYMMDDNNNN) or organisation number (00NNNNNNNNNN)")
			}
			if rq.Reject {
				o.text(77, 78, "AV", "answer")
			}
		case MandateChangePayerNumber:
			o.num(29, 38, bg, "payee bankgiro")
			o.num(39, 54, rq.NewPayerNumber, "new payer number")
		}
		if rq.Type != MandateNew && (rq.Account != "" || rq.PersonalID != "" || rq.Reject) {
			o.fail("account, personal number and AV belong to a new mandate (TK04) only")
		}
		if rq.Type != MandateChangePayerNumber && rq.NewPayerNumber != "" {
			o.fail("a new payer number belongs to a change of payer number (TK05) only")
		}
		if err := o.flush(&buf); err != nil {
			return 0, err
		}
	}
	return writeAll(w, buf.Bytes())
}

func writeAll(w io.Writer, b []byte) (int64, error) {
	n, err := w.Write(b)
	return int64(n), err
}

// openOrders writes the TK01 every file to Bankgirot opens its section with
// (7.2–7.4: write date, AUTOGIRO, 44 blanks, customer number, bankgiro, 2
// blanks) and returns the bankgiro's digits.
func openOrders(buf *bytes.Buffer, date Date, customer, bankgiro string) (string, error) {
	o := newOut(0)
	o.text(1, 2, "01", "transaction code")
	o.date(3, 10, date, "write date")
	o.text(11, 18, "AUTOGIRO", "layout name")
	o.num(63, 68, customer, "customer number")
	bg := plainBankgiro(bankgiro)
	o.num(69, 78, bg, "payee bankgiro")
	if bg == "" {
		o.fail("the payee bankgiro is required")
	}
	return bg, o.flush(buf)
}

// plainBankgiro drops the separators people write and the leading zeros.
// The check digit is not checked here: Bankgirot's own example payment file
// uses 990-2346, which fails it. Check the tenant's bankgiro when the
// configuration is read (formats.CheckBankgiro).
func plainBankgiro(s string) string {
	return strings.TrimLeft(strings.NewReplacer("-", "", " ", "").Replace(s), "0")
}

// sameBankgiro returns the file's bankgiro for a record that names none or
// the same one, and fails the record for another.
func sameBankgiro(o *out, recordBG, fileBG string) string {
	if recordBG != "" && plainBankgiro(recordBG) != fileBG {
		o.fail("payee bankgiro %s differs from the file's, %s; one file is for one bankgiro", recordBG, fileBG)
	}
	return fileBG
}

// out builds one record: 80 blanks filled field by field. The first
// problem is kept and reported by flush.
type out struct {
	item int
	b    [RecordLen]byte
	err  *Error
}

func newOut(item int) *out {
	o := &out{item: item}
	for i := range o.b {
		o.b[i] = ' '
	}
	return o
}

func (o *out) fail(format string, args ...any) {
	if o.err == nil {
		o.err = &Error{Item: o.item, Rule: RuleWriteData, Msg: fmt.Sprintf(format, args...)}
	}
}

func (o *out) code(tk string, allowed ...string) {
	for _, a := range allowed {
		if tk == a {
			o.text(1, 2, tk, "transaction code")
			return
		}
	}
	o.fail("transaction code %q: expected one of %s", tk, strings.Join(allowed, ", "))
}

// num writes digits right-aligned and zero-filled.
func (o *out) num(from, to int, digits, what string) {
	width := to - from + 1
	if !isDigits([]byte(digits)) || len(digits) > width {
		o.fail("%s %q: up to %d digits", what, digits, width)
		return
	}
	copy(o.b[from-1:to], strings.Repeat("0", width-len(digits))+digits)
}

// exact writes a numeric field that must fill its width.
func (o *out) exact(from, to int, digits, what string) {
	if len(digits) != to-from+1 {
		o.fail("%s %q: exactly %d digits", what, digits, to-from+1)
		return
	}
	o.num(from, to, digits, what)
}

func (o *out) date(from, to int, d Date, what string) {
	if !d.Valid() {
		o.fail("%s %v is no calendar day", what, d)
		return
	}
	copy(o.b[from-1:to], d.digits())
}

// text writes a string left-aligned and blank-filled, as ISO-8859-1
// (manual 6.1.4): characters ISO-8859-1 lacks are written as their
// equivalent (see Latin1), and the field's width counts characters.
func (o *out) text(from, to int, s, what string) {
	t, err := formats.Latin1(s)
	if err != nil {
		o.fail("%s %q: %v; AutoGiro text is ISO-8859-1 (manual 6.1.4)", what, s, err)
		return
	}
	enc := make([]byte, 0, len(t))
	for _, r := range t {
		enc = append(enc, byte(r))
	}
	if len(enc) > to-from+1 {
		o.fail("%s %q: at most %d characters", what, s, to-from+1)
		return
	}
	copy(o.b[from-1:to], enc)
}

func (o *out) flush(buf *bytes.Buffer) error {
	if o.err != nil {
		return o.err
	}
	buf.Write(o.b[:])
	buf.WriteString("\r\n")
	return nil
}
