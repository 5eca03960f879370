package formats

import (
	"strings"
	"testing"
	"time"
)

func TestLuhn(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"50501055", true}, {"9912346", true}, {"5561234567", true}, {"8112189876", true},
		{"50501056", false}, {"", false}, {"0", true}, {"18", true}, {"12a4", false}, {"5050-1055", false},
	} {
		if got := Luhn(c.in); got != c.want {
			t.Errorf("Luhn(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	for _, s := range []string{"5050105", "991234", "556123456", "811218987", "1234567"} {
		if d := LuhnDigit(s); !Luhn(s + string(d)) {
			t.Errorf("LuhnDigit(%q) = %c does not pass Luhn", s, d)
		}
	}
}

func TestCheckOCR(t *testing.T) {
	for _, c := range []struct {
		ocr         string
		lengthDigit bool
		err         string // "" for valid, else a part of the message
	}{
		{"12345674", false, ""},
		{"12345682", true, ""}, // 8 digits: length digit 8, then the check digit
		{"12345682", false, ""},
		{"12345674", true, "length digit is 7, expected 8"},
		{"12345675", false, "check digit is wrong, expected 4"},
		{"18", false, ""},
		{"1", false, "1 digits"},
		{strings.Repeat("0", 25), false, ""},
		{strings.Repeat("0", 26), false, "26 digits"},
		{"1234 5674", false, "only digits"},
		{"", false, "only digits"},
	} {
		err := CheckOCR(c.ocr, c.lengthDigit)
		check(t, "CheckOCR("+c.ocr+")", err, c.err)
	}
}

func check(t *testing.T, call string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error %v", call, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want one containing %q", call, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q does not contain %q", call, err, want)
	}
}

func TestCheckGiro(t *testing.T) {
	for _, c := range []struct {
		giro, digits, err string
		plus              bool
	}{
		{giro: "5050-1055", digits: "50501055"},
		{giro: "991-2346", digits: "9912346"},
		{giro: "50501055", digits: "50501055"},
		{giro: "5050-1056", err: "expected 5"},
		{giro: "505-010", err: "7 or 8 digits"},
		{giro: "5050/1055", err: "7 or 8 digits"},
		{giro: "123456789", err: "7 or 8 digits"},
		{giro: "4 41 09-7", digits: "441097", plus: true},
		{giro: "44 10 09-8", digits: "4410098", plus: true},
		{giro: "18", digits: "18", plus: true},
		{giro: "441009-7", err: "expected 8", plus: true},
		{giro: "1", err: "2 to 8 digits", plus: true},
		{giro: "PG4410098", err: "2 to 8 digits", plus: true},
	} {
		check := CheckBankgiro
		if c.plus {
			check = CheckPlusgiro
		}
		d, err := check(c.giro)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one containing %q", c.giro, err, c.err)
			}
			continue
		}
		if err != nil || d != c.digits {
			t.Errorf("%q = %q, %v; want %q", c.giro, d, err, c.digits)
		}
	}
}

func TestCheckOrgnr(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "556123-4567", want: "5561234567"},
		{in: "5560360793", want: "5560360793"},
		{in: "16556036-0793", want: "5560360793"},
		{in: "2021005489", want: "2021005489"},
		{in: "556123-4568", err: "expected 7"},
		{in: "811218-9876", err: "third digit"},
		{in: "55612345", err: "10 digits"},
		{in: "SE5561234567", err: "10 digits"},
	} {
		got, err := CheckOrgnr(c.in)
		check(t, "CheckOrgnr("+c.in+")", err, c.err)
		if c.err == "" && got != c.want {
			t.Errorf("CheckOrgnr(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCheckPersonnummer(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct{ in, want, err string }{
		{in: "19811218-9876", want: "198112189876"},
		{in: "198112189876", want: "198112189876"},
		{in: "811218-9876", want: "198112189876"},
		{in: "8112189876", want: "198112189876"},
		{in: "811218+9876", want: "188112189876"},   // over 100: the + moves a century back
		{in: "19811278-9873", want: "198112789873"}, // samordningsnummer: day + 60
		{in: "811278-9873", want: "198112789873"},
		{in: "20260215-1231", want: "202602151231"}, // born this year, before now
		{in: "260315-1230", want: "192603151230"},   // later this year is last century
		{in: "19811218-9875", err: "expected 6"},
		{in: "19811318-9876", err: "not a date"},
		{in: "19810230-1234", err: "not a date"},
		{in: "19811292-9876", err: "not a date"},
		{in: "811218/9876", err: "only digits"},
		{in: "81121898", err: "10 or 12 digits"},
	} {
		got, err := CheckPersonnummer(c.in, now)
		if c.err != "" {
			check(t, "CheckPersonnummer("+c.in+")", err, c.err)
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CheckPersonnummer(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestPeppolParticipant(t *testing.T) {
	for _, c := range []struct {
		id   Identifier
		want bool
	}{
		{Identifier{"0007", "5561234567"}, true},
		{Identifier{"0088", "7300010000001"}, true},
		{Identifier{"0192", "999999999"}, true},
		{Identifier{"0235", "12345"}, true}, // in the current Peppol EAS list
		{Identifier{"9901", "12345"}, false},
		{Identifier{"EM", "faktura@example.se"}, false},
		{Identifier{"em", "faktura@example.se"}, false},
		{Identifier{"", "5561234567"}, false},
		{Identifier{"0007", ""}, false},
	} {
		ok, why := PeppolParticipant(c.id)
		if ok != c.want || why == "" {
			t.Errorf("PeppolParticipant(%v) = %v, %q; want %v with a reason", c.id, ok, why, c.want)
		}
	}
}

func TestSwedishMobile(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"070-123 45 67", "+46701234567"},
		{"0701234567", "+46701234567"},
		{"+46 70 123 45 67", "+46701234567"},
		{"+46 (0)73-123 45 67", "+46731234567"},
		{"0046 76 123 45 67", "+46761234567"},
		{"079-123 45 67", "+46791234567"},
		{"072 123 45 67", "+46721234567"},
		{"08-123 456 78", ""},  // Stockholm landline
		{"074-123 45 67", ""},  // not a personal mobile range
		{"070-123 45 6", ""},   // too short
		{"+47 412 34 567", ""}, // Norway
		{"701234567", ""},      // no trunk or country prefix
		{"", ""},
	} {
		got, ok := SwedishMobile(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("SwedishMobile(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}
