package avtalegiro

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The writer reproduces the example claim file byte for byte (but for its
// CR LF line ends) from the claims it holds.
func TestWriteReproducesClaimExample(t *testing.T) {
	spec := func(invoice string) []string {
		return []string{" Gjelder Faktura: " + invoice + "  Dato: 19/03/04                  ForfallsDato: 17/06/04"}
	}
	due := date(2004, 6, 17)
	claim := func(kid, invoice string) Claim {
		c := Claim{Notice: NoticeByNets, Due: due, Amount: 100, KID: kid, ShortName: "NAVN"}
		if invoice != "" {
			c.Specification = spec(invoice)
		}
		return c
	}
	tr := Transmission{Sender: "55555555", Number: "1000081", Assignments: []Assignment{{
		Service: ServiceAvtaleGiro, Type: Claims, Number: "4000086", Account: "88888888888",
		Claims: []Claim{
			claim("008000011688373", "168837"), claim("008000021688389", "168838"), claim("008000031688395", ""),
			claim("008000041688401", ""), claim("008000051688416", "168841"),
			{Notice: NoticeByPayee, Due: due, Amount: 100, KID: "008000061688422", ShortName: "NAVN"},
		},
	}}}
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := readExample(t, "avtalegiro_payment_request.txt")
	if got := bytes.ReplaceAll(b.Bytes(), []byte("\r\n"), []byte("\n")); !bytes.Equal(got, want) {
		t.Errorf("written:\n%s\nexample:\n%s", got, want)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("0000\r\n")) || bytes.Count(b.Bytes(), []byte("\r\n")) != 22 {
		t.Error("every record ends with CR LF")
	}
}

// Every example file survives parse, write, parse: the writer keeps what
// the parser reads, and the mandate file comes out byte for byte.
func TestRoundTripExamples(t *testing.T) {
	for _, name := range []string{"avtalegiro_payment_request.txt", "avtalegiro_agreements.txt", "ocr_giro_transactions.txt"} {
		in := readExample(t, name)
		one, err := Parse(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := one.WriteTo(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		two, err := Parse(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("%s: the written file does not parse: %v", name, err)
		}
		if !sameTransmission(one, two) {
			t.Errorf("%s: parse, write, parse changes it:\n%+v\n%+v", name, one, two)
		}
		if name == "avtalegiro_agreements.txt" && !bytes.Equal(bytes.ReplaceAll(b.Bytes(), []byte("\r"), nil), in) {
			t.Errorf("%s is not written byte for byte:\n%s", name, b.Bytes())
		}
	}
}

// A claim file with what Norwegian invoices carry (æ, ø, å, an en dash),
// claims of both notices, and a cancellation assignment: golden file.
func TestWriteGolden(t *testing.T) {
	due := date(2026, 3, 31)
	tr := Transmission{Sender: "12345678", Number: "0331001", Assignments: []Assignment{
		{Service: ServiceAvtaleGiro, Type: Claims, AgreementID: "000000111", Number: "0331001", Account: "86011117947", Claims: []Claim{
			{Notice: NoticeByNets, Due: due, Amount: formats.MustAmount("1249.50"), KID: "0000123455", ShortName: "Bjørn Ås", Reference: "2026–0415",
				Specification: []string{"Faktura 2026-0415 fra Kraftlaget Øst AS", "Strøm mars 2026: 1 249,50 kr", "", "Forfall 31.03.2026"}},
			{Notice: NoticeByPayee, Due: date(2026, 4, 2), Amount: 39900, KID: "0412345-", ShortName: "Kari Nordmann", Reference: "2026-0416"},
		}},
		{Service: ServiceAvtaleGiro, Type: Cancellations, Number: "0331002", Account: "86011117947", Claims: []Claim{
			{Due: date(2026, 3, 20), Amount: 50000, KID: "0000123455", ShortName: "Bjørn Ås", Reference: "2026-0399"},
		}},
	}}
	// The short name is cut by the caller; the writer refuses what does
	// not fit, so the test cuts it as the channel does.
	tr.Assignments[0].Claims[1].ShortName = "Kari Nordm"
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "claims.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("the written file differs from %s (go test -update rewrites it):\n%s", golden, b.Bytes())
	}
	// ISO-8859-1: ø is one byte, 0xF8; every line is 80 bytes.
	if !bytes.Contains(b.Bytes(), []byte("Bj\xf8rn \xc5s")) || !bytes.Contains(b.Bytes(), []byte("2026-0415")) {
		t.Error("text is written in ISO-8859-1, the en dash as a hyphen")
	}
	for i, l := range bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\r\n")), []byte("\r\n")) {
		if len(l) != 80 {
			t.Errorf("line %d has %d bytes", i+1, len(l))
		}
	}
	back, err := Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	c := back.Assignments[0].Claims[0]
	if c.ShortName != "Bjørn Ås" || c.Reference != "2026-0415" || len(c.Specification) != 4 || c.Specification[1] != "Strøm mars 2026: 1 249,50 kr" || c.Specification[2] != "" {
		t.Errorf("read back: %+v", c)
	}
	if back.Date != date(2026, 3, 20) || back.Assignments[1].Type != Cancellations || back.Assignments[1].Claims[0].Amount != 50000 {
		t.Errorf("read back: %+v", back)
	}
}

func TestWriteRefuses(t *testing.T) {
	ok := Claim{Due: date(2026, 3, 31), Amount: 100, KID: "0000123455"}
	with := func(f func(*Claim)) Claim { c := ok; f(&c); return c }
	for _, c := range []struct {
		name  string
		claim Claim
		msg   string
	}{
		{"no due date", with(func(c *Claim) { c.Due = formats.Date{} }), "no due date"},
		{"zero amount", with(func(c *Claim) { c.Amount = 0 }), "more than 0"},
		{"negative amount", with(func(c *Claim) { c.Amount = -5 }), "more than 0"},
		{"amount too large", with(func(c *Claim) { c.Amount = formats.Amount(1e17) }), "17 digits"},
		{"no KID", with(func(c *Claim) { c.KID = "" }), "KID"},
		{"KID letters", with(func(c *Claim) { c.KID = "12A4" }), "KID"},
		{"KID too long", with(func(c *Claim) { c.KID = strings.Repeat("1", 26) }), "KID"},
		{"KID hyphen inside", with(func(c *Claim) { c.KID = "12-4" }), "KID"},
		{"short name too long", with(func(c *Claim) { c.ShortName = "Kari Nordmann" }), "the field holds 10"},
		{"reference not Latin-1", with(func(c *Claim) { c.Reference = "請求9102" }), "no ISO-8859-1 equivalent"},
		{"spec on payee notice", with(func(c *Claim) { c.Notice = NoticeByPayee; c.Specification = []string{"x"} }), "carries none"},
		{"spec too many lines", with(func(c *Claim) { c.Specification = make([]string, 43) }), "43 specification lines"},
		{"spec line too long", with(func(c *Claim) { c.Specification = []string{strings.Repeat("x", 81)} }), "81 characters"},
		{"date out of range", with(func(c *Claim) { c.Due = date(2071, 1, 1) }), "1970-2069"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckClaim(c.claim)
			var e *Error
			if !errors.As(err, &e) || e.Rule != RuleWrite || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("CheckClaim = %v; want %s with %q", err, RuleWrite, c.msg)
			}
			tr := Transmission{Sender: "12345678", Number: "0000001", Assignments: []Assignment{{Service: ServiceAvtaleGiro, Type: Claims,
				Number: "0000001", Account: "86011117947", Claims: []Claim{ok, c.claim}}}}
			var b bytes.Buffer
			if _, err := tr.WriteTo(&b); !errors.As(err, &e) || e.Item != 2 || b.Len() != 0 {
				t.Errorf("WriteTo = %v, %d bytes; want claim 2 refused and nothing written", err, b.Len())
			}
		})
	}
	if err := CheckClaim(ok); err != nil {
		t.Errorf("CheckClaim(valid) = %v", err)
	}
	for _, tr := range []Transmission{
		{Sender: "1234567", Number: "0000001"},
		{Sender: "12345678", Number: "1"},
		{Sender: "12345678", Number: "0000001", Assignments: []Assignment{{Service: ServiceAvtaleGiro, Type: Claims, Number: "0000001", Account: "8601111794"}}},
		{Sender: "12345678", Number: "0000001", Assignments: []Assignment{{Service: ServiceOCRGiro, Type: Mandates, Number: "0000001", Account: "86011117947"}}},
	} {
		if _, err := tr.WriteTo(&bytes.Buffer{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("WriteTo(%+v) = %v; want the header refused", tr, err)
		}
	}
}

func sameTransmission(a, b *Transmission) bool {
	if a.Sender != b.Sender || a.Number != b.Number || a.Recipient != b.Recipient || len(a.Assignments) != len(b.Assignments) {
		return false
	}
	for i := range a.Assignments {
		x, y := a.Assignments[i], b.Assignments[i]
		if x.Service != y.Service || x.Type != y.Type || x.Number != y.Number || x.Account != y.Account ||
			len(x.Claims) != len(y.Claims) || len(x.Mandates) != len(y.Mandates) || len(x.Payments) != len(y.Payments) {
			return false
		}
		for j := range x.Claims {
			if !equalClaim(x.Claims[j], y.Claims[j]) {
				return false
			}
		}
		for j := range x.Mandates {
			if x.Mandates[j] != y.Mandates[j] {
				return false
			}
		}
		for j := range x.Payments {
			if x.Payments[j] != y.Payments[j] {
				return false
			}
		}
	}
	return true
}
