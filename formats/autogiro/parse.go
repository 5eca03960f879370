package autogiro

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// MaxFileSize is the largest file Parse reads: far above any AutoGiro file
// (a million records is 82 MB), low enough that a wrong file cannot exhaust
// memory.
const MaxFileSize = 128 << 20

// maxPreface is how many lines of free text and blank lines may come before
// the first record. Real files from Bankgirot have none; Bankgirot's
// published example files open with a title line and blank lines (one with
// a column ruler), and tests and people feed those in.
const maxPreface = 10

// Parse reads a whole AutoGiro file and returns it complete and checked, or
// an *Error naming the line and the rule that failed; it never returns part
// of a file.
//
// The file must be ISO-8859-1 (manual 6.1.4): a byte-order mark, UTF-8
// text and lines ended by CR alone are refused as such (RuleEncoding)
// rather than read as garbled text. It is recognised by its first record,
// after at most 10 lines of free text or blank space (see Sniff). Every record must be at most 80
// characters once trailing blanks and tabs are removed (shorter records are
// padded: files often lose their trailing blanks on the way) and hold no
// control characters. Blank lines may follow the last record, not sit
// between records. Each record's transaction code must belong to the file's
// kind; each section's closing record must agree with the counts and sums
// of the records read, and each record for a payee bankgiro must name its
// section's. Reserve fields are not checked: Bankgirot's own examples fill
// some of them. A sealed file (TK00 first, TK99 last) is read without its
// seal records; checking the seal is VerifySeal's, which needs the key.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("autogiro: reading the file: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Rule: RuleSize, Msg: fmt.Sprintf("the file is larger than %d bytes; no AutoGiro file is", MaxFileSize)}
	}
	if err := checkEncoding(data); err != nil {
		return nil, err
	}
	lines := splitLines(data)
	start, err := firstRecord(lines)
	if err != nil {
		return nil, err
	}
	end := len(lines)
	for end > start && isBlank(lines[end-1]) {
		end--
	}
	recs := make([]*rec, 0, end-start)
	for i := start; i < end; i++ {
		r, err := record(i+1, lines[i])
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	if recs, err = unseal(recs); err != nil {
		return nil, err
	}
	kind, _, err := detect(recs[0])
	if err != nil {
		return nil, err
	}
	p := parsers[kind]
	f := &File{Kind: kind}
	if err := p(f, recs); err != nil {
		return nil, err
	}
	if len(f.Sections) > 0 {
		s := f.Sections[0]
		f.WriteDate, f.CustomerNumber, f.PayeeBankgiro = s.WriteDate, s.CustomerNumber, s.PayeeBankgiro
	}
	return f, nil
}

// unseal drops the seal records TK00 and TK99 around a sealed file (one of
// ours read back, or a biller's order file), so it reads like any other.
// The seal itself is VerifySeal's to check: Parse has no key.
func unseal(recs []*rec) ([]*rec, error) {
	if !isTK00(recs[0].b) {
		return recs, nil
	}
	last := recs[len(recs)-1]
	if len(recs) < 3 || last.tk() != "99" {
		return nil, errAt(last.no, RuleSeal, "the file opens with a seal record TK00 but does not end with a seal record TK99 after its content")
	}
	return recs[1 : len(recs)-1], nil
}

// Sniff reports whether head, the first bytes of a file, is an AutoGiro
// file: after at most 10 lines of free text or blank space, an opening
// record of one of the kinds Parse reads (or of the old layout, which Parse
// then refuses with a message that says so), a mandate register record, or
// a seal record TK00. It looks through a byte-order mark, UTF-16 and
// CR-only line ends, so that Parse can refuse such a file saying what is
// wrong with it instead of the file passing for something else.
func Sniff(head []byte) bool {
	lines := splitLines(sniffable(head))
	start, err := firstRecord(lines)
	if err != nil {
		return false
	}
	line := bytes.TrimRight(lines[start], " \t")
	if len(line) > RecordLen {
		return false
	}
	r := &rec{no: start + 1, b: pad(line)}
	if isTK00(r.b) {
		return true
	}
	_, ok, _ := detect(r)
	return ok
}

// SniffOrders reports whether head, the first bytes of a file, is a
// biller's order file to Bankgirot (betalningsunderlag, medgivandeunderlag,
// makulerings- och ändringsunderlag; sealed or not): what Bankgirot
// receives, not one of the files it sends back. Parse tells which orders
// it holds.
func SniffOrders(head []byte) bool {
	lines := splitLines(sniffable(head))
	start, err := firstRecord(lines)
	if err != nil {
		return false
	}
	line := bytes.TrimRight(lines[start], " \t")
	if isTK00(line) && start+1 < len(lines) {
		line = bytes.TrimRight(lines[start+1], " \t")
	}
	if len(line) > RecordLen {
		return false
	}
	kind, _, err := detect(&rec{no: start + 1, b: pad(line)})
	return err == nil && kind == KindPaymentOrders
}

// sniffable undoes what checkEncoding refuses, for recognition only: it
// drops a UTF-8 byte-order mark, reads UTF-16 by its low bytes and splits
// at CR alone when the head has no LF.
func sniffable(head []byte) []byte {
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		head = head[3:]
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		low := 2 // little-endian: the ASCII byte comes first
		if head[0] == 0xfe {
			low = 3
		}
		b := make([]byte, 0, len(head)/2)
		for i := low; i < len(head); i += 2 {
			b = append(b, head[i])
		}
		head = b
	}
	if bytes.IndexByte(head, '\n') < 0 {
		head = bytes.ReplaceAll(head, []byte{'\r'}, []byte{'\n'})
	}
	return head
}

// splitLines splits at LF and drops a CR before it. A final line without a
// line end counts; the empty piece after a final LF does not.
func splitLines(data []byte) [][]byte {
	lines := bytes.Split(data, []byte{'\n'})
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte{'\r'})
	}
	return lines
}

func isBlank(l []byte) bool { return len(bytes.Trim(l, " \t\r")) == 0 }

// firstRecord finds the first line that starts with two digits, as every
// record does, skipping the examples' title and blank lines.
func firstRecord(lines [][]byte) (int, error) {
	for i, l := range lines {
		if len(l) >= 2 && isDigits(l[:2]) {
			return i, nil
		}
		if i+1 >= maxPreface {
			break
		}
	}
	if len(lines) == 0 || len(bytes.TrimSpace(bytes.Join(lines, nil))) == 0 {
		return 0, &Error{Rule: RuleEmpty, Msg: "the file is empty"}
	}
	return 0, &Error{Rule: RuleKind, Msg: fmt.Sprintf("no AutoGiro record in the first %d lines: every record starts with a two-digit transaction code", maxPreface)}
}

// record checks one physical line and pads it to 80 characters.
func record(no int, line []byte) (*rec, error) {
	if isBlank(line) {
		return nil, errAt(no, RuleOrder, "blank line between records; only the end of a file may be blank")
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) > RecordLen {
		return nil, errAt(no, RuleLength, "record is %d characters, a record has %d", len(line), RecordLen)
	}
	for i, c := range line {
		switch {
		case c == '\r':
			return nil, errAt(no, RuleEncoding, "a CR without LF at position %d ends a line inside the record; records end with CR LF (manual 6.1.4)", i+1)
		case c >= 0x80 && c < 0xa0:
			return nil, errAt(no, RuleChar, "control character 0x%02x at position %d; records are ISO-8859-1 text (manual 6.1.4), and 0x%02x is a character only in Windows-1252: save the file as ISO-8859-1", c, i+1, c)
		case c < 0x20 || c == 0x7f:
			return nil, errAt(no, RuleChar, "control character 0x%02x at position %d; records are ISO-8859-1 text", c, i+1)
		}
	}
	return &rec{no: no, b: pad(line)}, nil
}

func pad(line []byte) []byte {
	b := make([]byte, RecordLen)
	copy(b, line)
	for i := len(line); i < RecordLen; i++ {
		b[i] = ' '
	}
	return b
}

// reportContents maps the content field of a new-layout report's opening
// record (positions 45–64) to its kind.
var reportContents = map[string]FileKind{
	"BET. SPEC & STOPP TK": KindPaymentSpecification,
	"AG-MEDAVI":            KindMandateAdvice,
	"AVVISADE BET UPPDR":   KindRejectedPayments,
	"MAKULERING/ÄNDRING":   KindAmendments,
}

// detect tells the file's kind from its first record. ok is true when the
// record is AutoGiro's even if Parse cannot read it (the old layout).
func detect(r *rec) (kind FileKind, ok bool, err error) {
	switch r.tk() {
	case "01":
		switch {
		case r.text(3, 22) == "AUTOGIRO" && r.blank(23, 24):
			if k, found := reportContents[r.text(45, 64)]; found {
				return k, true, nil
			}
			return 0, true, errAt(r.no, RuleKind, "opening record names %q, not a report this package reads (%s)", r.text(45, 64), "BET. SPEC & STOPP TK, AG-MEDAVI, AVVISADE BET UPPDR, MAKULERING/ÄNDRING")
		case r.text(3, 22) == "BGMAX":
			return KindBgMax, true, nil
		case isDigits(r.raw(3, 10)) && string(r.raw(11, 18)) == "AUTOGIRO":
			switch {
			case r.blank(19, 62):
				return KindPaymentOrders, true, nil // the sections tell which orders
			case string(r.raw(19, 22)) == "9900" && r.text(23, 35) == "BEVAKNINGSREG":
				return KindPaymentRegister, true, nil
			case string(r.raw(19, 22)) == "9900":
				return 0, true, errAt(r.no, RuleKind, "this is a file in Bankgirot's old layout (manual chapter 9); ask Bankgirot to send the new layout")
			}
		}
	case "51":
		if r.text(25, 44) == "AG-EMEDGIV" {
			return KindInternetMandates, true, nil
		}
	}
	if isRegisterRecord(r) {
		return KindMandateRegister, true, nil
	}
	return 0, false, errAt(r.no, RuleKind, "not the opening record of an AutoGiro file in the new layout: %q", r.text(1, 40))
}

type parser func(f *File, recs []*rec) error

var parsers map[FileKind]parser

func init() {
	parsers = map[FileKind]parser{
		KindPaymentSpecification: reportParser(specRecord, specClosing),
		KindMandateAdvice:        reportParser(adviceRecord, adviceClosing),
		KindRejectedPayments:     reportParser(rejectedRecord, rejectedClosing),
		KindAmendments:           reportParser(amendmentReportRecord, amendmentsClosing),
		KindPaymentRegister:      reportParser(registerPaymentRecord, paymentRegisterClosing),
		KindPaymentOrders:        parseOrders,
		KindInternetMandates:     parseInternetMandates,
		KindMandateRegister:      parseMandateRegister,
		KindBgMax:                parseBgMax,
	}
}

// addSection appends a section and its records to the file, keeping
// File.Records and the sections' Records views of one slice. A view is
// capped at its length so that a later append cannot write into it.
func (f *File) addSection(s Section) {
	at := len(f.Records)
	f.Records = append(f.Records, s.Records...)
	s.Records = f.Records[at:len(f.Records):len(f.Records)]
	f.Sections = append(f.Sections, s)
}

// reportOpening reads the opening record of a new-layout report (manual
// 8.2.2 and alike): layout 3–22, date or time stamp 25–44, content 45–64,
// customer number 65–70, bankgiro 71–80; the payment register's differs
// (8.7).
func reportOpening(r *rec, kind FileKind) Section {
	s := Section{LineNo: r.no, Kind: kind}
	if kind == KindPaymentRegister {
		s.WriteDate = r.date(3, 10, "write date").Time()
		s.CustomerNumber = r.digits(63, 68, "customer number")
		s.PayeeBankgiro = r.id(69, 78, "payee bankgiro")
		return s
	}
	d := r.date(25, 32, "write date")
	s.WriteDate = d.Time()
	if isDigits(r.raw(33, 38)) { // the payment specification's time stamp
		hms := atoi(string(r.raw(33, 38)))
		s.WriteDate = time.Date(d.Year, d.Month, d.Day, hms/10000, hms/100%100, hms%100, 0, time.UTC)
	}
	s.CustomerNumber = r.digits(65, 70, "customer number")
	s.PayeeBankgiro = r.id(71, 80, "payee bankgiro")
	return s
}

// sameKind checks that a later opening record opens the same kind of report:
// a file from Bankgirot holds one kind of section.
func sameKind(r *rec, want FileKind) error {
	k, _, err := detect(r)
	if err != nil {
		return err
	}
	if k != want {
		return errAt(r.no, RuleKind, "a %s section in a %s file; a file from Bankgirot holds one kind", k.Swedish(), want.Swedish())
	}
	return nil
}

// reportParser builds the parser of a report made of sections opened by
// TK01 and closed by TK09: record reads one record of the section (nil
// Record for a code the kind does not have), closing checks TK09 against
// the section's records.
func reportParser(record func(r *rec, s *Section) (Record, bool), closing func(r *rec, s *Section) error) parser {
	return func(f *File, recs []*rec) error {
		for i := 0; i < len(recs); {
			r := recs[i]
			if r.tk() != "01" {
				return errAt(r.no, RuleOrder, "TK%s after the closing record; a section starts with TK01", r.tk())
			}
			if err := sameKind(r, f.Kind); err != nil {
				return err
			}
			s := reportOpening(r, f.Kind)
			if r.err != nil {
				return r.err
			}
			i++
			closed := false
			for ; i < len(recs) && !closed; i++ {
				r := recs[i]
				switch r.tk() {
				case "09":
					if err := closing(r, &s); err != nil {
						return err
					}
					if r.err != nil {
						return r.err
					}
					closed = true
				case "01":
					return errAt(r.no, RuleOrder, "TK01 before the section opened on line %d was closed by TK09", s.LineNo)
				default:
					rd, known := record(r, &s)
					if r.err != nil {
						return r.err
					}
					if !known {
						return errAt(r.no, RuleCode, "TK%s is not a record of a %s file", r.tk(), f.Kind.Swedish())
					}
					s.Records = append(s.Records, rd)
				}
			}
			if !closed {
				return errAt(recs[len(recs)-1].no, RuleOrder, "the section opened on line %d has no closing record TK09", s.LineNo)
			}
			f.addSection(s)
		}
		return nil
	}
}

// checkBankgiro checks a record's payee bankgiro against its section's.
func checkBankgiro(r *rec, s *Section, bg string) {
	if r.err == nil && bg != s.PayeeBankgiro {
		r.fail(RuleBankgiro, "payee bankgiro %s differs from %s in the section's opening record (line %d)", bg, s.PayeeBankgiro, s.LineNo)
	}
}

// checkCount and checkSum compare a closing or summing record's field with
// what was read.
func checkCount(r *rec, what string, got, want int) {
	if got != want {
		r.fail(RuleCount, "%s is %d, the file holds %d", what, got, want)
	}
}

func checkSum(r *rec, what string, got, want int64) {
	if got != want {
		r.fail(RuleSum, "%s is %s, the records add up to %s", what, amountString(got), amountString(want))
	}
}

func amountString(n int64) string { return fmt.Sprintf("%d.%02d", n/100, abs(n%100)) }

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
