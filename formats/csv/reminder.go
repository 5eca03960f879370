package csv

import (
	"errors"

	"github.com/multikanal/multikanal/formats"
)

// reminder makes a row of type reminder the ERP's own reminder: the
// invoice it is about is preceding_invoice (required), what it asks is
// its lines' total (the ERP writes the fee and the interest as lines of
// their own, VAT category O).
func (b *builder) reminder() {
	d := b.doc
	if d.Kind != formats.KindReminder {
		return
	}
	d.TypeCode = ""
	if b.preceding.Number == "" {
		b.fail(b.start, "preceding_invoice", errors.New("is empty: a reminder names the number of the invoice it is about"))
		return
	}
	d.Reminder = &formats.Reminder{Invoice: b.preceding.Number, InvoiceDate: b.preceding.IssueDate, Sequence: 1, Outstanding: d.Totals.Payable}
}
