package formats

import (
	"strings"
	"testing"
)

// The valid references below are the published examples: "12 34561" is the
// Finnish reference in the banks' structure guidance (as quoted by
// XMLdation), 2004486 is the reference of Finance Finland's Finvoice
// example invoice (Pullin Musiikki Oy), written there padded to 20 digits;
// RF332348236 is the RF form of the Finnish reference 2348236 in the same
// guidance; RF18539007547034, RF485000056789012345, RF45G72UUR and
// RF6518K5 are the ISO 11649 examples that python-stdnum and mobilefish
// publish.
func TestCheckFinnishReference(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "1232", want: "1232"},
		{in: "12 34561", want: "1234561"},
		{in: "1234561", want: "1234561"},
		{in: "2004486", want: "2004486"},
		{in: "00000000000002004486", want: "00000000000002004486"},
		{in: "2348236", want: "2348236"},
		{in: "1009", want: "1009"},
		{in: "1234562", err: "check digit is 2, expected 1"},
		{in: "1001", err: "expected 9"},
		{in: "123", err: "4 to 20 digits"},
		{in: "0001232", want: "0001232"},
		{in: "0000232", err: "4 to 20 digits"},
		{in: "123456789012345678901", err: "4 to 20 digits"},
		{in: "RF18539007547034", err: "only digits"},
		{in: "1234-561", err: "only digits"},
		{in: "", err: "only digits"},
	} {
		got, err := CheckFinnishReference(c.in)
		check(t, "CheckFinnishReference("+c.in+")", err, c.err)
		if c.err == "" && got != c.want {
			t.Errorf("CheckFinnishReference(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFinnishReferenceDigit(t *testing.T) {
	for base, want := range map[string]byte{"123": '2', "123456": '1', "200448": '6', "234823": '6', "100": '9', "": '0', "0": '0'} {
		if got := FinnishReferenceDigit(base); got != want {
			t.Errorf("FinnishReferenceDigit(%q) = %c, want %c", base, got, want)
		}
	}
}

func TestCheckRF(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "RF18539007547034", want: "RF18539007547034"},
		{in: "RF18 5390 0754 7034", want: "RF18539007547034"},
		{in: "rf18 5390 0754 7034", want: "RF18539007547034"},
		{in: "RF485000056789012345", want: "RF485000056789012345"},
		{in: "RF45G72UUR", want: "RF45G72UUR"},
		{in: "RF45g72uur", want: "RF45G72UUR"},
		{in: "RF6518K5", want: "RF6518K5"},
		{in: "RF332348236", want: "RF332348236"},
		{in: "RF17539007547034", err: "check digits 17 are wrong, expected 18"},
		{in: "RF00539007547034", err: "expected 18"},
		{in: "RF18", err: "write RF"},
		{in: "RF1853900754703412345678901", err: "write RF"}, // 26 characters
		{in: "XX18539007547034", err: "write RF"},
		{in: "RF1A539007547034", err: "write RF"},
		{in: "RF18-5390", err: "write RF"},
		{in: "1232", err: "write RF"},
	} {
		got, err := CheckRF(c.in)
		check(t, "CheckRF("+c.in+")", err, c.err)
		if c.err == "" && got != c.want {
			t.Errorf("CheckRF(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRFReference(t *testing.T) {
	for _, c := range []struct{ body, want, err string }{
		{body: "2348236", want: "RF332348236"},
		{body: "539007547034", want: "RF18539007547034"},
		{body: "g72uur", want: "RF45G72UUR"},
		{body: "1", want: "RF741"},
		{body: strings.Repeat("9", 21), want: "RF" + rfDigits(strings.Repeat("9", 21)) + strings.Repeat("9", 21)},
		{body: strings.Repeat("9", 22), err: "1 to 21"},
		{body: "", err: "1 to 21"},
		{body: "AB-1", err: "1 to 21"},
	} {
		got, err := RFReference(c.body)
		check(t, "RFReference("+c.body+")", err, c.err)
		if c.err == "" && got != c.want {
			t.Errorf("RFReference(%q) = %q, want %q", c.body, got, c.want)
		}
		if c.err == "" {
			if _, err := CheckRF(got); err != nil {
				t.Errorf("RFReference(%q) = %q does not pass CheckRF: %v", c.body, got, err)
			}
		}
	}
}

// The valid IDs are Finance Finland's example seller (0199920-7), the
// example of the Perl CheckDigits documentation (1366959-8) and Nokia
// Oyj's public business ID (0112038-9).
func TestCheckYTunnus(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "0199920-7", want: "0199920-7"},
		{in: "1366959-8", want: "1366959-8"},
		{in: "0112038-9", want: "0112038-9"},
		{in: "01999207", want: "0199920-7"},
		{in: "199920-7", want: "0199920-7"}, // an old six-digit ID, padded
		{in: " 0199920-7 ", want: "0199920-7"},
		{in: "0199920-6", err: "check digit is 6, expected 7"},
		{in: "1234567-1", want: "1234567-1"},
		{in: "1234567-2", err: "check digit is 2, expected 1"},
		{in: "1001000-0", err: "check would be 10"},
		{in: "019-9920-7", err: "write seven digits"},
		{in: "0199920-", err: "write seven digits"},
		{in: "FI01999207", err: "write seven digits"},
		{in: "12345678-9", err: "seven digits and a check digit"},
		{in: "", err: "write seven digits"},
	} {
		got, err := CheckYTunnus(c.in)
		check(t, "CheckYTunnus("+c.in+")", err, c.err)
		if c.err == "" && got != c.want {
			t.Errorf("CheckYTunnus(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzFinnishReference: whatever the input, a reference that passes is
// digits only and its last digit is the 7-3-1 check of the rest; and any
// base of 3 to 19 digits with its check digit appended passes.
func FuzzFinnishReference(f *testing.F) {
	for _, s := range []string{"1232", "12 34561", "00000000000002004486", "1234562", "", "RF18"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := CheckFinnishReference(s); err == nil {
			if !allDigits(v) || len(v) > 20 || FinnishReferenceDigit(v[:len(v)-1]) != v[len(v)-1] {
				t.Fatalf("CheckFinnishReference(%q) = %q, which is not a checked reference", s, v)
			}
		}
		base := OnlyDigits(s)
		if len(base) > 19 {
			base = base[:19]
		}
		if len(strings.TrimLeft(base, "0")) >= 3 {
			ref := base + string(FinnishReferenceDigit(base))
			if _, err := CheckFinnishReference(ref); err != nil {
				t.Fatalf("base %q with its check digit: %v", base, err)
			}
		}
	})
}

// FuzzRF: a reference that passes is RF, two digits and letters or digits,
// at most 25 characters; any body RFReference accepts yields a reference
// that passes; and changing one digit of a passing reference's body makes
// it fail (mod 97 catches every single-digit error).
func FuzzRF(f *testing.F) {
	for _, s := range []string{"RF18539007547034", "RF45G72UUR", "2348236", "rf00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := CheckRF(s); err == nil {
			if len(v) > 25 || v[:2] != "RF" || !allDigits(v[2:4]) || !alnum(v[4:]) {
				t.Fatalf("CheckRF(%q) = %q, which is not an RF reference", s, v)
			}
			for i := 4; i < len(v); i++ {
				if v[i] >= '0' && v[i] <= '9' {
					bad := v[:i] + string('0'+(v[i]-'0'+1)%10) + v[i+1:]
					if _, err := CheckRF(bad); err == nil {
						t.Fatalf("%q with digit %d changed (%q) still passes", v, i, bad)
					}
					break
				}
			}
		}
		if r, err := RFReference(s); err == nil {
			if _, err := CheckRF(r); err != nil {
				t.Fatalf("RFReference(%q) = %q fails CheckRF: %v", s, r, err)
			}
		}
	})
}
