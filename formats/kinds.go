package formats

import "strings"

// The kinds of document beside invoices and credit notes. A reminder is
// the gateway's own (or the ERP's) påminnelse about an invoice not paid
// on time; the others are the ERP's correspondence, each sent as the PDF
// the ERP made (Document.Attachments[0]) with a subject.
const (
	KindReminder  Kind = "reminder"
	KindLetter    Kind = "letter"
	KindStatement Kind = "statement" // kontoutdrag: an account statement
	KindContract  Kind = "contract"  // avtal
	KindNotice    Kind = "notice"    // meddelande: a price-change notice, new terms
)

// Kinds are every kind of document, in the order documentation lists them.
var Kinds = []Kind{KindInvoice, KindCreditNote, KindReminder, KindLetter, KindStatement, KindContract, KindNotice}

// ParseKind reads a kind as the inputs write it ("Letter", "reminder").
func ParseKind(s string) (Kind, bool) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Kinds {
		if k == known {
			return k, true
		}
	}
	return "", false
}

// Billing reports whether documents of the kind are EN 16931 invoices
// or credit notes: validated by its rules, payable, collected.
func (k Kind) Billing() bool { return k == KindInvoice || k == KindCreditNote || k == "" }

// Correspondence reports whether the kind is sent as the ERP's own PDF
// with a subject: a letter, a statement, a contract, a notice.
func (k Kind) Correspondence() bool {
	return k == KindLetter || k == KindStatement || k == KindContract || k == KindNotice
}

// Swedish is the kind's name as a customer reads it: "Faktura",
// "Påminnelse", "Brev".
func (k Kind) Swedish() string {
	switch k {
	case KindCreditNote:
		return "Kreditnota"
	case KindReminder:
		return "Påminnelse"
	case KindLetter:
		return "Brev"
	case KindStatement:
		return "Kontoutdrag"
	case KindContract:
		return "Avtal"
	case KindNotice:
		return "Meddelande"
	}
	return "Faktura"
}

// English is the kind's name in English.
func (k Kind) English() string {
	switch k {
	case KindCreditNote:
		return "Credit note"
	case KindReminder:
		return "Payment reminder"
	case KindLetter:
		return "Letter"
	case KindStatement:
		return "Account statement"
	case KindContract:
		return "Contract"
	case KindNotice:
		return "Notice"
	}
	return "Invoice"
}

// Reminder is what a reminder (påminnelse) says about the invoice it is
// about: the invoice, what is left to pay, the fee and the late interest
// added, and which reminder it is. The reminder's own totals (BG-22) are
// the sum the customer pays; its lines say the same, line by line.
type Reminder struct {
	// Invoice, InvoiceDate and InvoiceDue are the invoice's number
	// (BT-1), issue date and due date.
	Invoice     string `json:"invoice"`
	InvoiceDate Date   `json:"invoice_date,omitzero"`
	InvoiceDue  Date   `json:"invoice_due,omitzero"`
	// Sequence is 1 for the first reminder, 2 for the second.
	Sequence int `json:"sequence"`
	// Outstanding is what is left of the invoice's amount due.
	Outstanding Amount `json:"outstanding"`
	// Fee is the påminnelseavgift (at most 60 kr, Förordning (2013:60)
	// 1 §, and only where agreed, Lag (1981:739) 2 §).
	Fee Amount `json:"fee,omitempty"`
	// Interest is the dröjsmålsränta on Outstanding from the day after
	// the due date to the reminder's date (räntelagen (1975:635) 6 §),
	// at Rate percent a year over Days days.
	Interest Amount  `json:"interest,omitempty"`
	Rate     Decimal `json:"rate,omitempty"`
	Days     int     `json:"days,omitempty"`
}

// Total is what the reminder asks the customer to pay.
func (r *Reminder) Total() Amount { return r.Outstanding + r.Fee + r.Interest }
