package validate

import (
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// other checks a document that is not an EN 16931 invoice or credit
// note: a reminder, a letter, a statement, a contract, a notice. EN 16931
// says nothing of them, so they are held to what delivery needs and to
// the tenant's own rules: a recipient, a seller that is the tenant, and
// for a reminder what the customer pays (MK-KIND names the rule).
func (r *report) other(opt Options) {
	d := r.doc
	if strings.TrimSpace(d.Buyer.Name) == "" {
		r.errorf("MK-KIND", "no recipient name: a %s needs the name of whom it is for", strings.ToLower(d.Kind.English()))
	}
	switch {
	case d.Kind == formats.KindReminder:
		if d.Reminder == nil || strings.TrimSpace(d.Reminder.Invoice) == "" {
			r.errorf("MK-KIND", "a reminder must name the invoice it is about")
		}
		if d.Totals.Payable <= 0 {
			r.errorf("MK-KIND", "a reminder must ask for an amount: its amount due is %s", d.Totals.Payable)
		}
		if d.DueDate.IsZero() {
			r.errorf("MK-KIND", "a reminder must say by when to pay (its due date)")
		}
		r.swedish(opt)
	case d.Kind.Correspondence():
		if strings.TrimSpace(d.Subject) == "" {
			r.errorf("MK-KIND", "no subject: a %s needs one, which the e-mail and Kivra show", strings.ToLower(d.Kind.English()))
		}
		if len(d.Attachments) == 0 || len(d.Attachments[0].Data) == 0 {
			r.errorf("MK-KIND", "no PDF: a %s is sent as the PDF the ERP made", strings.ToLower(d.Kind.English()))
		}
	}
	r.biller(opt.Biller)
}
