package csv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/multikanal/multikanal/formats"
	"golang.org/x/text/encoding/charmap"
)

// Default limits; see Format.
const (
	DefaultMaxRowBytes    = 1 << 20
	DefaultMaxInvoiceRows = 10_000
)

// Format reads the Multikanal CSV. The zero value is ready to use with the
// default limits.
type Format struct {
	// MaxRowBytes bounds one row (a record; a quoted value with line
	// breaks spreads it over several physical lines). A longer row is most
	// often an unclosed quote, and fails the whole file. 0 means
	// DefaultMaxRowBytes.
	MaxRowBytes int
	// MaxInvoiceRows bounds the rows (lines) of one invoice, so one invoice
	// never holds more than a bounded amount of memory. An invoice with more
	// rows is reported as an error and the rest of the file goes on. 0 means
	// DefaultMaxInvoiceRows.
	MaxInvoiceRows int
	// Channels are the names the channel column accepts: the gateway's
	// distribution channels, as registered. nil accepts any name, and
	// routing then refuses one that is not a channel.
	Channels []string
}

var _ formats.Reader = Format{}

// Name returns "csv".
func (Format) Name() string { return "csv" }

// Sniff reports whether head starts (after a byte order mark and blank
// lines) with a header row that names invoice_number and at least two more
// of the format's columns, separated by ';' or ','.
func (Format) Sniff(head []byte) bool {
	head = bytes.TrimPrefix(head, bom)
	head = bytes.TrimLeft(head, " \t\r\n")
	line, _, _ := bytes.Cut(head, []byte("\n"))
	sep := byte(';')
	if bytes.IndexByte(line, sep) < 0 {
		sep = ','
	}
	known, number := 0, false
	for _, f := range bytes.Split(line, []byte{sep}) {
		name := strings.ToLower(string(bytes.Trim(f, " \t\r\"")))
		if _, ok := columnIndex[name]; ok {
			known++
			number = number || name == "invoice_number"
		}
	}
	return number && known >= 3
}

var bom = []byte("\xef\xbb\xbf")

// Read parses the input and emits one Item per invoice, in file order. It
// reads the input twice: a first pass settles the encoding and the decimal
// mark and finds the whole-file problems, so that Read either refuses the
// file before emitting anything or reads all of it under one
// interpretation; the second pass builds the invoices. Both passes stream:
// memory holds one invoice at a time, plus a few bytes per invoice to catch
// an invoice whose rows are not consecutive.
func (f Format) Read(in formats.Input, emit func(formats.Item) error) error {
	lay, err := f.scan(in)
	if err != nil {
		return err
	}
	cr, err := lay.open(in)
	if err != nil {
		return err
	}
	p := parser{layout: lay, emit: emit, max: f.MaxInvoiceRows, channels: f.Channels}
	if p.max <= 0 {
		p.max = DefaultMaxInvoiceRows
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fileError(err)
		}
		if blank(rec) {
			continue
		}
		start, _ := cr.FieldPos(0)
		end, _ := cr.FieldPos(len(rec) - 1)
		if err := p.add(rec, start, end); err != nil {
			return err
		}
	}
	return p.flush()
}

// parser is Read's second pass: it groups rows into invoices and emits each
// when its last row has been read.
type parser struct {
	*layout
	emit     func(formats.Item) error
	max      int
	channels []string
	cur      *builder
	key      groupKey
	vals     []string // per header position: the invoice value, from its first row that has one
	lines    []int    // the line each of vals comes from
	group    int      // ordinal of the current invoice, as the first pass counted
	index    int      // next Item.Index
	has      map[string]bool
	hasRow   func(string) bool
}

// add takes one row: it starts a new invoice when the key changes, checks
// the invoice columns against the invoice's earlier rows and adds the line.
func (p *parser) add(rec []string, start, end int) error {
	key := p.keyOf(rec)
	if p.cur != nil && key != p.key {
		if err := p.flush(); err != nil {
			return err
		}
		p.group++
	}
	if p.cur == nil {
		p.start(key, start)
	}
	b := p.cur
	b.end = end
	b.rows++
	if b.rows > p.max {
		if b.rows == p.max+1 {
			b.fail(start, "", fmt.Errorf("the invoice has more than %d rows; split it into several invoices", p.max))
		}
		return nil
	}
	var r row
	r.line = start
	clear(p.has)
	for i, v := range rec {
		c := &columns[p.cols[i]]
		v = trim(v)
		if v == "" {
			continue
		}
		b.line = start
		if c.level == lineLevel {
			p.has[c.name] = true
			if err := c.line(b, &r, v); err != nil {
				b.fail(start, c.name, err)
			}
			continue
		}
		switch first := p.vals[i]; {
		case first == "":
			p.vals[i], p.lines[i] = v, start
			if err := c.inv(b, v); err != nil {
				b.fail(start, c.name, err)
			}
		case first != v:
			b.fail(start, c.name, fmt.Errorf("%q differs from %q on line %d; the invoice columns must be the same on every row of an invoice (or empty after the first)", v, first, p.lines[i]))
		}
	}
	if len(b.errs) == 0 {
		b.addRow(&r, p.hasRow)
	}
	return nil
}

func (p *parser) start(key groupKey, line int) {
	p.key = key
	p.cur = &builder{numbers: p.numbers, start: line, doc: &formats.Document{}, channels: p.channels}
	if p.vals == nil {
		p.vals = make([]string, len(p.cols))
		p.lines = make([]int, len(p.cols))
		p.has = make(map[string]bool, len(columns))
		p.hasRow = func(c string) bool { return p.has[c] }
	}
	clear(p.vals)
}

// flush finishes the current invoice and emits it.
func (p *parser) flush() error {
	b := p.cur
	if b == nil {
		return nil
	}
	p.cur = nil
	if b.doc.Number == "" && len(b.errs) == 0 {
		b.fail(b.start, "invoice_number", errors.New("is empty; every row needs the number of the invoice it belongs to"))
	}
	if other, ok := p.dups[p.group]; ok {
		b.fail(b.start, "invoice_number", fmt.Errorf("%s: the rows of this invoice are not consecutive, it comes again at %s; sort the file by invoice number so each invoice's rows follow each other", b.doc.Number, other))
	}
	if len(b.errs) == 0 {
		b.finish()
	}
	b.doc.Source = lineRange(b.start, b.end)
	it := formats.Item{Index: p.index, Source: b.doc.Source}
	p.index++
	if len(b.errs) > 0 {
		it.Err = b.err()
	} else {
		it.Doc = b.doc
	}
	return p.emit(it)
}

func lineRange(start, end int) string {
	if start == end {
		return fmt.Sprintf("line %d", start)
	}
	return fmt.Sprintf("lines %d-%d", start, end)
}

// groupKey is what makes consecutive rows one invoice: the document type
// and the invoice number.
type groupKey struct {
	kind   string
	number string
}

func (l *layout) keyOf(rec []string) groupKey {
	var k groupKey
	if l.typeAt >= 0 {
		// An unknown type keeps its exact bytes, so that both passes, one on
		// undecoded bytes, group the same rows.
		k.kind = trim(rec[l.typeAt])
		if kind, ok := kindOf(k.kind); ok {
			k.kind = string(kind)
		}
	} else {
		k.kind = string(formats.KindInvoice)
	}
	k.number = trim(rec[l.numberAt])
	return k
}

// trim removes ASCII blanks only: the first pass sees undecoded
// Windows-1252 bytes, where a no-break space is not yet a space, and both
// passes must agree on every value.
func trim(s string) string { return strings.Trim(s, " \t\r\n") }

func blank(rec []string) bool {
	for _, v := range rec {
		if trim(v) != "" {
			return false
		}
	}
	return true
}

// open starts the second pass: the decoded text after the header row.
func (l *layout) open(in formats.Input) (*csv.Reader, error) {
	var r io.Reader = in.Stream()
	if l.bom {
		r = io.NewSectionReader(in.R, int64(len(bom)), in.Size-int64(len(bom)))
	}
	if l.latin1 {
		r = charmap.Windows1252.NewDecoder().Reader(r)
	}
	cr := newCSVReader(bufio.NewReaderSize(r, 64<<10), l.sep)
	if _, err := cr.Read(); err != nil {
		return nil, fileError(err)
	}
	return cr, nil
}

func newCSVReader(r io.Reader, sep rune) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = sep
	cr.ReuseRecord = true
	return cr
}

// fileError turns an error from encoding/csv or the input into one that
// says what to fix.
func fileError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		var ce *Error
		if errors.As(err, &ce) {
			return err
		}
		return fmt.Errorf("csv: reading the file: %w", err)
	}
	hint := ""
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		hint = `; a value with a " must be quoted and its quotes doubled: "say ""hi"""`
	case errors.Is(pe.Err, csv.ErrQuote):
		hint = "; a quote is not closed, or closed and followed by more text before the separator"
	}
	return &Error{Line: pe.Line, Err: fmt.Errorf("%w%s", pe.Err, hint)}
}
