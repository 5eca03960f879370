package csv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

// layout is what the first pass learns about a file and the second needs.
type layout struct {
	sep    rune
	bom    bool // a UTF-8 byte order mark to skip
	latin1 bool // the text is Windows-1252 (or ISO-8859-1) and must be decoded
	numbers
	cols     []int // per header position, the index into columns
	typeAt   int   // header position of type, -1 when absent
	numberAt int   // header position of invoice_number
	// dups maps the ordinal of an invoice whose number comes back later
	// (or came earlier) in the file to where else it is.
	dups map[int]string
}

// scan is Read's first pass. It reads the header, then every row, and
// decides the encoding and the decimal mark from all of them; it finds every
// problem that concerns the whole file, so that Read fails before emitting.
func (f Format) scan(in formats.Input) (*layout, error) {
	lay := &layout{typeAt: -1}
	var start [3]byte
	n, _ := in.R.ReadAt(start[:], 0)
	switch {
	case n == 0:
		return nil, errors.New("csv: the file is empty")
	case bytes.HasPrefix(start[:n], bom):
		lay.bom = true
	case n >= 2 && (start[0] == 0xff && start[1] == 0xfe || start[0] == 0xfe && start[1] == 0xff):
		return nil, &Error{Line: 1, Err: errors.New("the file is UTF-16; save it as UTF-8 (or Windows-1252)")}
	}
	skip := int64(0)
	if lay.bom {
		skip = int64(len(bom))
	}
	raw := &rawScan{r: io.NewSectionReader(in.R, skip, in.Size-skip), max: f.MaxRowBytes, line: 1, valid: true}
	if raw.max <= 0 {
		raw.max = DefaultMaxRowBytes
	}
	br := bufio.NewReaderSize(raw, 64<<10)
	sep, err := separator(br)
	if err != nil {
		return nil, err
	}
	lay.sep = sep
	cr := newCSVReader(br, sep)
	header, err := cr.Read()
	if err != nil {
		return nil, fileError(err)
	}
	line, _ := cr.FieldPos(0)
	if err := lay.header(header, line); err != nil {
		return nil, err
	}
	v := votes{}
	d := dupFinder{seed: maphash.MakeSeed(), seen: map[uint64]span{}}
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				return nil, lay.fieldCount(pe.StartLine, len(rec), len(header))
			}
			return nil, fileError(err)
		}
		if blank(rec) {
			continue
		}
		rows++
		start, _ := cr.FieldPos(0)
		end, _ := cr.FieldPos(len(rec) - 1)
		for i, val := range rec {
			if c := &columns[lay.cols[i]]; c.numeric {
				v.add(trim(val), start, c.name)
			}
		}
		d.add(lay.keyOf(rec), start, end)
	}
	if rows == 0 {
		return nil, &Error{Line: line, Err: errors.New("the header row is not followed by any invoice rows")}
	}
	if err := lay.encoding(raw); err != nil {
		return nil, err
	}
	if lay.numbers, err = v.decide(); err != nil {
		return nil, err
	}
	lay.dups = d.finish()
	return lay, nil
}

// separator picks ';' or ',' from the header row, the first non-blank line.
func separator(br *bufio.Reader) (rune, error) {
	head, err := br.Peek(br.Size())
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return 0, fileError(err)
	}
	lineNo := 1
	for {
		line, rest, found := bytes.Cut(head, []byte("\n"))
		if !found && len(head) == br.Size() {
			return 0, &Error{Line: lineNo, Err: fmt.Errorf("the header row is longer than %d bytes; is this a Multikanal CSV file?", br.Size())}
		}
		if len(bytes.TrimSpace(line)) > 0 || !found {
			semi, comma := bytes.Count(line, []byte(";")), bytes.Count(line, []byte(","))
			switch {
			case semi > 0 && comma > 0:
				return 0, &Error{Line: lineNo, Err: errors.New("the header row has both ; and , so the separator is ambiguous; separate the column names with one of them")}
			case semi > 0:
				return ';', nil
			case comma > 0:
				return ',', nil
			case len(bytes.TrimSpace(line)) == 0:
				return 0, errors.New("csv: the file has no header row; the first line must name the columns, like invoice_number;issue_date;...")
			}
			return 0, &Error{Line: lineNo, Err: fmt.Errorf("the header row %q has no ; or , between column names; the first line must name the columns, like invoice_number;issue_date;...", truncate(line))}
		}
		head = rest
		lineNo++
	}
}

func truncate(b []byte) string {
	if len(b) > 60 {
		b = append(b[:60:60], "..."...)
	}
	return string(b)
}

// header maps the header row's names to columns.
func (l *layout) header(names []string, line int) error {
	l.cols = make([]int, len(names))
	seen := make(map[int]int, len(names))
	for i, raw := range names {
		name := strings.ToLower(trim(raw))
		c, ok := columnIndex[name]
		switch {
		case name == "":
			return &Error{Line: line, Err: fmt.Errorf("column %d of the header row has no name; remove the extra separator or name the column", i+1)}
		case !ok:
			return &Error{Line: line, Column: name, Err: fmt.Errorf("unknown column%s; the columns are listed in docs/formats/csv.md", suggest(name))}
		}
		if j, dup := seen[c]; dup {
			return &Error{Line: line, Column: name, Err: fmt.Errorf("appears twice in the header row, as column %d and %d", j+1, i+1)}
		}
		seen[c] = i
		l.cols[i] = c
		switch name {
		case "type":
			l.typeAt = i
		case "invoice_number":
			l.numberAt = i
		}
	}
	var missing []string
	for i, c := range columns {
		if _, ok := seen[i]; c.required && !ok {
			missing = append(missing, c.name)
		}
	}
	if missing != nil {
		return &Error{Line: line, Err: fmt.Errorf("the header row lacks the required column(s) %s", strings.Join(missing, ", "))}
	}
	return nil
}

// suggest names the known column closest to an unknown one, for typos.
func suggest(name string) string {
	best, bestD := "", 3
	for _, c := range columns {
		if d := formats.EditDistance(name, c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// fieldCount explains a row with the wrong number of values.
func (l *layout) fieldCount(line, got, want int) error {
	hint := "; every row needs a value (possibly empty) for every column in the header"
	if l.sep == ',' {
		hint += `, and a value with a comma, such as a decimal comma, must be quoted: "12,50"`
	}
	return &Error{Line: line, Err: fmt.Errorf("the row has %d values but the header row names %d columns%s", got, want, hint)}
}

// encoding decides the text encoding from what rawScan saw: UTF-8 when all
// bytes are valid UTF-8, Windows-1252 (a superset of ISO-8859-1's printable
// characters) otherwise.
func (l *layout) encoding(raw *rawScan) error {
	switch {
	case raw.valid:
	case l.bom:
		return &Error{Line: raw.badLine, Err: errors.New("the file starts with a UTF-8 byte order mark but this line is not UTF-8; save the whole file as UTF-8")}
	case raw.undefined != 0:
		return &Error{Line: raw.undefinedLine, Err: fmt.Errorf("byte 0x%02X is neither UTF-8 nor a character in Windows-1252 or ISO-8859-1; save the file as UTF-8", raw.undefined)}
	default:
		l.latin1 = true
	}
	return nil
}

// votes collects which decimal mark the numbers use.
type votes struct {
	first     [2]string // the first number with a comma, with a point, and where
	ambiguous string    // the first number whose mark could be a thousands separator
}

func (v *votes) add(val string, line int, column string) {
	mark, ambiguous := markOf(val)
	if mark == 0 {
		return
	}
	i := 0
	if mark == '.' {
		i = 1
	}
	switch {
	case ambiguous && v.ambiguous == "":
		v.ambiguous = fmt.Sprintf("line %d, column %s: %q", line, column, val)
	case !ambiguous && v.first[i] == "":
		v.first[i] = fmt.Sprintf("line %d, column %s: %q", line, column, val)
	}
}

// decide picks the decimal mark: the one the unambiguous numbers use. Both
// marks, or only numbers like "1,250", leave it open, and that is an error.
func (v *votes) decide() (numbers, error) {
	comma, point := v.first[0], v.first[1]
	switch {
	case comma != "" && point != "":
		return numbers{}, fmt.Errorf("csv: the file mixes decimal marks, a comma at %s and a point at %s; write every number with the same decimal mark and no thousands separator", comma, point)
	case comma != "":
		return numbers{mark: ',', from: "see " + comma}, nil
	case point != "":
		return numbers{mark: '.', from: "see " + point}, nil
	case v.ambiguous != "":
		return numbers{}, fmt.Errorf("csv: the decimal mark is ambiguous: at %s the mark could be a decimal mark or a thousands separator, and no other number in the file settles it; write that number with two or four decimals (1,25 or 1250,00) so the mark is clear", v.ambiguous)
	}
	return numbers{mark: ',', from: "no number in the file has decimals"}, nil
}

// span is where an invoice is in the file; 32-bit fields keep the
// per-invoice index small.
type span struct {
	group      uint32
	start, end uint32
}

// dupFinder finds invoices whose rows are not consecutive: an invoice number
// that comes back after another invoice. It keeps a hash and a span per
// invoice, the one part of reading that grows with the file; without it such
// an invoice would be read as two half invoices.
type dupFinder struct {
	seed  maphash.Seed
	buf   []byte
	seen  map[uint64]span
	group int
	key   groupKey
	cur   span
	dups  map[int][]string
}

func (d *dupFinder) add(k groupKey, start, end int) {
	if d.cur.start != 0 && k == d.key {
		d.cur.end = uint32(end)
		return
	}
	d.close()
	d.key, d.cur = k, span{group: uint32(d.group), start: uint32(start), end: uint32(end)}
	d.group++
}

func (d *dupFinder) close() {
	if d.cur.start == 0 || d.key.number == "" {
		return
	}
	d.buf = append(append(append(d.buf[:0], d.key.kind...), 0), d.key.number...)
	h := maphash.Bytes(d.seed, d.buf)
	first, ok := d.seen[h]
	if !ok {
		d.seen[h] = d.cur
		return
	}
	if d.dups == nil {
		d.dups = map[int][]string{}
	}
	d.dups[int(first.group)] = append(d.dups[int(first.group)], lineRange(int(d.cur.start), int(d.cur.end)))
	d.dups[int(d.cur.group)] = append(d.dups[int(d.cur.group)], lineRange(int(first.start), int(first.end)))
}

func (d *dupFinder) finish() map[int]string {
	d.close()
	d.seen = nil
	out := make(map[int]string, len(d.dups))
	for g, where := range d.dups {
		out[g] = strings.Join(where, " and ")
	}
	return out
}

// rawScan watches the undecoded bytes of the first pass: whether they are
// valid UTF-8, which byte first is not, bytes Windows-1252 does not define,
// NUL bytes (binary or UTF-16 data), and rows longer than max. A row ends at
// a line break outside quotes; counting quotes is enough to know, since
// encoding/csv rejects a quote anywhere but around a whole value.
type rawScan struct {
	r       io.Reader
	max     int
	line    int
	rowLine int // line the current row started on
	rowLen  int
	quoted  bool

	valid   bool
	carry   []byte // an incomplete UTF-8 sequence at the end of the last read
	badLine int

	undefined     byte
	undefinedLine int
}

func (s *rawScan) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	b := p[:n]
	if s.valid {
		s.checkUTF8(b)
	}
	for i, c := range b {
		if s.rowLen == 0 {
			s.rowLine = s.line
		}
		s.rowLen++
		switch c {
		case '\n':
			s.line++
			if !s.quoted {
				s.rowLen = 0
			}
		case '"':
			s.quoted = !s.quoted
		case 0:
			return i, &Error{Line: s.line, Err: errors.New("the file has a NUL byte, so it is binary or UTF-16, not text; save it as UTF-8")}
		case 0x81, 0x8d, 0x8f, 0x90, 0x9d:
			if s.undefined == 0 {
				s.undefined, s.undefinedLine = c, s.line
			}
		}
		if s.rowLen > s.max {
			return i, &Error{Line: s.rowLine, Err: fmt.Errorf("the row is longer than %d bytes; look for a quote that is not closed", s.max)}
		}
	}
	if err == io.EOF && len(s.carry) > 0 {
		s.valid, s.badLine = false, s.line
	}
	return n, err
}

// checkUTF8 validates b as the continuation of the bytes before it.
func (s *rawScan) checkUTF8(b []byte) {
	for len(s.carry) > 0 && len(b) > 0 {
		s.carry = append(s.carry, b[0])
		b = b[1:]
		if utf8.FullRune(s.carry) {
			if r, _ := utf8.DecodeRune(s.carry); r == utf8.RuneError {
				s.invalid(nil)
				return
			}
			s.carry = s.carry[:0]
		}
	}
	// Hold back an incomplete sequence at the end for the next read.
	cut := len(b)
	for k := 1; k <= 3 && k <= len(b); k++ {
		if c := b[len(b)-k]; c >= 0xc0 {
			if !utf8.FullRune(b[len(b)-k:]) {
				cut = len(b) - k
			}
			break
		}
	}
	if !utf8.Valid(b[:cut]) {
		s.invalid(b[:cut])
		return
	}
	s.carry = append(s.carry[:0], b[cut:]...)
}

// invalid records that the file is not UTF-8 and on which line that shows.
func (s *rawScan) invalid(b []byte) {
	s.valid = false
	s.badLine = s.line
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return
		}
		if b[0] == '\n' {
			s.badLine++
		}
		b = b[size:]
	}
}
