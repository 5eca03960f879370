package autogiro

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// records returns the record lines of a file: from the first line starting
// with two digits, without blank lines, trailing blanks or line ends. The
// examples lost or gained trailing blanks on the way; the records did not.
func records(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(string(b), "\r\n") {
		l = strings.TrimRight(l, " ")
		if len(l) >= 2 && l[0] >= '0' && l[0] <= '9' && l[1] >= '0' && l[1] <= '9' {
			out = append(out, l)
		}
	}
	return out
}

// checkLayout checks that every line the writer made is 80 characters and
// ends in CRLF.
func checkLayout(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Errorf("output does not end in CRLF")
	}
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n") {
		if len(l) != RecordLen || strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d is %d bytes: %q", i+1, len(l), l)
		}
	}
}

func pay(tk PaymentType, date Date, period Period, repeats int, payer, amount, ref string) Payment {
	return Payment{Type: tk, Date: date, Period: period, Repeats: repeats, PayerNumber: payer, Amount: formats.MustAmount(amount), Reference: ref}
}

// examplePayments is what Bankgirot's example payment file orders.
func examplePayments() *PaymentFile {
	jun12 := day(2008, 6, 12)
	genast := pay(Withdrawal, Date{}, PeriodOnce, 0, "3331022", "350", "KUNDNR5")
	genast.Immediately = true
	return &PaymentFile{
		WriteDate:      day(2008, 6, 11),
		CustomerNumber: "471117",
		PayeeBankgiro:  "990-2346",
		Payments: []Payment{
			pay(Withdrawal, jun12, PeriodOnce, 0, "101", "750", "ÅRSKORT-2008"),
			pay(Withdrawal, jun12, PeriodOnce, 0, "102", "250.50", "KVARTAL-2008"),
			pay(Withdrawal, day(2008, 6, 30), PeriodMonthlyLastDay, 6, "103", "1100", "MÅNAD-2008"),
			pay(Withdrawal, day(2008, 6, 30), PeriodQuarterlyLastDay, 3, "2222101", "5000.25", "KVARTAL-2008"),
			genast,
			pay(Deposit, jun12, PeriodOnce, 0, "7771014", "125", "UTBETALN"),
			pay(Deposit, jun12, PeriodOnce, 0, "104", "325", "UTBETALN"),
			pay(Deposit, jun12, PeriodOnce, 0, "105", "30", "UTBETALN1"),
			pay(Deposit, jun12, PeriodOnce, 0, "5551004", "30", "UTBETALN2"),
		},
	}
}

// exampleMandates is what Bankgirot's example mandate file asks.
func exampleMandates() *MandateFile {
	n := func(payer, account, id string, reject bool) MandateRequest {
		return MandateRequest{Type: MandateNew, PayerNumber: payer, Account: account, PersonalID: id, Reject: reject}
	}
	change := func(payer, to string) MandateRequest {
		return MandateRequest{Type: MandateChangePayerNumber, PayerNumber: payer, NewPayerNumber: to}
	}
	return &MandateFile{
		WriteDate:      day(2008, 6, 11),
		CustomerNumber: "471117",
		PayeeBankgiro:  "9912346",
		Requests: []MandateRequest{
			n("101", "3300001212121212", "191212121212", false),
			n("102", "8901003232323232", "005556000521", false),
			n("103", "5001000001000020", "196803050000", false),
			n("2222101", "", "", false),
			n("3331022", "", "", false),
			n("7771014", "", "", false),
			n("106", "3300001212121212", "191212121212", true),
			n("107", "5001000001000020", "196803050000", true),
			{Type: MandateCancel, PayerNumber: "5551004"},
			{Type: MandateCancel, PayerNumber: "4440104"},
			change("111", "121"),
			change("112", "122"),
			change("5555242", "3330202"),
		},
	}
}

// TestWriteExamples writes the orders of Bankgirot's example payment and
// mandate files and compares the records byte for byte.
func TestWriteExamples(t *testing.T) {
	for _, tt := range []struct {
		file string
		wt   func(*bytes.Buffer) (int64, error)
	}{
		{file: "autogiro_exempelfil-betalningsunderlag_sv.txt", wt: func(b *bytes.Buffer) (int64, error) { return examplePayments().WriteTo(b) }},
		{file: "autogiro_exempelfil_medgivandeunderlag_sv.txt", wt: func(b *bytes.Buffer) (int64, error) { return exampleMandates().WriteTo(b) }},
	} {
		t.Run(tt.file, func(t *testing.T) {
			want := records(t, example(t, tt.file))
			var buf bytes.Buffer
			n, err := tt.wt(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(buf.Len()) {
				t.Errorf("WriteTo returned %d, wrote %d", n, buf.Len())
			}
			checkLayout(t, buf.Bytes())
			got := records(t, buf.Bytes())
			if len(got) != len(want) {
				t.Fatalf("%d records, the example has %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("record %d:\n got %q\nwant %q", i+1, got[i], want[i])
				}
			}
		})
	}
}

// TestRoundTrip reads back what the writers write and finds the orders.
func TestRoundTrip(t *testing.T) {
	pf := examplePayments()
	var buf bytes.Buffer
	if _, err := pf.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "kind", f.Kind, KindPaymentOrders)
	eq(t, "write date", DateOf(f.WriteDate), pf.WriteDate)
	eq(t, "customer", f.CustomerNumber, pf.CustomerNumber)
	eq(t, "bankgiro", f.PayeeBankgiro, "9902346")
	for i, r := range f.Records {
		got := *r.(*Payment)
		got.Pos, got.PayeeBankgiro = Pos{}, ""
		eq(t, "payment", got, pf.Payments[i])
	}

	mf := exampleMandates()
	buf.Reset()
	if _, err := mf.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if f, err = Parse(&buf); err != nil {
		t.Fatal(err)
	}
	eq(t, "kind", f.Kind, KindMandateOrders)
	for i, r := range f.Records {
		got := *r.(*MandateRequest)
		got.Pos, got.PayeeBankgiro = Pos{}, ""
		eq(t, "request", got, mf.Requests[i])
	}
}

// TestWriteRefuses checks that an order the manual does not allow stops the
// whole file with the order's number and that nothing is written.
func TestWriteRefuses(t *testing.T) {
	jun12 := day(2008, 6, 12)
	tests := []struct {
		name string
		edit func(p *PaymentFile)
		item int
	}{
		{"reference too long", func(p *PaymentFile) { p.Payments[1].Reference = "SEVENTEEN CHARS.." }, 2},
		{"GENAST with a period", func(p *PaymentFile) { p.Payments[4].Period = PeriodMonthly }, 5},
		{"date and GENAST", func(p *PaymentFile) { p.Payments[4].Date = jun12 }, 5},
		{"no calendar day", func(p *PaymentFile) { p.Payments[0].Date = day(2008, 6, 31) }, 1},
		{"zero amount", func(p *PaymentFile) { p.Payments[2].Amount = 0 }, 3},
		{"amount over 12 digits", func(p *PaymentFile) { p.Payments[2].Amount = 1e12 }, 3},
		{"payer number with a letter", func(p *PaymentFile) { p.Payments[3].PayerNumber = "12A" }, 4},
		{"another bankgiro", func(p *PaymentFile) { p.Payments[5].PayeeBankgiro = "5050-1055" }, 6},
		{"repeats with period 0", func(p *PaymentFile) { p.Payments[0].Repeats = 2 }, 1},
		{"character without an ISO-8859-1 equivalent", func(p *PaymentFile) { p.Payments[0].Reference = "FAKTURA 請求" }, 1},
		{"control character", func(p *PaymentFile) { p.Payments[0].Reference = "FAKT\x01" }, 1},
		{"too long once transliterated", func(p *PaymentFile) { p.Payments[0].Reference = "FAKTURA 12345 €" }, 1},
		{"unknown type", func(p *PaymentFile) { p.Payments[0].Type = "83" }, 1},
		{"no period", func(p *PaymentFile) { p.Payments[0].Period = "" }, 1},
		{"customer number too long", func(p *PaymentFile) { p.CustomerNumber = "4711170" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := examplePayments()
			tt.edit(p)
			var buf bytes.Buffer
			n, err := p.WriteTo(&buf)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("WriteTo = %v, want an *Error", err)
			}
			if n != 0 || buf.Len() != 0 {
				t.Errorf("wrote %d bytes before refusing", buf.Len())
			}
			if e.Item != tt.item {
				t.Errorf("error %v names order %d, want %d", err, e.Item, tt.item)
			}
		})
	}
	m := exampleMandates()
	m.Requests[0].Account = "33001212121212"
	if _, err := m.WriteTo(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "order 1") {
		t.Errorf("a 14-digit account: %v, want an error for order 1", err)
	}
}

// TestWriteTransliterates writes a reference with an en dash, which
// ISO-8859-1 lacks, as a hyphen instead of refusing the whole file.
func TestWriteTransliterates(t *testing.T) {
	p := examplePayments()
	p.Payments[0].Reference = "2025–9000"
	p.Payments[1].Reference = "ÖVERSKRIDET–1234" // 16 characters, 18 bytes in UTF-8
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	checkLayout(t, buf.Bytes())
	f, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "en dash", f.Records[0].(*Payment).Reference, "2025-9000")
	eq(t, "16 characters", f.Records[1].(*Payment).Reference, "ÖVERSKRIDET-1234")
}

// TestCheckPayment checks one order alone, as a payment file would hold it.
func TestCheckPayment(t *testing.T) {
	ok := pay(Withdrawal, day(2026, 12, 1), PeriodOnce, 0, "101", "125", "2025–9000")
	tests := []struct {
		name string
		edit func(p *Payment)
		want string
	}{
		{"good, with an en dash", func(p *Payment) {}, ""},
		{"good, with the payee bankgiro", func(p *Payment) { p.PayeeBankgiro = "991-2346" }, ""},
		{"payer number with a letter", func(p *Payment) { p.PayerNumber = "1O1" }, `payer number "1O1"`},
		{"payer number too long", func(p *Payment) { p.PayerNumber = "12345678901234567" }, "up to 16 digits"},
		{"reference in Chinese", func(p *Payment) { p.Reference = "請求書" }, "no ISO-8859-1 equivalent"},
		{"no amount", func(p *Payment) { p.Amount = 0 }, "amount"},
		{"no calendar day", func(p *Payment) { p.Date = day(2026, 2, 30) }, "no calendar day"},
	}
	for _, tt := range tests {
		p := ok
		tt.edit(&p)
		err := CheckPayment(p)
		var e *Error
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.As(err, &e) || e.Rule != RuleWriteData || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an %s error with %q", tt.name, err, RuleWriteData, tt.want)
		}
	}
}
