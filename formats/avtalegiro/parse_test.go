package avtalegiro

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
)

const exampleDir = "testdata/netsgiro"

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(exampleDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func date(y int, m time.Month, d int) formats.Date {
	return formats.DateOf(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

func TestParseClaimExample(t *testing.T) {
	tr, err := Parse(bytes.NewReader(readExample(t, "avtalegiro_payment_request.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Sender != "55555555" || tr.Number != "1000081" || tr.Recipient != NetsID || tr.Date != date(2004, 6, 17) {
		t.Errorf("transmission %s %s %s %s", tr.Sender, tr.Number, tr.Recipient, tr.Date)
	}
	if len(tr.Assignments) != 1 {
		t.Fatalf("%d assignments", len(tr.Assignments))
	}
	a := tr.Assignments[0]
	if a.Service != ServiceAvtaleGiro || a.Type != Claims || a.Number != "4000086" || a.Account != "88888888888" || a.AgreementID != "" ||
		a.FirstDate != date(2004, 6, 17) || a.LastDate != date(2004, 6, 17) || len(a.Claims) != 6 {
		t.Fatalf("assignment %+v", a)
	}
	first := a.Claims[0]
	want := Claim{Number: 1, Notice: NoticeByNets, Due: date(2004, 6, 17), Amount: 100, KID: "008000011688373", ShortName: "NAVN",
		Specification: []string{" Gjelder Faktura: 168837  Dato: 19/03/04                  ForfallsDato: 17/06/04"}}
	if !equalClaim(first, want) {
		t.Errorf("claim 1:\n got %+v\nwant %+v", first, want)
	}
	if c := a.Claims[2]; len(c.Specification) != 0 || c.Notice != NoticeByNets {
		t.Errorf("claim 3 has no specification lines: %+v", c)
	}
	if c := a.Claims[5]; c.Notice != NoticeByPayee || c.KID != "008000061688422" || len(c.Specification) != 0 {
		t.Errorf("claim 6 is one the payee notifies of (02): %+v", c)
	}
	// Every KID of Nets' example passes the modulus 10 check.
	for _, c := range a.Claims {
		if err := formats.CheckKID(c.KID, formats.KIDMod10); err != nil {
			t.Error(err)
		}
	}
}

func TestParseMandateExample(t *testing.T) {
	tr, err := Parse(bytes.NewReader(readExample(t, "avtalegiro_agreements.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Sender != NetsID || tr.Number != "1091949" || tr.Recipient != "00010200" || tr.Date != date(2017, 4, 19) {
		t.Errorf("transmission %+v", tr)
	}
	a := tr.Assignments[0]
	if a.Type != Mandates || a.Number != "0000002" || a.Account != "99991042764" || len(a.Mandates) != 16 {
		t.Fatalf("assignment %+v", a)
	}
	if m := a.Mandates[0]; m != (Mandate{Line: 3, Number: 1, Registration: RegisteredNew, KID: "000112000507155", Notice: true}) {
		t.Errorf("mandate 1: %+v", m)
	}
	if m := a.Mandates[1]; m.KID != "001006300507304" || m.Notice {
		t.Errorf("mandate 2 declines the notice (N): %+v", m)
	}
	notices := 0
	for _, m := range a.Mandates {
		if m.Notice {
			notices++
		}
		if err := formats.CheckKID(m.KID, formats.KIDMod10); err != nil {
			t.Error(err)
		}
	}
	if notices != 11 {
		t.Errorf("%d mandates want a notice, the file has 11 J", notices)
	}
	if _, err := formats.CheckNorwegianAccount(a.Account); err != nil {
		t.Errorf("the example's assignment account: %v", err)
	}
}

func TestParseOCRExample(t *testing.T) {
	tr, err := Parse(bytes.NewReader(readExample(t, "ocr_giro_transactions.txt")))
	if err != nil {
		t.Fatal(err)
	}
	a := tr.Assignments[0]
	if a.Service != ServiceOCRGiro || a.AgreementID != "001008566" || a.Account != "99991042764" || len(a.Payments) != 20 ||
		a.SettlementDate != date(1992, 1, 20) {
		t.Fatalf("assignment %+v", a)
	}
	want := Payment{Line: 3, Number: 1, Type: "21", Settled: date(1992, 1, 20), Amount: 102000, KID: "0000531", ArchiveRef: "099038562",
		DebitAccount: "99990512341", BankDate: date(1992, 1, 16), Text: "Foo bar baz"}
	if a.Payments[0] != want {
		t.Errorf("payment 1:\n got %+v\nwant %+v", a.Payments[0], want)
	}
	var sum formats.Amount
	for _, p := range a.Payments {
		sum += p.Amount
	}
	if sum != 5144900 {
		t.Errorf("sum %s", sum)
	}
}

// Broken files are refused with the line and the rule.
func TestParseErrors(t *testing.T) {
	claims := string(readExample(t, "avtalegiro_payment_request.txt"))
	mandates := string(readExample(t, "avtalegiro_agreements.txt"))
	line := func(s string, n int) string { return strings.Split(s, "\n")[n-1] }
	swap := func(s string, n int, with string) string {
		ls := strings.Split(s, "\n")
		ls[n-1] = with
		return strings.Join(ls, "\n")
	}
	for _, c := range []struct {
		name, in string
		line     int
		rule     Rule
		msg      string
	}{
		{"empty", "", 0, RuleKind, "empty"},
		{"not NY", strings.Repeat("X", 80) + "\n", 1, RuleKind, "no AvtaleGiro or OCR giro file"},
		{"BOM", "\xef\xbb\xbf" + claims, 1, RuleEncoding, "byte-order mark"},
		{"short record", swap(claims, 4, line(claims, 4)[:79]), 4, RuleLength, "79 characters"},
		{"UTF-8", swap(claims, 4, strings.Replace(line(claims, 4), "NAVN", "NØVN", 1)), 4, RuleEncoding, "UTF-8"},
		{"control byte", swap(claims, 4, strings.Replace(line(claims, 4), "NAVN", "NA\tN", 1)), 4, RuleEncoding, "control byte 0x09"},
		{"sum", swap(claims, 21, strings.Replace(line(claims, 21), "00000000000000600", "00000000000000700", 1)), 21, RuleSum, "sum is 7.00"},
		{"count", swap(claims, 21, strings.Replace(line(claims, 21), "0000000600000020", "0000000700000020", 1)), 21, RuleCount, "counts 7 transactions"},
		{"records", swap(claims, 22, strings.Replace(line(claims, 22), "0000000600000022", "0000000600000021", 1)), 22, RuleCount, "counts 21 records"},
		{"bad date", swap(claims, 3, strings.Replace(line(claims, 3), "170604", "320604", 1)), 3, RuleField, "not a date"},
		{"bad KID", swap(claims, 3, strings.Replace(line(claims, 3), "008000011688373", "0080000116883X3", 1)), 3, RuleField, "KID"},
		{"item 2 missing", swap(claims, 4, line(claims, 7)), 4, RuleOrder, "type 30 where the specification has type 31"},
		{"spec on 02", swap(claims, 20, line(claims, 20)+"\nNY210249000000640011"+strings.Repeat(" ", 40)+strings.Repeat("0", 20)), 21, RuleRecord, "only claims Nets notifies of"},
		{"mandate notice", swap(mandates, 3, strings.Replace(line(mandates, 3), "155J", "155X", 1)), 3, RuleField, "J (the payer wants a notice) or N"},
		{"registration", swap(mandates, 3, "NY21947000000015"+line(mandates, 3)[16:]), 3, RuleField, "registration type"},
		{"no end", strings.Join(strings.Split(claims, "\n")[:21], "\n"), 21, RuleOrder, "no end record"},
		{"after end", claims + line(claims, 22) + "\n", 23, RuleOrder, "after the transmission's end record"},
		{"service", swap(claims, 2, strings.Replace(line(claims, 2), "NY2100", "NY2200", 1)), 2, RuleRecord, "service 22"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := Parse(strings.NewReader(c.in))
			var e *Error
			if !errors.As(err, &e) || tr != nil {
				t.Fatalf("Parse = %v, %v; want an *Error", tr, err)
			}
			if e.Line != c.line || e.Rule != c.rule || !strings.Contains(e.Msg, c.msg) || !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v; want line %d, %s, %q", err, c.line, c.rule, c.msg)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	if !Sniff(readExample(t, "avtalegiro_agreements.txt")) || Sniff([]byte("0120080611AUTOGIRO")) || Sniff([]byte("NY0900")) {
		t.Error("Sniff recognises a transmission by its start record only")
	}
}

func equalClaim(a, b Claim) bool {
	if len(a.Specification) != len(b.Specification) {
		return false
	}
	for i := range a.Specification {
		if a.Specification[i] != b.Specification[i] {
			return false
		}
	}
	a.Specification, b.Specification = nil, nil
	return a.Number == b.Number && a.Notice == b.Notice && a.Due == b.Due && a.Amount == b.Amount && a.KID == b.KID &&
		a.ShortName == b.ShortName && a.Reference == b.Reference
}
