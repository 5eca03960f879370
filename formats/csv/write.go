package csv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/multikanal/multikanal/formats"
)

// Writer writes documents in the Multikanal CSV the Swedish way: UTF-8
// without a byte order mark, ';' between values, a decimal comma, LF line
// ends, every column of the format in a fixed order, the header row first.
// What Writer writes, Read reads back as the same documents.
type Writer struct {
	w      *csv.Writer
	n      numbers
	header bool
	rec    []string
}

// NewWriter returns a Writer that writes to w. Call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	return &Writer{w: cw, n: numbers{mark: ','}, rec: make([]string, len(columns))}
}

// Write writes one document, a row per line. It refuses a document that
// the format cannot carry in full (allowances and charges, a payee, a
// delivery, several notes, ...) rather than drop part of it.
func (w *Writer) Write(d *formats.Document) error {
	if err := fits(d); err != nil {
		return fmt.Errorf("csv: %s: %w", d.Label(), err)
	}
	if !w.header {
		for i, c := range columns {
			w.rec[i] = c.name
		}
		if err := w.w.Write(w.rec); err != nil {
			return err
		}
		w.header = true
	}
	for li := range d.Lines {
		for i, c := range columns {
			w.rec[i] = c.out(w.n, d, &d.Lines[li])
		}
		if err := w.w.Write(w.rec); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes any buffered data and reports a write error.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// Write writes docs to w in the Multikanal CSV; see Writer.
func Write(w io.Writer, docs ...*formats.Document) error {
	cw := NewWriter(w)
	for _, d := range docs {
		if err := cw.Write(d); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// fits reports what in a document the format has no column for.
func fits(d *formats.Document) error {
	switch {
	case len(d.Lines) == 0:
		return errors.New("it has no lines, and a row is a line")
	case len(d.AllowanceCharges) > 0:
		return errors.New("the format has no columns for document allowances and charges")
	case d.Payee != nil, d.Delivery != nil, d.Period != nil, len(d.Attachments) > 0:
		return errors.New("the format has no columns for a payee, delivery, invoicing period or attachments")
	case len(d.Notes) > 1, len(d.Preceding) > 1:
		return errors.New("the format carries one note and one preceding invoice")
	case d.Totals.Prepaid != nil, d.Totals.Rounding != nil, d.Totals.AllowanceTotal != nil, d.Totals.ChargeTotal != nil:
		return errors.New("the format has no columns for prepaid, rounding, allowance or charge totals")
	}
	for _, l := range d.Lines {
		if len(l.AllowanceCharges) > 0 || l.Period != nil || l.Note != "" || !l.Price.BaseQuantity.IsZero() && l.Price.BaseQuantity.Rat().Cmp(formats.Decimal("1").Rat()) != 0 {
			return fmt.Errorf("line %s: the format has no columns for line allowances, periods, notes or a price base quantity", l.ID)
		}
	}
	return nil
}
