package dunning

import (
	"testing"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
)

func date(s string) formats.Date { d, _ := formats.ParseDate(s); return d }

// The terms of a reminder: the fee once per invoice, in SEK only; late
// interest on what is left (not on the fee) from the due date at the
// rate a year over 365 days, rounded to öre.
func TestTermsOf(t *testing.T) {
	p := &config.Reminders{FeeAmount: 6000, RatePercent: "10.00"}
	for _, tt := range []struct {
		name          string
		currency      string
		due, day      string
		left          formats.Amount
		fee, interest formats.Amount
		days          int
	}{
		{"30 days at 10 %", "SEK", "2026-01-01", "2026-01-31", 365000, 6000, 3000, 30},
		{"rounded half up", "SEK", "2026-01-01", "2026-01-02", 1825, 6000, 1, 1}, // 0.5 öre
		{"not yet due: no interest", "SEK", "2026-02-01", "2026-01-31", 100000, 6000, 0, 0},
		{"no fee outside SEK", "EUR", "2026-01-01", "2026-01-31", 365000, 0, 3000, 30},
	} {
		got := TermsOf(p, tt.currency, date(tt.due), date(tt.day), tt.left, 1)
		if got.Fee != tt.fee || got.Interest != tt.interest || got.Days != tt.days || got.Total() != tt.left+tt.fee+tt.interest {
			t.Errorf("%s: %+v", tt.name, got)
		}
	}
}

// A reminder's own OCR number: the invoice's without its check digit,
// the sequence, the length digit when the biller uses one, a Luhn digit.
func TestOwnOCR(t *testing.T) {
	inv := &formats.Document{Number: "2025-1002", PaymentMeans: []formats.PaymentMeans{{PaymentID: "2025100203"}}}
	if got := OwnOCR(inv, 1, false); got != "2025100201"+string(formats.LuhnDigit("2025100201")) || formats.CheckOCR(got, false) != nil {
		t.Errorf("own OCR %q", got)
	}
	if got := OwnOCR(inv, 2, true); formats.CheckOCR(got, true) != nil {
		t.Errorf("own OCR with length digit %q: %v", got, formats.CheckOCR(got, true))
	}
}

// The reminder document: its own number, the invoice named, lines and
// totals that add up, paid by transfer with the invoice's OCR number (no
// mandate), no attachment of the invoice's.
func TestBuild(t *testing.T) {
	inv := &formats.Document{Kind: formats.KindInvoice, Number: "7", Currency: "SEK", IssueDate: date("2026-01-01"), DueDate: date("2026-01-31"),
		PaymentMeans: []formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "101", PaymentID: "12345682"},
			{Code: formats.MeansCreditTransfer, Account: "9912346", AccountScheme: formats.AccountBankgiro, PaymentID: "12345682", MandateID: "x"}},
		Attachments: []formats.Attachment{{ID: "7", MimeCode: "application/pdf", Data: []byte("%PDF-")}}}
	p := &config.Reminders{PayWithin: config.Duration(10 * 24 * 3600e9), OCR: "invoice"}
	terms := Terms{Sequence: 1, Outstanding: 10000, Fee: 6000, Interest: 55, Days: 20, Rate: "10.00"}
	r := Build(inv, p, terms, date("2026-02-20"), false)
	if r.Kind != formats.KindReminder || r.Number != "7-P1" || r.DueDate != date("2026-03-02") || r.Preceding[0].Number != "7" ||
		r.Totals.Payable != 16055 || len(r.Lines) != 3 || r.Reminder.Invoice != "7" || len(r.Attachments) != 0 {
		t.Fatalf("reminder: %+v", r)
	}
	if len(r.PaymentMeans) != 1 || r.MandateReference() != "" || r.PaymentReference() != "12345682" {
		t.Errorf("payment means: %+v", r.PaymentMeans)
	}
	var sum formats.Amount
	for _, l := range r.Lines {
		sum += l.NetAmount
	}
	if sum != r.Totals.Payable {
		t.Errorf("lines add up to %s, totals say %s", sum, r.Totals.Payable)
	}
}
