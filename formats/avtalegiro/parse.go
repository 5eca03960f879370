package avtalegiro

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

// MaxFileSize is the largest file Parse reads: 64 MiB is some 800,000
// records, far more than one payee's transmission.
const MaxFileSize = 64 << 20

// Sniff reports whether the start of a file looks like a transmission of
// the OCR giro family: the start record "NY000010".
func Sniff(head []byte) bool {
	return bytes.HasPrefix(head, []byte("NY000010"))
}

// Parse reads a whole transmission: the payee's claim or cancellation
// file, Nets' mandate notifications or OCR giro accounting data. It
// returns the transmission, or an *Error naming the line and the rule;
// every end record's counts and sums are checked against what was read.
func Parse(r io.Reader) (*Transmission, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("avtalegiro: reading: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Rule: RuleSize, Msg: fmt.Sprintf("the file is larger than %d MiB", MaxFileSize>>20)}
	}
	lines, err := split(data)
	if err != nil {
		return nil, err
	}
	p := &parser{lines: lines}
	return p.transmission()
}

// split cuts the file into records: CR LF or LF ends, trailing empty lines
// ignored; every record 80 ISO-8859-1 characters without control
// characters.
func split(data []byte) ([][]byte, error) {
	if bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return nil, errAt(1, RuleEncoding, "the file starts with a byte-order mark; AvtaleGiro files are ISO-8859-1 without one: save it as ISO-8859-1 (Latin-1)")
	}
	raw := bytes.Split(data, []byte{'\n'})
	for len(raw) > 0 && len(bytes.TrimRight(raw[len(raw)-1], "\r\x1a")) == 0 {
		raw = raw[:len(raw)-1]
	}
	if len(raw) == 0 {
		return nil, errAt(0, RuleKind, "the file is empty")
	}
	lines := make([][]byte, len(raw))
	for i, l := range raw {
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(l) != recordLen {
			if utf8.Valid(l) && utf8.RuneCount(l) == recordLen {
				return nil, errAt(i+1, RuleEncoding, "the record is 80 characters of UTF-8 (%d bytes); AvtaleGiro files are ISO-8859-1: convert it, for example with iconv -f UTF-8 -t ISO-8859-1", len(l))
			}
			return nil, errAt(i+1, RuleLength, "the record has %d characters; every record has 80", len(l))
		}
		for j, c := range l {
			if c < 0x20 || c >= 0x7f && c < 0xa0 {
				return nil, errAt(i+1, RuleEncoding, "control byte 0x%02x at position %d; records are ISO-8859-1 text", c, j+1)
			}
		}
		lines[i] = l
	}
	return lines, nil
}

type parser struct {
	lines [][]byte
	i     int // index of the current line
}

// f returns a field of the current record by the positions the
// specification numbers from 1: f(9, 15) is positions 9 to 15. text is a
// text field, decoded and without its trailing blanks.
func (p *parser) f(from, to int) string { return string(p.lines[p.i][from-1 : to]) }
func (p *parser) text(from, to int) string {
	return strings.TrimRight(formats.DecodeLatin1(p.lines[p.i][from-1:to]), " ")
}
func (p *parser) no() int         { return p.i + 1 }
func (p *parser) recType() string { return p.f(7, 8) }

func (p *parser) errf(rule Rule, format string, args ...any) *Error {
	return errAt(p.no(), rule, format, args...)
}

// digits reads a numeric field.
func (p *parser) digits(what string, from, to int) (string, error) {
	s := p.f(from, to)
	if !allDigits(s) {
		return "", p.errf(RuleField, "%s (positions %d-%d) is %q, not digits", what, from, to, s)
	}
	return s, nil
}

func (p *parser) number(what string, from, to int) (int64, error) {
	s, err := p.digits(what, from, to)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n, nil
}

func (p *parser) date(what string, from int, required bool) (formats.Date, error) {
	s := p.f(from, from+5)
	d, ok := parseDate(s)
	if !ok || required && d.IsZero() {
		return d, p.errf(RuleField, "%s (positions %d-%d) is %q, not a date DDMMYY", what, from, from+5, s)
	}
	return d, nil
}

func (p *parser) kid(from, to int, required bool) (string, error) {
	k := strings.TrimLeft(p.text(from, to), " ")
	if k == "" && !required || kidLike(k) {
		return k, nil
	}
	return "", p.errf(RuleField, "KID (positions %d-%d) is %q: digits, right-aligned, a hyphen only as the last", from, to, p.f(from, to))
}

func (p *parser) transmission() (*Transmission, error) {
	if !bytes.HasPrefix(p.lines[0], []byte("NY")) {
		return nil, p.errf(RuleKind, "the file does not start with a record of Nets' format NY (it starts %q): it is no AvtaleGiro or OCR giro file", p.f(1, 8))
	}
	if p.f(1, 8) != "NY000010" {
		return nil, p.errf(RuleOrder, "the first record is %q; a transmission starts with its start record NY000010", p.f(1, 8))
	}
	t := &Transmission{}
	var err error
	if t.Sender, err = p.digits("data sender", 9, 16); err != nil {
		return nil, err
	}
	if t.Number, err = p.digits("transmission number", 17, 23); err != nil {
		return nil, err
	}
	if t.Recipient, err = p.digits("data recipient", 24, 31); err != nil {
		return nil, err
	}
	var txs int64
	var sum formats.Amount
	for p.i++; p.i < len(p.lines); p.i++ {
		if !bytes.HasPrefix(p.lines[p.i], []byte("NY")) {
			return nil, p.errf(RuleRecord, "the record starts %q; every record starts with the format code NY", p.f(1, 2))
		}
		switch p.recType() {
		case recAssignmentStart:
			a, n, s, err := p.assignment()
			if err != nil {
				return nil, err
			}
			t.Assignments = append(t.Assignments, *a)
			txs += n
			sum += s
		case recTransmissionEnd:
			if p.f(1, 8) != "NY000089" {
				return nil, p.errf(RuleRecord, "transmission end record %q: it is NY000089", p.f(1, 8))
			}
			if p.i != len(p.lines)-1 {
				return nil, errAt(p.no()+1, RuleOrder, "a record after the transmission's end record")
			}
			if err := p.checkEnd("transmission", txs, int64(len(p.lines)), sum, true); err != nil {
				return nil, err
			}
			if t.Date, err = p.date("date", 42, false); err != nil {
				return nil, err
			}
			return t, nil
		default:
			return nil, p.errf(RuleOrder, "a record of type %s outside an assignment: after the start record come assignments (record type 20) and the end record (89)", p.recType())
		}
	}
	return nil, errAt(len(p.lines), RuleOrder, "the transmission has no end record NY000089: the file is cut short")
}

// checkEnd compares an end record's counts (and sum) with what was read.
func (p *parser) checkEnd(what string, txs, recs int64, sum formats.Amount, withSum bool) error {
	n, err := p.number("number of transactions", 9, 16)
	if err != nil {
		return err
	}
	if n != txs {
		return p.errf(RuleCount, "the %s end record counts %d transactions; %d were read", what, n, txs)
	}
	if n, err = p.number("number of records", 17, 24); err != nil {
		return err
	}
	if n != recs {
		return p.errf(RuleCount, "the %s end record counts %d records; %d were read", what, n, recs)
	}
	if !withSum {
		return nil
	}
	if n, err = p.number("sum", 25, 41); err != nil {
		return err
	}
	if formats.Amount(n) != sum {
		return p.errf(RuleSum, "the %s end record's sum is %s; the amounts read add up to %s", what, formats.Amount(n), sum)
	}
	return nil
}

// assignment reads from an assignment's start record to its end record
// and returns it with its transaction count and sum.
func (p *parser) assignment() (*Assignment, int64, formats.Amount, error) {
	a := &Assignment{Service: Service(p.f(3, 4)), Type: AssignmentType(p.f(5, 6))}
	startLine := p.i
	switch {
	case a.Service == ServiceAvtaleGiro && (a.Type == Claims || a.Type == Mandates || a.Type == Cancellations):
	case a.Service == ServiceOCRGiro && a.Type == Claims:
	default:
		return nil, 0, 0, p.errf(RuleRecord, "assignment start %q: service %s with assignment type %s is none AvtaleGiro (21: 00 claims, 24 mandates, 36 cancellations) or OCR giro (09: 00) has", p.f(1, 8), a.Service, a.Type)
	}
	var err error
	if a.AgreementID, err = p.digits("agreement id", 9, 17); err != nil {
		return nil, 0, 0, err
	}
	if a.AgreementID == "000000000" {
		a.AgreementID = ""
	}
	if a.Number, err = p.digits("assignment number", 18, 24); err != nil {
		return nil, 0, 0, err
	}
	if a.Account, err = p.digits("assignment account", 25, 35); err != nil {
		return nil, 0, 0, err
	}
	var txs int64
	var sum formats.Amount
	for p.i++; p.i < len(p.lines); p.i++ {
		if !bytes.HasPrefix(p.lines[p.i], []byte("NY")) {
			return nil, 0, 0, p.errf(RuleRecord, "the record starts %q; every record starts with the format code NY", p.f(1, 2))
		}
		if p.recType() == recAssignmentEnd {
			if p.f(1, 8) != "NY"+string(a.Service)+string(a.Type)+recAssignmentEnd {
				return nil, 0, 0, p.errf(RuleRecord, "assignment end record %q does not match its start record (service %s, type %s)", p.f(1, 8), a.Service, a.Type)
			}
			if err := p.checkEnd("assignment", txs, int64(p.i-startLine+1), sum, a.Type != Mandates); err != nil {
				return nil, 0, 0, err
			}
			if a.Type != Mandates {
				dates := []*formats.Date{&a.FirstDate, &a.LastDate}
				if a.Service == ServiceOCRGiro {
					dates = []*formats.Date{&a.SettlementDate, &a.FirstDate, &a.LastDate}
				}
				for i, d := range dates {
					if *d, err = p.date("date", 42+6*i, false); err != nil {
						return nil, 0, 0, err
					}
				}
			}
			return a, txs, sum, nil
		}
		if p.f(3, 4) != string(a.Service) {
			return nil, 0, 0, p.errf(RuleRecord, "a record of service %s inside an assignment of service %s", p.f(3, 4), a.Service)
		}
		switch {
		case a.Service == ServiceOCRGiro:
			pay, err := p.payment()
			if err != nil {
				return nil, 0, 0, err
			}
			a.Payments = append(a.Payments, *pay)
			sum += pay.Amount
		case a.Type == Mandates:
			m, err := p.mandate()
			if err != nil {
				return nil, 0, 0, err
			}
			a.Mandates = append(a.Mandates, *m)
		default:
			c, err := p.claim(a.Type)
			if err != nil {
				return nil, 0, 0, err
			}
			a.Claims = append(a.Claims, *c)
			sum += c.Amount
		}
		txs++
	}
	return nil, 0, 0, errAt(len(p.lines), RuleOrder, "the assignment that starts at line %d has no end record (type 88)", startLine+1)
}

// expect checks the current record's record and transaction type.
func (p *parser) expect(recType string, txTypes ...string) error {
	if p.recType() != recType {
		return p.errf(RuleOrder, "a record of type %s where the specification has type %s", p.recType(), recType)
	}
	tx := p.f(5, 6)
	for _, t := range txTypes {
		if tx == t {
			return nil
		}
	}
	return p.errf(RuleRecord, "transaction type %s; this assignment has %s", tx, strings.Join(txTypes, " or "))
}

// next moves to the next record of the same transaction, or reports that
// the transaction is cut short.
func (p *parser) next(tx string, number int64, recType string) error {
	p.i++
	if p.i >= len(p.lines) {
		return errAt(len(p.lines), RuleOrder, "the file ends inside transaction %d", number)
	}
	if err := p.expect(recType, tx); err != nil {
		return err
	}
	n, err := p.number("transaction number", 9, 15)
	if err == nil && n != number {
		err = p.errf(RuleOrder, "a record of transaction %d where transaction %d goes on", n, number)
	}
	return err
}

func (p *parser) claim(kind AssignmentType) (*Claim, error) {
	types := []string{txNetsNotice, txPayeeNotice}
	if kind == Cancellations {
		types = []string{txCancellation}
	}
	if err := p.expect(recAmount1, types...); err != nil {
		return nil, err
	}
	tx := p.f(5, 6)
	c := &Claim{Notice: NoticeByNets}
	if tx == txPayeeNotice {
		c.Notice = NoticeByPayee
	}
	n, err := p.number("transaction number", 9, 15)
	if err != nil {
		return nil, err
	}
	c.Number = int(n)
	if c.Due, err = p.date("due date", 16, true); err != nil {
		return nil, err
	}
	amount, err := p.number("amount", 33, 49)
	if err != nil {
		return nil, err
	}
	c.Amount = formats.Amount(amount)
	if c.KID, err = p.kid(50, 74, true); err != nil {
		return nil, err
	}
	if err := p.next(tx, n, recAmount2); err != nil {
		return nil, err
	}
	c.ShortName = p.text(16, 25)
	c.Reference = p.text(51, 75)
	for p.i+1 < len(p.lines) && string(p.lines[p.i+1][6:8]) == recSpecification {
		if err := p.next(tx, n, recSpecification); err != nil {
			return nil, err
		}
		if tx != txNetsNotice {
			return nil, p.errf(RuleRecord, "a specification record in a transaction of type %s; only claims Nets notifies of (21) carry one", tx)
		}
		line, err := p.number("line number", 17, 19)
		if err != nil {
			return nil, err
		}
		col, err := p.number("column", 20, 20)
		if err != nil {
			return nil, err
		}
		if p.f(16, 16) != "4" || line < 1 || line > MaxSpecLines || col < 1 || col > 2 {
			return nil, p.errf(RuleField, "specification record: notice code %q (4), line %d (1-%d), column %d (1-2)", p.f(16, 16), line, MaxSpecLines, col)
		}
		for int64(len(c.Specification)) < line {
			c.Specification = append(c.Specification, "")
		}
		cur := []rune(c.Specification[line-1] + strings.Repeat(" ", MaxSpecLineLength))[:MaxSpecLineLength]
		copy(cur[(col-1)*40:], []rune(formats.DecodeLatin1(p.lines[p.i][20:60])))
		c.Specification[line-1] = strings.TrimRight(string(cur), " ")
	}
	return c, nil
}

func (p *parser) mandate() (*Mandate, error) {
	if err := p.expect(recMandate, txMandate); err != nil {
		return nil, err
	}
	n, err := p.number("transaction number", 9, 15)
	if err != nil {
		return nil, err
	}
	m := &Mandate{Line: p.no(), Number: int(n)}
	switch p.f(16, 16) {
	case "0", "1", "2":
		m.Registration = Registration(p.f(16, 16)[0] - '0')
	default:
		return nil, p.errf(RuleField, "registration type (position 16) is %q: 0 (all mandates), 1 (new or changed) or 2 (deleted)", p.f(16, 16))
	}
	if m.KID, err = p.kid(17, 41, true); err != nil {
		return nil, err
	}
	switch p.f(42, 42) {
	case "J":
		m.Notice = true
	case "N":
	default:
		return nil, p.errf(RuleField, "written notice (position 42) is %q: J (the payer wants a notice) or N", p.f(42, 42))
	}
	return m, nil
}

func (p *parser) payment() (*Payment, error) {
	tx := p.f(5, 6)
	if !allDigits(tx) || tx < "10" || tx > "21" {
		return nil, p.errf(RuleRecord, "OCR giro transaction type %q is none of 10-21", tx)
	}
	if err := p.expect(recAmount1, tx); err != nil {
		return nil, err
	}
	n, err := p.number("transaction number", 9, 15)
	if err != nil {
		return nil, err
	}
	pay := &Payment{Line: p.no(), Number: int(n), Type: tx}
	if pay.Settled, err = p.date("settlement date", 16, true); err != nil {
		return nil, err
	}
	amount, err := p.number("amount", 33, 49)
	if err != nil {
		return nil, err
	}
	switch p.f(32, 32) {
	case "0":
		pay.Amount = formats.Amount(amount)
	case "-":
		pay.Amount = -formats.Amount(amount)
	default:
		return nil, p.errf(RuleField, "sign (position 32) is %q: 0 or -", p.f(32, 32))
	}
	if pay.KID, err = p.kid(50, 74, false); err != nil {
		return nil, err
	}
	if err := p.next(tx, n, recAmount2); err != nil {
		return nil, err
	}
	if pay.ArchiveRef, err = p.digits("archive reference", 26, 34); err != nil {
		return nil, err
	}
	if pay.BankDate, err = p.date("bank date", 42, false); err != nil {
		return nil, err
	}
	if pay.DebitAccount, err = p.digits("debit account", 48, 58); err != nil {
		return nil, err
	}
	// All zeros means none given; otherwise the digits stand as they are
	// (a Norwegian account number may start with 0).
	pay.ArchiveRef, pay.DebitAccount = noneIfZeros(pay.ArchiveRef), noneIfZeros(pay.DebitAccount)
	if tx == "20" || tx == "21" {
		if err := p.next(tx, n, recAmount3); err != nil {
			return nil, err
		}
		pay.Text = p.text(16, 55)
	}
	return pay, nil
}

func noneIfZeros(s string) string {
	if strings.Trim(s, "0") == "" {
		return ""
	}
	return s
}
