package dunning

import (
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
)

// Terms are what a reminder adds to an invoice on a day: the amount
// left, the fee and the late interest.
type Terms struct {
	Sequence    int
	Outstanding formats.Amount
	Fee         formats.Amount
	Interest    formats.Amount
	Days        int
	Rate        formats.Decimal
}

// Total is what the reminder asks for.
func (t Terms) Total() formats.Amount { return t.Outstanding + t.Fee + t.Interest }

// TermsOf computes the terms of reminder number seq of an invoice due on
// due with outstanding left to pay, made on day under the policy p:
//
//   - the fee is p's (at most 60 kr, and only where agreed: config
//     checks both), once per invoice: a later reminder repeats it, it
//     does not add another; an invoice in another currency than SEK gets
//     none, the cap being in kronor;
//   - the interest runs on what is left of the invoice (never on the
//     fee) from the due date to day (räntelagen (1975:635) 6 §), at the
//     policy's rate a year on a year of 365 days, rounded to öre.
func TermsOf(p *config.Reminders, currency string, due, day formats.Date, outstanding formats.Amount, seq int) Terms {
	t := Terms{Sequence: seq, Outstanding: outstanding}
	if p.FeeAmount > 0 && (currency == "" || strings.EqualFold(currency, "SEK")) {
		t.Fee = p.FeeAmount
	}
	if p.RatePercent != "" && !p.RatePercent.IsZero() && !due.IsZero() && due.Before(day) {
		t.Days = int(day.Time().Sub(due.Time()) / (24 * time.Hour))
		t.Rate = p.RatePercent
		r := new(big.Rat).SetInt64(int64(outstanding))
		r.Mul(r, p.RatePercent.Rat())
		r.Mul(r, big.NewRat(int64(t.Days), 100*365))
		t.Interest = roundHalfUp(r)
	}
	return t
}

func roundHalfUp(r *big.Rat) formats.Amount {
	num := new(big.Int).Mul(r.Num(), big.NewInt(2))
	num.Add(num, r.Denom())
	den := new(big.Int).Mul(r.Denom(), big.NewInt(2))
	return formats.Amount(new(big.Int).Div(num, den).Int64())
}

// Build makes the reminder document about the invoice inv: the invoice's
// seller, buyer, accounts and language; its own number (the invoice's
// with "-P" and the sequence), date and due date; lines and totals that
// say the terms; the invoice's OCR number, or with ocr = "own" one of its
// own. It carries no attachment: the invoice's PDF is not the reminder.
func Build(inv *formats.Document, p *config.Reminders, t Terms, day formats.Date, lengthDigit bool) *formats.Document {
	r := &formats.Reminder{Invoice: inv.Number, InvoiceDate: inv.IssueDate, InvoiceDue: inv.DueDate, Sequence: t.Sequence,
		Outstanding: t.Outstanding, Fee: t.Fee, Interest: t.Interest, Rate: t.Rate, Days: t.Days}
	english := inv.Language == "en"
	total := t.Total()
	doc := &formats.Document{
		Kind: formats.KindReminder, Number: inv.Number + "-P" + strconv.Itoa(t.Sequence), IssueDate: day,
		Currency: inv.Currency, DueDate: formats.DateOf(day.Time().Add(time.Duration(p.PayWithin))),
		BuyerReference: inv.BuyerReference, OrderReference: inv.OrderReference, ContractReference: inv.ContractReference,
		Preceding: []formats.PrecedingInvoice{{Number: inv.Number, IssueDate: inv.IssueDate}},
		Seller:    inv.Seller, Buyer: inv.Buyer, Payee: inv.Payee, PaymentTerms: inv.PaymentTerms,
		Lines:    pdf.ReminderLines(r, english),
		VAT:      []formats.VATBreakdown{{Category: "O", TaxableAmount: total, ExemptionReason: "Utanför momsens tillämpningsområde"}},
		Totals:   formats.Totals{LineExtension: total, TaxExclusive: total, TaxInclusive: total, Payable: total},
		Reminder: r, Language: inv.Language, CustomerGroup: inv.CustomerGroup,
		Source: "reminder " + strconv.Itoa(t.Sequence) + " of invoice " + inv.Number,
	}
	for _, m := range inv.PaymentMeans {
		// A direct debit's mandate is not the reminder's: an invoice
		// collected by one is never reminded, and a reminder is paid by
		// transfer.
		m.MandateID, m.DebitedAccount = "", ""
		if m.Code == formats.MeansDirectDebit {
			continue
		}
		doc.PaymentMeans = append(doc.PaymentMeans, m)
	}
	if p.OCR == "own" {
		if own := OwnOCR(inv, t.Sequence, lengthDigit); own != "" {
			for i := range doc.PaymentMeans {
				doc.PaymentMeans[i].PaymentID = own
			}
		}
	}
	return doc
}

// DroppedDebitNote tells the customer, who was told the invoice would be
// withdrawn by method, why a reminder comes: the withdrawal was not made
// (failed or cancelled), so the amount is to be paid as the reminder says.
func DroppedDebitNote(method string, english bool) string {
	if english {
		return "The direct debit (" + method + ") of this invoice was not made, so the amount is still unpaid. Please pay it with the payment details below."
	}
	return "Dragningen via " + method + " av fakturan blev inte av, så beloppet är fortfarande obetalt. Betala det i stället med betalningsuppgifterna nedan."
}

// OwnOCR is a reminder's own OCR number: the invoice's OCR number (or
// its number's digits) without its check digit, the reminder's sequence,
// the length digit when the biller uses one, and a Luhn check digit; ""
// when that would pass the 25 digits an OCR number has.
func OwnOCR(inv *formats.Document, seq int, lengthDigit bool) string {
	base := formats.OnlyDigits(inv.PaymentReference())
	if len(base) > 1 {
		base = base[:len(base)-1]
	} else {
		base = formats.OnlyDigits(inv.Number)
	}
	base += strconv.Itoa(seq)
	if lengthDigit {
		base += strconv.Itoa((len(base) + 2) % 10)
	}
	if len(base)+1 > 25 || base == "" {
		return ""
	}
	return base + string(formats.LuhnDigit(base))
}
