package csv

import (
	"fmt"

	"github.com/multikanal/multikanal/formats"
)

// Error is a problem at one place in a file: a value that cannot be read, or
// an invoice whose rows do not fit together. Per-invoice problems reach the
// caller as Item.Err (alone, or several joined with errors.Join); problems
// with the file as a whole are returned by Read.
type Error struct {
	Line    int          // physical line number, from 1; 0 when not about one line
	Column  string       // column name; "" when not about one column
	Invoice string       // invoice number; "" for a problem with the whole file
	Kind    formats.Kind // invoice or credit note, for the message
	Err     error
}

func (e *Error) Error() string {
	s := ""
	if e.Line > 0 {
		s = fmt.Sprintf("line %d", e.Line)
	}
	if e.Column != "" {
		if s != "" {
			s += ", "
		}
		s += "column " + e.Column
	}
	if s != "" {
		s += ": "
	}
	s += e.Err.Error()
	if e.Invoice != "" {
		kind := "invoice"
		if e.Kind == formats.KindCreditNote {
			kind = "credit note"
		}
		s += " (" + kind + " " + e.Invoice + ")"
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
