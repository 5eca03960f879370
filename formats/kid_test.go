package formats

import (
	"strings"
	"testing"
)

func TestCheckKID(t *testing.T) {
	for _, c := range []struct {
		kid string
		m   KIDMethod
		err string // "" for valid, else a part of the message
	}{
		// KIDs of Nets' AvtaleGiro examples (payment claim and mandate
		// files as the netsgiro project publishes them): modulus 10.
		{"008000011688373", KIDMod10, ""},
		{"008000021688389", KIDMod10, ""},
		{"000112000507155", KIDMod10, ""},
		{"001006300507304", KIDMod10, ""},
		{"008000011688374", KIDMod10, "modulus 10 check digit is wrong, expected 3"},
		{"008000011688372", KIDMod11, ""},
		{"008000011688373", KIDMod11, "modulus 11 check digit is wrong, expected 2"},
		// Modulus 11 remainder 10: the check digit is a hyphen.
		{"0412345-", KIDMod11, ""},
		{"04123450", KIDMod11, "expected -"},
		{"0412345-", KIDMod10, "hyphen check digit is modulus 11"},
		{"-", KIDMod11, "1 characters"},
		{"18", KIDMod10, ""},
		{"1", KIDMod10, "1 characters"},
		{strings.Repeat("0", 25), KIDMod10, ""},
		{strings.Repeat("0", 25), KIDMod11, ""},
		{strings.Repeat("0", 26), KIDMod10, "26 characters"},
		{"12-4", KIDMod11, "only digits"},
		{"1234 5674", KIDMod10, "only digits"},
		{"", KIDMod10, "0 characters"},
		{"18", KIDMethod(7), "unknown check digit method"},
	} {
		check(t, "CheckKID("+c.kid+", "+c.m.String()+")", CheckKID(c.kid, c.m), c.err)
	}
}

func TestMakeKID(t *testing.T) {
	for _, c := range []struct {
		base string
		m    KIDMethod
		want string
	}{
		{"00800001168837", KIDMod10, "008000011688373"},
		{"00800001168837", KIDMod11, "008000011688372"},
		{"0412345", KIDMod11, "0412345-"},
		{"1", KIDMod10, "18"},
	} {
		got, err := MakeKID(c.base, c.m)
		if err != nil || got != c.want {
			t.Errorf("MakeKID(%s, %v) = %q, %v; want %s", c.base, c.m, got, err, c.want)
		}
		if err := CheckKID(got, c.m); err != nil {
			t.Errorf("MakeKID(%s, %v) = %s does not pass CheckKID: %v", c.base, c.m, got, err)
		}
	}
	for _, bad := range []string{"", "12a", strings.Repeat("1", 25)} {
		if k, err := MakeKID(bad, KIDMod10); err == nil {
			t.Errorf("MakeKID(%q) = %s, want an error", bad, k)
		}
	}
}

func TestParseKIDMethod(t *testing.T) {
	for in, want := range map[string]KIDMethod{"mod10": KIDMod10, "MOD11": KIDMod11, "modulus 11": KIDMod11, "10": KIDMod10} {
		if got, err := ParseKIDMethod(in); err != nil || got != want {
			t.Errorf("ParseKIDMethod(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseKIDMethod("mod97"); err == nil || !strings.Contains(err.Error(), "mod10 or mod11") {
		t.Errorf("ParseKIDMethod(mod97) = %v", err)
	}
}

func TestCheckNorwegianOrgnr(t *testing.T) {
	for _, c := range []struct{ in, digits, err string }{
		{in: "923609016", digits: "923609016"},
		{in: "923 609 016", digits: "923609016"},
		{in: "974760673", digits: "974760673"},
		{in: "NO974760673MVA", digits: "974760673"},
		// The parties of the official Peppol Norwegian example.
		{in: "123456785", digits: "123456785"},
		{in: "987654325", digits: "987654325"},
		{in: "923609017", err: "check digit is wrong, expected 6"},
		{in: "92360901", err: "must be 9 digits"},
		{in: "9236090161", err: "must be 9 digits"},
		{in: "923/609/016", err: "must be 9 digits"},
		// 10000013x: modulus 11 leaves 10 for the first 8 digits.
		{in: "100000130", err: "no check digit fits"},
		// Passes modulus 11, but PEPPOL-COMMON-R041 wants a number above 0.
		{in: "000000000", err: "all zeros"},
	} {
		d, err := CheckNorwegianOrgnr(c.in)
		check(t, "CheckNorwegianOrgnr("+c.in+")", err, c.err)
		if c.err == "" && d != c.digits {
			t.Errorf("CheckNorwegianOrgnr(%s) = %s, want %s", c.in, d, c.digits)
		}
	}
}

func TestCheckNorwegianAccount(t *testing.T) {
	for _, c := range []struct{ in, digits, err string }{
		{in: "8601.11.17947", digits: "86011117947"},
		{in: "8601 11 17947", digits: "86011117947"},
		{in: "99991042764", digits: "99991042764"},
		// Nets' example claim file uses 88888888888, a placeholder that is
		// no account number.
		{in: "88888888888", err: "check digit is wrong, expected 2"},
		{in: "8601111794", err: "must be 11 digits"},
		{in: "8601/11/17947", err: "only digits"},
	} {
		d, err := CheckNorwegianAccount(c.in)
		check(t, "CheckNorwegianAccount("+c.in+")", err, c.err)
		if c.err == "" && d != c.digits {
			t.Errorf("CheckNorwegianAccount(%s) = %s, want %s", c.in, d, c.digits)
		}
	}
}

// FuzzKID checks the KID functions against each other on any input: a KID
// made from digits passes its own method, and CheckKID never accepts what
// is not 2-25 digits with a digit or (modulus 11) hyphen last.
func FuzzKID(f *testing.F) {
	for _, s := range []string{"008000011688373", "0412345-", "18", "", "-", "12a", strings.Repeat("9", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range []KIDMethod{KIDMod10, KIDMod11} {
			if CheckKID(s, m) == nil {
				if len(s) < 2 || len(s) > 25 || !allDigits(s[:len(s)-1]) {
					t.Fatalf("CheckKID(%q, %v) accepted it", s, m)
				}
				if s[len(s)-1] == '-' && m != KIDMod11 {
					t.Fatalf("CheckKID(%q, %v) accepted a hyphen", s, m)
				}
			}
			if k, err := MakeKID(s, m); err == nil {
				if !strings.HasPrefix(k, s) || len(k) != len(s)+1 || CheckKID(k, m) != nil {
					t.Fatalf("MakeKID(%q, %v) = %q does not check", s, m, k)
				}
			}
		}
		if d, err := CheckNorwegianOrgnr(s); err == nil && (len(d) != 9 || !mod11Valid(d)) {
			t.Fatalf("CheckNorwegianOrgnr(%q) = %q", s, d)
		}
		if d, err := CheckNorwegianAccount(s); err == nil && (len(d) != 11 || !mod11Valid(d)) {
			t.Fatalf("CheckNorwegianAccount(%q) = %q", s, d)
		}
	})
}
