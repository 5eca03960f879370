package formats

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]Amount{
		"1656.25": 165625, "-3": -300, "0.5": 50, "+12.10": 1210, "007.00": 700, "1.230": 123, "-0.01": -1,
	} {
		got, err := ParseAmount(in)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.234", "1,5", "1e3", "12.", ".", "--1", "1 000", "NaN", "99999999999999999"} {
		if _, err := ParseAmount(in); err == nil {
			t.Errorf("ParseAmount(%q) accepted", in)
		}
	}
}

func TestAmountText(t *testing.T) {
	for a, want := range map[Amount]string{165625: "1656.25", -1: "-0.01", 0: "0.00", -123456789: "-1234567.89"} {
		if got := a.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", a, got, want)
		}
	}
	if got := Amount(123456789).Swedish(); got != "1\u00a0234\u00a0567,89" {
		t.Errorf("Swedish() = %q", got)
	}
	b, _ := json.Marshal(struct{ A Amount }{165625})
	if string(b) != `{"A":"1656.25"}` {
		t.Errorf("JSON %s: an amount is a string, never a float", b)
	}
	var back struct{ A Amount }
	if err := json.Unmarshal(b, &back); err != nil || back.A != 165625 {
		t.Errorf("round trip: %v %d", err, back.A)
	}
}

func TestDecimalAndRounding(t *testing.T) {
	d, err := ParseDecimal("+0012.500")
	if err != nil || d != "12.500" || d.Decimals() != 3 {
		t.Fatalf("ParseDecimal: %q %v", d, err)
	}
	if d, _ := ParseDecimal("-0.00"); d != "0.00" {
		t.Errorf("negative zero kept its sign: %q", d)
	}
	for r, want := range map[string]Amount{"1.005": 101, "-1.005": -101, "1.0049": 100, "2.5": 250} {
		x, _ := new(big.Rat).SetString(r)
		if got := RatAmount(x); got != want {
			t.Errorf("RatAmount(%s) = %d, want %d (half away from zero)", r, got, want)
		}
	}
}

func TestDetectDescribesUnknownInput(t *testing.T) {
	for head, want := range map[string]string{
		"%PDF-1.7\n":     "looks like PDF",
		"PK\x03\x04rest": "ZIP",
		"<?xml version=\"1.0\"?><Order xmlns=\"x\">": "root element <Order>",
		"{\"a\":1}":          "JSON",
		"\x00\x01\x02binary": "binary",
		"hello;world\n":      "text starting \"hello;world\"",
		"   \n\t":            "blank",
	} {
		_, err := Detect([]byte(head), nil)
		if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), want) {
			t.Errorf("Detect(%q) = %v, want it to say %q", head, err, want)
		}
	}
	if _, err := Detect(nil, nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2024-02-29")
	if err != nil || d.String() != "2024-02-29" {
		t.Fatalf("%v %v", d, err)
	}
	if _, err := ParseDate("2023-02-29"); err == nil {
		t.Error("2023-02-29 accepted")
	}
	var z Date
	if z.String() != "" || !z.IsZero() {
		t.Error("zero date")
	}
}
