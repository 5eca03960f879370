package autogiro

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/outbound"
)

// testKey is Bankgirot's published test seal key.
const testKey = "1234567890ABCDEF1234567890ABCDEF"

var biller = outbound.Biller{ID: "demo", Bankgiro: "9912346"}

// channel is the channel with the demo's agreement, its seal key (key, if
// not "") in a file of its own.
func channel(t *testing.T, key string, test bool) *Channel {
	t.Helper()
	a := &Agreement{CustomerNumber: "471117", Bankgiro: "9912346", Test: test, SealKeyFile: filepath.Join(t.TempDir(), "seal")}
	if key != "" {
		if err := os.WriteFile(a.SealKeyFile, []byte(key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return New(map[string]*Agreement{"demo": a})
}

// TestRenderMandates writes every kind of mandate order and reads the file
// back with the parser: sealed with the biller's key, named as a file to
// Bankgirot, and the orders as given.
func TestRenderMandates(t *testing.T) {
	created := time.Date(2026, 11, 27, 13, 4, 5, 0, time.UTC)
	orders := []ag.MandateRequest{
		{Type: ag.MandateNew, PayerNumber: "101", Account: "3300001212121212", PersonalID: "191212121212"},
		{Type: ag.MandateNew, PayerNumber: "2222101"},
		{Type: ag.MandateNew, PayerNumber: "106", Reject: true},
		{Type: ag.MandateCancel, PayerNumber: "5551004"},
		{Type: ag.MandateChangePayerNumber, PayerNumber: "111", NewPayerNumber: "121"},
	}
	msg, err := channel(t, testKey, false).RenderMandates("B1", created, biller, orders)
	if err != nil {
		t.Fatal(err)
	}
	if want := "BFEP.IAGAG.K0471117.D261127.T140405"; msg.Name != want {
		t.Errorf("name %q, want %q (Stockholm time)", msg.Name, want)
	}
	if err := ag.VerifySeal(msg.Body, testKey); err != nil {
		t.Fatalf("seal: %v", err)
	}
	f, err := ag.Parse(bytes.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("our own mandate file does not parse: %v\n%s", err, msg.Body)
	}
	if f.Kind != ag.KindMandateOrders || len(f.Records) != len(orders) {
		t.Fatalf("parsed %s with %d records, want mandate orders with %d", f.Kind, len(f.Records), len(orders))
	}
	for i, r := range f.Records {
		got := *r.(*ag.MandateRequest)
		want := orders[i]
		got.Pos, got.PayeeBankgiro = want.Pos, ""
		if got != want {
			t.Errorf("order %d read back as %+v, want %+v", i+1, got, want)
		}
	}
	if !strings.Contains(string(msg.Body), "0000000000471117") && !strings.Contains(string(msg.Body), "4711170009912346") {
		t.Errorf("TK01 lacks customer number and bankgiro:\n%s", msg.Body)
	}
}

// TestRenderMandatesRefuses names the rule when an order cannot be
// written, and refuses a biller without a seal key.
func TestRenderMandatesRefuses(t *testing.T) {
	created := time.Date(2026, 11, 27, 13, 4, 5, 0, time.UTC)
	_, err := channel(t, testKey, false).RenderMandates("B1", created, biller, []ag.MandateRequest{{Type: ag.MandateNew, PayerNumber: "12345678901234567"}})
	if err == nil || outbound.ClassOf(err) != outbound.ClassPermanent || !strings.Contains(err.Error(), "payer number") {
		t.Errorf("a 17-digit payer number: %v", err)
	}
	if _, err := channel(t, "", false).RenderMandates("B1", created, biller, []ag.MandateRequest{{Type: ag.MandateCancel, PayerNumber: "1"}}); err == nil || !strings.Contains(err.Error(), "seal key") {
		t.Errorf("no seal key: %v", err)
	}
	other := outbound.Biller{ID: "other"}
	if _, err := channel(t, testKey, false).RenderMandates("B1", created, other, []ag.MandateRequest{{Type: ag.MandateCancel, PayerNumber: "1"}}); err == nil || outbound.ClassOf(err) != outbound.ClassPermanent || !strings.Contains(err.Error(), "no AutoGiro agreement") {
		t.Errorf("a tenant without an agreement: %v", err)
	}
}

// TestRenderBatch checks the payment file of a batch: a withdrawal on the
// due date, GENAST when it has passed, a deposit for a credit note.
func TestRenderBatch(t *testing.T) {
	created := time.Date(2026, 11, 27, 13, 4, 5, 0, time.UTC)
	inv := func(number, ocr, due string, kind formats.Kind, öre int64) *formats.Document {
		d := &formats.Document{Kind: kind, Number: number}
		d.DueDate, _ = formats.ParseDate(due)
		if ocr != "" {
			d.PaymentMeans = []formats.PaymentMeans{{Code: "30", PaymentID: ocr}}
		}
		d.Totals.Payable = formats.Amount(öre)
		return d
	}
	b := outbound.Batch{Key: "B2", Created: created, Biller: biller, Items: []outbound.BatchItem{
		{Key: "a", To: "101", Doc: inv("1001", "100014", "2026-12-27", formats.KindInvoice, 12500)},
		{Key: "b", To: "102", Doc: inv("1002", "", "2026-11-01", formats.KindInvoice, 9900)},
		{Key: "c", To: "103", Doc: inv("1003", "", "2026-12-01", formats.KindCreditNote, -5000)},
	}}
	msg, err := channel(t, testKey, false).RenderBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ag.Parse(bytes.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("%v\n%s", err, msg.Body)
	}
	var got []string
	for _, r := range f.Records {
		p := r.(*ag.Payment)
		when := p.Date.String()
		if p.Immediately {
			when = "GENAST"
		}
		got = append(got, strings.Join([]string{string(p.Type), when, p.PayerNumber, p.Amount.String(), p.Reference}, " "))
	}
	want := []string{"82 2026-12-27 101 125.00 100014", "82 GENAST 102 99.00 1002", "32 2026-12-01 103 50.00 1003"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("payments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTestModeName names a biller's files in test mode for Bankgirot's
// customer test (manual 6.1.5: IAGZZ), and in production IAGAG.
func TestTestModeName(t *testing.T) {
	created := time.Date(2026, 11, 27, 13, 4, 5, 0, time.UTC)
	for _, test := range []bool{false, true} {
		msg, err := channel(t, testKey, test).RenderMandates("B1", created, biller, []ag.MandateRequest{{Type: ag.MandateCancel, PayerNumber: "1"}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{false: "BFEP.IAGAG.", true: "BFEP.IAGZZ."}[test]
		if !strings.HasPrefix(msg.Name, want) {
			t.Errorf("test mode %v: name %q, want %s…", test, msg.Name, want)
		}
	}
}

// TestReference takes the OCR, else the end of the invoice number, in
// ISO-8859-1 and cut by characters.
func TestReference(t *testing.T) {
	for _, tt := range []struct{ number, ocr, want string }{
		{"1001", "100014", "100014"},
		{"1001", "1234567890123456789", "1001"},
		{"2025–9000", "", "2025-9000"},
		{"FAKTURA-2025-ÅÄÖ-000123", "", "-2025-ÅÄÖ-000123"},
		{"ÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅ", "", "ÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅ"},
		{"  42  ", "", "42"},
	} {
		d := &formats.Document{Number: tt.number}
		if tt.ocr != "" {
			d.PaymentMeans = []formats.PaymentMeans{{Code: "30", PaymentID: tt.ocr}}
		}
		got := Reference(d)
		if got != tt.want || !utf8.ValidString(got) || utf8.RuneCountInString(got) > 16 {
			t.Errorf("Reference(number %q, OCR %q) = %q, want %q", tt.number, tt.ocr, got, tt.want)
		}
	}
}

// TestCheckOrder refuses, alone, an order the payment file could not hold.
func TestCheckOrder(t *testing.T) {
	now := time.Date(2026, 11, 27, 13, 4, 5, 0, time.UTC)
	doc := func(number string, öre int64) *formats.Document {
		d := &formats.Document{Kind: formats.KindInvoice, Number: number}
		d.DueDate, _ = formats.ParseDate("2026-12-27")
		d.Totals.Payable = formats.Amount(öre)
		return d
	}
	for _, tt := range []struct {
		name, payer string
		doc         *formats.Document
		want        string
	}{
		{"good", "101", doc("1001", 12500), ""},
		{"en dash in the number", "101", doc("2025–9000", 12500), ""},
		{"payer number with a letter", "1O1", doc("1001", 12500), `payer number "1O1"`},
		{"payer number too long", "12345678901234567", doc("1001", 12500), "up to 16 digits"},
		{"number in Chinese", "101", doc("請求書", 12500), "no ISO-8859-1 equivalent"},
		{"amount too large", "101", doc("1001", 1e12), "amount"},
	} {
		err := CheckOrder(tt.doc, tt.payer, now)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "manual 7.3")):
			t.Errorf("%s: %v, want an error with %q naming the manual", tt.name, err, tt.want)
		}
	}
}

// "Today" is Bankgirot's, in Stockholm: at 00:30 on the due date in
// Sweden (still the day before in UTC) the order goes GENAST and the
// invoice says "närmaste bankdag", as the payment file will.
func TestTodayIsStockholms(t *testing.T) {
	d := &formats.Document{Kind: formats.KindInvoice, Number: "1001"}
	d.DueDate, _ = formats.ParseDate("2026-03-31")
	d.Totals.Payable = 12500
	justAfterMidnight := time.Date(2026, 3, 30, 22, 30, 0, 0, time.UTC) // 00:30 CEST on the 31st
	if p := Order(d, "101", justAfterMidnight); !p.Immediately {
		t.Errorf("order at 00:30 Swedish time on the due date: %+v, want GENAST", p)
	}
	if w := New(nil).Words(d, justAfterMidnight); w.When != "närmaste bankdag" || !w.On.IsZero() {
		t.Errorf("words %+v, want närmaste bankdag and no day", w)
	}
	if w := New(nil).Words(d, time.Date(2026, 3, 30, 21, 30, 0, 0, time.UTC)); w.On != d.DueDate {
		t.Errorf("words the day before %+v, want the due date", w)
	}
	dayBefore := time.Date(2026, 3, 30, 21, 30, 0, 0, time.UTC) // 23:30 CEST on the 30th
	if p := Order(d, "101", dayBefore); p.Immediately || p.Date.String() == "" {
		t.Errorf("order on the day before: %+v, want dated the due date", p)
	}
}
