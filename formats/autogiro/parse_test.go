package autogiro

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// exampleDir holds Bankgirot's example files; tests read them in place.
const exampleDir = "../../../shared/testdata/autogiro"

// example reads one of Bankgirot's example files, skipping the test when
// the shared test data is not next to the project.
func example(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(exampleDir, name))
	if err != nil {
		t.Skipf("Bankgirot's example files are absent (%v); they live next to the project in shared/testdata/autogiro", err)
	}
	return b
}

func countTK(f *File) map[string]int {
	n := map[string]int{}
	for _, r := range f.Records {
		tk := r.Position().TK
		if tk == "" {
			tk = "register"
		}
		n[tk]++
	}
	return n
}

func day(y int, m time.Month, d int) Date { return Date{y, m, d} }

// TestParseExamples parses all 11 of Bankgirot's example files and checks
// each against values read off the file by hand.
func TestParseExamples(t *testing.T) {
	tests := []struct {
		file   string
		kind   FileKind
		counts map[string]int
		check  func(t *testing.T, f *File)
	}{
		{"autogiro_exempelfil-betalningsunderlag_sv.txt", KindPaymentOrders, map[string]int{"82": 5, "32": 4}, func(t *testing.T, f *File) {
			first := f.Records[0].(*Payment)
			eq(t, "first payer", first.PayerNumber, "101")
			eq(t, "first reference", first.Reference, "ÅRSKORT-2008")
			eq(t, "first date", first.Date, day(2008, 6, 12))
			fourth := f.Records[3].(*Payment)
			eq(t, "4th amount", fourth.Amount, formats.MustAmount("5000.25"))
			eq(t, "4th period", fourth.Period, PeriodQuarterlyLastDay)
			eq(t, "4th repeats", fourth.Repeats, 3)
			eq(t, "5th GENAST", f.Records[4].(*Payment).Immediately, true)
			eq(t, "customer", f.CustomerNumber, "471117")
			eq(t, "bankgiro", f.PayeeBankgiro, "9902346")
		}},
		{"autogiro_exempelfil-utdrag-ur-medgivanderegistret_sv.txt", KindMandateRegister, map[string]int{"register": 7}, func(t *testing.T, f *File) {
			m := f.Records[0].(*RegisteredMandate)
			eq(t, "personal id", m.PersonalID, "196803050000")
			eq(t, "account", m.Account, "8901003232323232")
			eq(t, "created", m.Created, day(1999, 1, 1))
			eq(t, "pending", m.Pending, true)
			eq(t, "4th changed", f.Records[3].(*RegisteredMandate).Changed, Date{})
			eq(t, "3rd payer", f.Records[2].(*RegisteredMandate).PayerNumber, "7771014")
			eq(t, "bankgiro", f.PayeeBankgiro, "9912346")
		}},
		{"autogiro_exempelfil_bet-spec-o-tk_sv.txt", KindPaymentSpecification, map[string]int{"15": 1, "82": 8, "16": 1, "32": 4, "17": 2, "77": 2}, func(t *testing.T, f *File) {
			st := f.Records[0].(*Settlement)
			eq(t, "deposit amount", st.Amount, formats.MustAmount("15000"))
			eq(t, "deposit count", st.Count, 5)
			eq(t, "status of payer 106", f.Records[6].(*Payment).Status, StatusInsufficientFunds)
			eq(t, "status of payer 2222101", f.Records[8].(*Payment).Status, StatusRenewedFundsCheck)
			rf := f.Records[len(f.Records)-3].(*Refund)
			eq(t, "refund payer", rf.PayerNumber, "114")
			eq(t, "refund reason", rf.Reason, RefundMandateRevoked)
			eq(t, "refund date", rf.RefundDate, day(2009, 11, 10))
			eq(t, "written", f.WriteDate, time.Date(2009, 11, 10, 19, 30, 55, 0, time.UTC))
		}},
		{"autogiro_exempelfil_bg-max-forma_sv.txt", KindBgMax, map[string]int{"20": 4, "15": 1}, func(t *testing.T, f *File) {
			p := f.Records[0].(*BgMaxPayment)
			eq(t, "payer bankgiro", p.PayerBankgiro, "3783511")
			eq(t, "name", p.Name, "Kalles Plåt AB")
			eq(t, "org number", p.OrgNumber, "5500001234")
			eq(t, "reference", p.Reference, "65598")
			eq(t, "deposit", f.Records[4].(*Settlement).Amount, formats.MustAmount("700"))
			eq(t, "test file", f.Test, false)
		}},
		{"autogiro_exempelfil_medgivandeunderlag_sv.txt", KindMandateOrders, map[string]int{"04": 8, "03": 2, "05": 3}, func(t *testing.T, f *File) {
			m := f.Records[0].(*MandateRequest)
			eq(t, "account", m.Account, "3300001212121212")
			eq(t, "personal id", m.PersonalID, "191212121212")
			eq(t, "reject 106", f.Records[6].(*MandateRequest).Reject, true)
			eq(t, "new payer number", f.Records[12].(*MandateRequest).NewPayerNumber, "3330202")
		}},
		{"autogiro_exempelfil_nya_medgivanden_via_internetbank_sv.txt", KindInternetMandates, map[string]int{"52": 4}, func(t *testing.T, f *File) {
			m := f.Records[2].(*InternetMandate)
			eq(t, "payer", m.PayerNumber, "113")
			eq(t, "notice", m.Notice, 1)
			eq(t, "info", m.Info, "I LIKE TO PAY MONTHLY")
			eq(t, "address", m.Address[2], "8601 EAST ORCHARD ROAD")
			eq(t, "postal code", m.PostalCode, "")
			eq(t, "country", m.City, "USA")
			eq(t, "city", f.Records[0].(*InternetMandate).City, "SKARPNÄCK")
		}},
		{"autogiro_exempelfilavvisade_betalningsuppdrag_sv.txt", KindRejectedPayments, map[string]int{"82": 3, "32": 5}, func(t *testing.T, f *File) {
			p := f.Records[0].(*Payment)
			eq(t, "payer", p.PayerNumber, "3333")
			eq(t, "rejection", p.Rejection, RejectAccountClosed)
			eq(t, "amount", p.Amount, formats.MustAmount("75"))
			eq(t, "bad period echoed", f.Records[1].(*Payment).Period, Period("9"))
			eq(t, "reference", f.Records[3].(*Payment).Reference, "RIDLEKTION ÅTERB")
		}},
		{"autogiro_exempelfiler_medgivandeavisering_sv.txt", KindMandateAdvice, map[string]int{"73": 10}, func(t *testing.T, f *File) {
			a := f.Records[0].(*MandateAdvice)
			eq(t, "payer", a.PayerNumber, "103")
			eq(t, "info", a.Info, InfoNewByPayee)
			eq(t, "comment", a.Comment, CommentNewMandate)
			eq(t, "effect", a.Effect(), EffectActive)
			c := f.Records[3].(*MandateAdvice)
			eq(t, "cancelled by payer", c.Effect(), EffectCancelled)
			eq(t, "bankgiro payer id", c.PersonalID, "995556000521")
			eq(t, "cancelled by payee", f.Records[2].(*MandateAdvice).Effect(), EffectCancelled)
			eq(t, "payer number changed: the new number", f.Records[8].(*MandateAdvice).Effect(), EffectChanged)
			eq(t, "payer number changed: the old number (05/33)", f.Records[9].(*MandateAdvice).Effect(), EffectReplaced)
			eq(t, "failed new mandate", f.Records[5].(*MandateAdvice).Effect(), EffectNone)
		}},
		{"autogiro_exempelfilermakuleringar_andringar-av-betalningar_sv.txt", KindAmendments, map[string]int{"21": 1, "22": 1, "23": 2, "24": 2, "25": 3, "03": 1, "11": 1, "26": 1, "27": 1, "28": 2, "29": 3}, func(t *testing.T, f *File) {
			a := f.Records[0].(*Amendment)
			eq(t, "bankgiro-wide count", a.Count, 23)
			eq(t, "bankgiro-wide amount", a.Amount, formats.MustAmount("33350"))
			b := f.Records[3].(*Amendment)
			eq(t, "date echoed as sent", b.Date, day(2008, 6, 31))
			eq(t, "comment", b.Comment, AmendBadDate)
			c := f.Records[2].(*Amendment)
			eq(t, "reference", c.Reference, "RIDLEKTION25")
			eq(t, "payment type", c.PaymentType, Withdrawal)
			eq(t, "new date", f.Records[14].(*Amendment).NewDate, day(2008, 6, 16))
		}},
		{"autogiro_exempelfilermakulerings-andringsunderlag_sv.txt", KindAmendmentOrders, map[string]int{"23": 3, "24": 2, "25": 4, "26": 1, "27": 1, "28": 2, "29": 4}, func(t *testing.T, f *File) {
			a := f.Records[len(f.Records)-1].(*Amendment)
			eq(t, "payer", a.PayerNumber, "110")
			eq(t, "reference", a.Reference, "UTBETALN3")
			eq(t, "amount", a.Amount, formats.MustAmount("400"))
			eq(t, "type", a.PaymentType, Deposit)
			eq(t, "new date", a.NewDate, day(2008, 6, 24))
			eq(t, "all payers", f.Records[9].(*Amendment).PayerNumber, "")
		}},
		{"autogiro_exempelfilutdrag-ur-bevakningsregistret_sv.txt", KindPaymentRegister, map[string]int{"82": 5, "32": 5}, func(t *testing.T, f *File) {
			p := f.Records[1].(*Payment)
			eq(t, "period", p.Period, PeriodMonthly)
			eq(t, "repeats", p.Repeats, 6)
			eq(t, "amount", p.Amount, formats.MustAmount("5505.55"))
			eq(t, "reference", f.Records[5].(*Payment).Reference, "ÅTERBET")
		}},
	}
	seen := 0
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := example(t, tt.file)
			seen++
			if !Sniff(b) {
				t.Errorf("Sniff = false")
			}
			f, err := Parse(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "kind", f.Kind, tt.kind)
			eq(t, "counts", countTK(f), tt.counts)
			tt.check(t, f)
		})
	}
	if all, _ := filepath.Glob(filepath.Join(exampleDir, "*.txt")); seen > 0 && len(all) != len(tests) {
		t.Errorf("%d example files, %d tested", len(all), len(tests))
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestParseBad changes one thing in a good file and checks that the whole
// file is refused with the line and the rule.
func TestParseBad(t *testing.T) {
	advice := string(example(t, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	tests := []struct {
		name string
		in   string
		line int
		rule Rule
	}{
		{"wrong count in TK09", strings.Replace(advice, "092008061199000000010", "092008061199000000011", 1), 16, RuleCount},
		{"unknown TK", strings.Replace(advice, "\r\n7300099123460000000007771014", "\r\n7400099123460000000007771014", 1), 13, RuleCode},
		{"mandate for another bankgiro", strings.Replace(advice, "73000991234600000000000001048901", "73000991234700000000000001048901", 1), 14, RuleBankgiro},
		{"record too long", strings.Replace(advice, "033320080611\r\n", "033320080611       X\r\n", 1), 7, RuleLength},
		{"no closing record", advice[:strings.Index(advice, "0920080611")], 15, RuleOrder},
		{"blank line between records", strings.Replace(advice, "033320080611\r\n", "033320080611\r\n\r\n", 1), 8, RuleOrder},
		{"letter in a number", strings.Replace(advice, "7300099123460000000000000103", "73000991234600000000000O0103", 1), 6, RuleField},
		{"old layout", "0120080611AUTOGIRO9900" + strings.Repeat(" ", 40) + "4711170009912346\r\n", 1, RuleKind},
		{"control character", strings.Replace(advice, "AG-MEDAVI", "AG-MED\x01VI", 1), 5, RuleChar},
		{"not autogiro", "hello\r\nworld\r\n", 0, RuleKind},
		{"empty", "", 0, RuleEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tt.in))
			if f != nil || err == nil {
				t.Fatalf("Parse = %v, %v; want an error", f, err)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is no *Error wrapping ErrInvalid", err)
			}
			if e.Line != tt.line || e.Rule != tt.rule {
				t.Errorf("error at line %d rule %s (%v), want line %d rule %s", e.Line, e.Rule, err, tt.line, tt.rule)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	for _, s := range []string{"", "hello", "%PDF-1.4", "<?xml version=\"1.0\"?>", "01;02;03\r\n"} {
		if Sniff([]byte(s)) {
			t.Errorf("Sniff(%q) = true", s)
		}
	}
}

// TestParseEncoding refuses input that is not ISO-8859-1 with CR LF,
// saying what it is: UTF-8 (whose å would read as "Ã¥"), a byte-order mark,
// CR-only line ends. Sniff still recognises such a file, so the refusal
// reaches the sender with this reason.
func TestParseEncoding(t *testing.T) {
	advice := example(t, "autogiro_exempelfiler_medgivandeavisering_sv.txt")
	latin1 := string(advice)
	utf8Text := strings.NewReplacer("\xe5", "å", "\xd6", "Ö", "\x96", "–").Replace(latin1)
	tk01 := "01AUTOGIRO              20080611            AG-MEDAVI           4711170009912346"
	tk09 := "092008061199000000001"
	tk73 := "7300099123460000000000000103                                 033320080611"
	// A lower-case å in a field that is text: the payer's name in a new
	// internet-bank mandate.
	internet := "512008061199000009912346AG-EMEDGIV\r\n52000991234600000000000001118901003232323232005556000521     0\r\n54ANNA STRÅLE\r\n592008061199000000002\r\n"
	tests := []struct {
		name string
		in   string
		line int
		want string
	}{
		{"UTF-8 title line", utf8Text, 1, "the file is UTF-8"},
		{"UTF-8 lower-case å in a name", strings.Replace(internet, "Å", "å", 1), 3, "the file is UTF-8"},
		{"UTF-8 byte-order mark", "\xef\xbb\xbf" + tk01 + "\r\n" + tk09 + "\r\n", 1, "UTF-8 byte-order mark"},
		{"UTF-16 byte-order mark", utf16LE(tk01 + "\r\n" + tk09 + "\r\n"), 1, "UTF-16 byte-order mark"},
		{"CR-only line ends", tk01 + "\r" + tk73 + "\r" + tk09 + "\r", 1, "CR alone"},
		{"a CR inside a line", tk01 + "\r\n" + tk73 + "\rX\r\n" + tk09 + "\r\n", 2, "CR without LF"},
		{"Windows-1252 dash", strings.Replace(latin1, "AG-MEDAVI", "AG\x96MEDAVI", 1), 5, "Windows-1252"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tt.in))
			var e *Error
			if f != nil || !errors.As(err, &e) {
				t.Fatalf("Parse = %v, %v; want an *Error", f, err)
			}
			if e.Line != tt.line || !strings.Contains(e.Msg, tt.want) {
				t.Errorf("error %v: want line %d and %q", err, tt.line, tt.want)
			}
			if !Sniff([]byte(tt.in)) {
				t.Errorf("Sniff does not recognise it: the file would be refused as an unknown format")
			}
		})
	}
	// The same internet-bank mandate in ISO-8859-1 reads, å included.
	f, err := Parse(strings.NewReader(strings.Replace(internet, "Å", "\xe5", 1)))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "name", f.Records[0].(*InternetMandate).Address[0], "ANNA STRåLE")
}

// utf16LE is s (ASCII) as Windows writes "Unicode" text.
func utf16LE(s string) string {
	b := []byte{0xff, 0xfe}
	for _, c := range []byte(s) {
		b = append(b, c, 0)
	}
	return string(b)
}

// TestSniffOrders tells a biller's order files to Bankgirot from the files
// Bankgirot sends back, on Bankgirot's examples, sealed or not.
func TestSniffOrders(t *testing.T) {
	for name, want := range map[string]bool{
		"autogiro_exempelfil-betalningsunderlag_sv.txt":                     true,
		"autogiro_exempelfil_medgivandeunderlag_sv.txt":                     true,
		"autogiro_exempelfilermakulerings-andringsunderlag_sv.txt":          true,
		"autogiro_exempelfiler_medgivandeavisering_sv.txt":                  false,
		"autogiro_exempelfil_bet-spec-o-tk_sv.txt":                          false,
		"autogiro_exempelfil_bg-max-forma_sv.txt":                           false,
		"autogiro_exempelfil-utdrag-ur-medgivanderegistret_sv.txt":          false,
		"autogiro_exempelfilutdrag-ur-bevakningsregistret_sv.txt":           false,
		"autogiro_exempelfil_nya_medgivanden_via_internetbank_sv.txt":       false,
		"autogiro_exempelfilermakuleringar_andringar-av-betalningar_sv.txt": false,
	} {
		b := example(t, name)
		if got := SniffOrders(b); got != want || !Sniff(b) {
			t.Errorf("%s: SniffOrders = %v, want %v (Sniff %v)", name, got, want, Sniff(b))
		}
	}
	f := PaymentFile{WriteDate: DateOf(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)), CustomerNumber: "471117", PayeeBankgiro: "9912346",
		Payments: []Payment{{Type: Withdrawal, Period: PeriodOnce, PayerNumber: "101", Amount: 100, Immediately: true, Reference: "1"}}}
	var raw bytes.Buffer
	if _, err := f.WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	sealed, err := Seal(raw.Bytes(), TestSealKey, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !SniffOrders(sealed) || SniffOrders([]byte("hello")) {
		t.Errorf("a sealed payment file is not an order file, or hello is")
	}
}
