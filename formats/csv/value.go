package csv

import (
	"github.com/multikanal/multikanal/formats"
)

// Value is the value an invoice column (docs/formats/csv.md) has for the
// document, as Writer writes it (numbers with a decimal point), and
// whether the format has such an invoice column. It lets rules name a
// column of the format (a template segment's column rule) whatever format
// the document came in.
func Value(d *formats.Document, column string) (string, bool) {
	i, ok := columnIndex[column]
	if !ok || columns[i].level != invoiceLevel || columns[i].out == nil {
		return "", false
	}
	var l *formats.Line
	if len(d.Lines) > 0 {
		l = &d.Lines[0]
	}
	return columns[i].out(numbers{mark: '.'}, d, l), true
}

// IsInvoiceColumn reports whether the format has the invoice column.
func IsInvoiceColumn(column string) bool {
	i, ok := columnIndex[column]
	return ok && columns[i].level == invoiceLevel
}
