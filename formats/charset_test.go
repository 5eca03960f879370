package formats

import (
	"strings"
	"testing"
)

// TestLatin1 checks what an ISO-8859-1 text field can hold (AutoGiro
// manual 6.1.4): the set as it is, the rest as its nearest equivalent or
// an error naming it.
func TestLatin1(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"ÅRSKORT-2008", "ÅRSKORT-2008", ""},
		{"2025–9000", "2025-9000", ""},
		{"2025—9000 “A” ‘B’", `2025-9000 "A" 'B'`, ""},
		{"Faktura…", "Faktura...", ""},
		{"100 €", "100 EUR", ""},
		{"Čapek Łódź Ærø", "Capek Lódz Ærø", ""},
		{"a\u00a0b\u200bc\td", "a bc d", ""},
		{"½ ¤", "½ ¤", ""},
		{"請求", "", "U+8ACB"},
		{"a\x01", "", "control character U+0001"},
		{"\xff", "", "not UTF-8"},
		{"🙂", "", "no ISO-8859-1 equivalent"},
	}
	for _, tt := range tests {
		got, err := Latin1(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Latin1(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Latin1(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
		}
	}
}

// TestLatin9 checks ISO-8859-15 (Finvoice, guidelines 9.3): it has the
// euro sign and Š, lacks ¤ and ½, which ISO-8859-1 has.
func TestLatin9(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"12 € Šumava Sähkö", "12 € Šumava Sähkö", ""},
		{"½ l, 5 ¤", "1/2 l, 5 ", ""},
		{"Čapek – “A”", `Capek - "A"`, ""},
		{"🙂", "", "no ISO-8859-15 equivalent"},
	}
	for _, tt := range tests {
		got, err := Latin9(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Latin9(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Latin9(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
		}
	}
}

func TestLatin1Bytes(t *testing.T) {
	if b := EncodeLatin1("Åsa ö"); string(b) != "\xc5sa \xf6" {
		t.Errorf("EncodeLatin1: % x", b)
	}
	if s := DecodeLatin1([]byte("\xc5sa \xf6")); s != "Åsa ö" {
		t.Errorf("DecodeLatin1: %q", s)
	}
}
