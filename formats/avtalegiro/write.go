package avtalegiro

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

// Limits of a claim (Systemspesifikasjon AvtaleGiro 2.2, the amount items
// and the specification record).
const (
	MaxKID            = 25 // KID, positions 50-74 of amount item 1
	MaxShortName      = 10 // abbreviated name, positions 16-25 of amount item 2
	MaxReference      = 25 // external reference, positions 51-75 of amount item 2
	MaxSpecLines      = 42 // specification lines per claim
	MaxSpecLineLength = 80 // characters per specification line (two columns of 40)
	maxAmountDigits   = 17 // positions 33-49 of amount item 1
)

// CheckClaim checks one claim the way the writer will: a due date, an
// amount of more than 0 øre that fits 17 digits, a KID of 1 to 25 digits
// (a hyphen only as the last character), a short name and reference that
// ISO-8859-1 can hold within their fields, and specification lines only
// for a claim Nets notifies of. It does not check the KID's check digit:
// which method applies is the payee's agreement, which the caller knows.
func CheckClaim(c Claim) error {
	if c.Number == 0 {
		c.Number = 1
	}
	if _, err := claimRecords(c, ""); err != nil {
		return &Error{Rule: RuleWrite, Msg: err.Error()}
	}
	return nil
}

// WriteTo writes the transmission as Nets reads it: a start record, each
// assignment with its records and end record (counts, sum and first and
// last due date), an end record over the whole; ISO-8859-1 with CR LF. It
// checks every claim first and writes nothing when one is wrong: the error
// names the assignment, the claim and the rule.
func (t *Transmission) WriteTo(w io.Writer) (int64, error) {
	lines, err := t.lines()
	if err != nil {
		return 0, err
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(formats.EncodeLatin1(l))
		b.WriteString("\r\n")
	}
	return b.WriteTo(w)
}

func (t *Transmission) lines() ([]string, error) {
	recipient := t.Recipient
	if recipient == "" {
		recipient = NetsID
	}
	start, err := newRecord(ServiceNone, "00", recTransmissionStart).
		num("data sender", t.Sender, 8).num("transmission number", t.Number, 7).num("data recipient", recipient, 8).
		zeros(49).line()
	if err != nil || len(t.Sender) != 8 || len(t.Number) != 7 || len(recipient) != 8 {
		return nil, &Error{Rule: RuleWrite, Msg: fmt.Sprintf("transmission start: data sender (8 digits) %q, transmission number (7 digits) %q, data recipient (8 digits) %q: %v", t.Sender, t.Number, recipient, err)}
	}
	lines := []string{start}
	var txs int64
	var sum formats.Amount
	first := formats.Date{}
	for i := range t.Assignments {
		a := &t.Assignments[i]
		recs, n, s, f, err := a.lines(i + 1)
		if err != nil {
			return nil, err
		}
		lines = append(lines, recs...)
		txs += n
		sum += s
		if !f.IsZero() && (first.IsZero() || f.Before(first)) {
			first = f
		}
	}
	if first.IsZero() {
		first = t.Date
	}
	end, err := newRecord(ServiceNone, "00", recTransmissionEnd).
		int("transactions", txs, 8).int("records", int64(len(lines)+1), 8).int("sum", int64(sum), maxAmountDigits).
		date("date", first).zeros(33).line()
	if err != nil {
		return nil, &Error{Rule: RuleWrite, Msg: "transmission end: " + err.Error()}
	}
	return append(lines, end), nil
}

// lines writes one assignment and returns its records, its transaction
// count and sum, and its first due (or settlement) date.
func (a *Assignment) lines(no int) (recs []string, txs int64, sum formats.Amount, first formats.Date, err error) {
	where := fmt.Sprintf("assignment %d", no)
	if (a.Service != ServiceAvtaleGiro || a.Type != Claims && a.Type != Mandates && a.Type != Cancellations) &&
		(a.Service != ServiceOCRGiro || a.Type != Claims) {
		return nil, 0, 0, first, &Error{Rule: RuleWrite, Msg: fmt.Sprintf("%s: service %q with assignment type %q is none the specifications have", where, a.Service, a.Type)}
	}
	agreement := a.AgreementID
	if a.Type != Claims {
		agreement = "" // only claims and accounting data carry an agreement id
	}
	start, err := newRecord(a.Service, string(a.Type), recAssignmentStart).
		num("agreement id", agreement, 9).num("assignment number", a.Number, 7).num("assignment account", a.Account, 11).
		zeros(45).line()
	if err != nil || len(a.Number) != 7 || len(a.Account) != 11 || agreement != "" && len(agreement) != 9 {
		return nil, 0, 0, first, &Error{Rule: RuleWrite, Msg: fmt.Sprintf("%s: assignment number (7 digits) %q, account (11 digits) %q, agreement id (9 digits or none) %q: %v", where, a.Number, a.Account, agreement, err)}
	}
	recs = []string{start}
	var last, settled formats.Date
	date := func(d formats.Date) {
		if first.IsZero() || d.Before(first) {
			first = d
		}
		if last.IsZero() || last.Before(d) {
			last = d
		}
	}
	next := 0
	number := func(n int) int {
		if n == 0 {
			n = next + 1
		}
		next = n
		return n
	}
	switch {
	case a.Service == ServiceOCRGiro:
		for i, p := range a.Payments {
			p.Number = number(p.Number)
			rs, err := paymentRecords(p)
			if err != nil {
				return nil, 0, 0, first, &Error{Item: i + 1, Rule: RuleWrite, Msg: where + ": " + err.Error()}
			}
			recs = append(recs, rs...)
			txs++
			sum += p.Amount
			date(p.Settled)
			settled = p.Settled
		}
	case a.Type == Mandates:
		for i, m := range a.Mandates {
			m.Number = number(m.Number)
			notice := "N"
			if m.Notice {
				notice = "J"
			}
			r, err := newRecord(ServiceAvtaleGiro, txMandate, recMandate).
				int("transaction number", int64(m.Number), 7).int("registration type", int64(m.Registration), 1).
				text("KID", m.KID, MaxKID, true).raw(notice).zeros(38).line()
			if err == nil && (m.Registration < RegisteredAll || m.Registration > RegisteredDeleted || !kidLike(m.KID)) {
				err = fmt.Errorf("registration type %d (0-2) with KID %q", m.Registration, m.KID)
			}
			if err != nil {
				return nil, 0, 0, first, &Error{Item: i + 1, Rule: RuleWrite, Msg: where + ": mandate: " + err.Error()}
			}
			recs = append(recs, r)
			txs++
		}
	default:
		tx := ""
		if a.Type == Cancellations {
			tx = txCancellation
		}
		for i, c := range a.Claims {
			c.Number = number(c.Number)
			rs, err := claimRecords(c, tx)
			if err != nil {
				return nil, 0, 0, first, &Error{Item: i + 1, Rule: RuleWrite, Msg: where + ": " + err.Error()}
			}
			recs = append(recs, rs...)
			txs++
			sum += c.Amount
			date(c.Due)
		}
	}
	end := newRecord(a.Service, string(a.Type), recAssignmentEnd).int("transactions", txs, 8).int("records", int64(len(recs)+1), 8)
	switch {
	case a.Type == Mandates:
		end.zeros(56)
	case a.Service == ServiceOCRGiro:
		end.int("sum", int64(sum), maxAmountDigits).date("settlement date", settled).date("first date", first).date("last date", last).zeros(21)
	default:
		end.int("sum", int64(sum), maxAmountDigits).date("first due date", first).date("last due date", last).zeros(27)
	}
	r, err := end.line()
	if err != nil {
		return nil, 0, 0, first, &Error{Rule: RuleWrite, Msg: where + ": end record: " + err.Error()}
	}
	if a.Service == ServiceOCRGiro {
		first = settled
	}
	return append(recs, r), txs, sum, first, nil
}

// claimRecords writes amount items 1 and 2 of a claim and its
// specification records. tx is the transaction type to write, or "" for
// the claim's own (02 or 21, from its notice).
func claimRecords(c Claim, tx string) ([]string, error) {
	what := fmt.Sprintf("transaction %d", c.Number)
	if tx == "" {
		tx = txNetsNotice
		if c.Notice == NoticeByPayee {
			tx = txPayeeNotice
		}
	}
	switch {
	case c.Notice != NoticeByNets && c.Notice != NoticeByPayee:
		return nil, fmt.Errorf("%s: unknown notice %d", what, c.Notice)
	case c.Due.IsZero():
		return nil, fmt.Errorf("%s: no due date", what)
	case c.Amount <= 0:
		return nil, fmt.Errorf("%s: amount %s øre: AvtaleGiro withdraws an amount of more than 0", what, c.Amount)
	case !kidLike(c.KID):
		return nil, fmt.Errorf("%s: KID %q: 1 to 25 digits are needed, a hyphen only as the (modulus 11) check digit", what, c.KID)
	case len(c.Specification) > 0 && (tx != txNetsNotice || c.Notice == NoticeByPayee):
		return nil, fmt.Errorf("%s: specification lines are the text of Nets' notice; a claim the payee notifies of carries none", what)
	case len(c.Specification) > MaxSpecLines:
		return nil, fmt.Errorf("%s: %d specification lines, Nets' notice holds %d", what, len(c.Specification), MaxSpecLines)
	}
	one, err := newRecord(ServiceAvtaleGiro, tx, recAmount1).int("transaction number", int64(c.Number), 7).
		date("due date", c.Due).blanks(11).int("amount", int64(c.Amount), maxAmountDigits).
		text("KID", c.KID, MaxKID, true).zeros(6).line()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	two, err := newRecord(ServiceAvtaleGiro, tx, recAmount2).int("transaction number", int64(c.Number), 7).
		text("short name", c.ShortName, MaxShortName, false).blanks(25).
		text("external reference", c.Reference, MaxReference, false).zeros(5).line()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	recs := []string{one, two}
	for i, l := range c.Specification {
		t, err := formats.Latin1(strings.TrimRight(l, " \r\n"))
		if err == nil && utf8.RuneCountInString(t) > MaxSpecLineLength {
			err = fmt.Errorf("%d characters, a line holds %d", utf8.RuneCountInString(t), MaxSpecLineLength)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: specification line %d %q: %w", what, i+1, l, err)
		}
		r := []rune(t + strings.Repeat(" ", MaxSpecLineLength-utf8.RuneCountInString(t)))
		for col := 1; col <= 2; col++ {
			rec, err := newRecord(ServiceAvtaleGiro, tx, recSpecification).int("transaction number", int64(c.Number), 7).
				raw("4").int("line", int64(i+1), 3).int("column", int64(col), 1).
				raw(string(r[(col-1)*40 : col*40])).zeros(20).line()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// paymentRecords writes amount items 1, 2 (and 3) of an OCR giro payment.
// Only the fields Payment carries are written; the clearing fields (centre,
// day code, partial settlement) are zeros.
func paymentRecords(p Payment) ([]string, error) {
	what := fmt.Sprintf("transaction %d", p.Number)
	if len(p.Type) != 2 || !allDigits(p.Type) || p.Type < "10" || p.Type > "21" {
		return nil, fmt.Errorf("%s: OCR giro transaction type %q is none of 10-21", what, p.Type)
	}
	if p.Settled.IsZero() {
		return nil, fmt.Errorf("%s: no settlement date", what)
	}
	sign, amount := "0", p.Amount
	if amount < 0 {
		sign, amount = "-", -amount
	}
	one, err := newRecord(ServiceOCRGiro, p.Type, recAmount1).int("transaction number", int64(p.Number), 7).
		date("settlement date", p.Settled).zeros(10).raw(sign).int("amount", int64(amount), maxAmountDigits).
		text("KID", p.KID, MaxKID, true).zeros(6).line()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	two, err := newRecord(ServiceOCRGiro, p.Type, recAmount2).int("transaction number", int64(p.Number), 7).
		zeros(10).num("archive reference", p.ArchiveRef, 9).zeros(7).date("bank date", p.BankDate).
		num("debit account", p.DebitAccount, 11).zeros(22).line()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	recs := []string{one, two}
	if p.Type == "20" || p.Type == "21" {
		three, err := newRecord(ServiceOCRGiro, p.Type, recAmount3).int("transaction number", int64(p.Number), 7).
			text("text", p.Text, 40, false).zeros(25).line()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		recs = append(recs, three)
	}
	return recs, nil
}

// kidLike reports whether s can stand in a KID field: 1 to 25 digits, the
// last one possibly a hyphen.
func kidLike(s string) bool {
	if s == "" || len(s) > MaxKID {
		return false
	}
	body := s[:len(s)-1]
	last := s[len(s)-1]
	return (body == "" || allDigits(body)) && (last >= '0' && last <= '9' || last == '-' && body != "")
}
