package autogiro

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// testKey is Bankgirot's HMAC test key (manual 4.1).
const testKey = "1234567890ABCDEF1234567890ABCDEF"

func TestKVV(t *testing.T) {
	for _, key := range []string{testKey, strings.ToLower(testKey)} {
		got, err := KVV(key)
		if err != nil || got != "FF365893D899291C3BF505FB3175E880" {
			t.Errorf("KVV(%s) = %s, %v; want FF365893D899291C3BF505FB3175E880", key, got, err)
		}
	}
	for _, bad := range []string{"", "1234", testKey + "00", "1234567890ABCDEF1234567890ABCDEG"} {
		if _, err := KVV(bad); err == nil {
			t.Errorf("KVV(%q) accepted", bad)
		}
	}
}

// TestNormalisation uses Bankgirot's published test case with line ends
// (five lines of zeros) and checks the character mapping.
func TestNormalisation(t *testing.T) {
	key, _ := parseKey(testKey)
	if got := mac(key, []byte("00000\r\n0000\r\n000\r\n00\r\n0")); got != "9BA94363739D45256DF4B6FA3B9DE1CD" {
		t.Errorf("seal of the five lines = %s, want 9BA94363739D45256DF4B6FA3B9DE1CD", got)
	}
	// Each of É Ä Ö Å Ü é ä ö å ü seals as its 7-bit stand-in, every other
	// byte outside 32–126 as 195, and CR and LF not at all.
	pairs := [][2]string{
		{"\xC9\xC4\xD6\xC5\xDC\xE9\xE4\xF6\xE5\xFC", "@[\\]^`{|}~"},
		{"A\tB\x00C\xFFD\xC3", "A\xC3B\xC3C\xC3D\xC3"},
		{"AB\r\nC\nD\r", "ABCD"},
	}
	for _, p := range pairs {
		if mac(key, []byte(p[0])) != mac(key, []byte(p[1])) {
			t.Errorf("%q does not seal as %q", p[0], p[1])
		}
	}
}

func TestSeal(t *testing.T) {
	var content bytes.Buffer
	if _, err := examplePayments().WriteTo(&content); err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 4, 29, 10, 0, 0, 0, time.UTC)
	sealed, err := Seal(content.Bytes(), testKey, date)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(sealed), "\r\n"), "\r\n")
	first, last := lines[0], lines[len(lines)-1]
	if first != "00240429HMAC"+strings.Repeat(" ", 68) {
		t.Errorf("TK00 = %q", first)
	}
	if !strings.HasPrefix(last, "99240429FF365893D899291C3BF505FB3175E880") || len(last) != RecordLen {
		t.Errorf("TK99 = %q", last)
	}
	checkLayout(t, sealed)
	// The seal covers TK00 and the content: recompute it independently.
	key, _ := parseKey(testKey)
	body := sealed[:bytes.LastIndex(sealed[:len(sealed)-2], []byte("\r\n"))+2]
	if want := mac(key, body); last[40:72] != want {
		t.Errorf("seal %s, want %s over TK00 and the content", last[40:72], want)
	}
	if err := VerifySeal(sealed, testKey); err != nil {
		t.Errorf("VerifySeal: %v", err)
	}
	// A sealed file still parses: Parse skips the seal records.
	if f, err := Parse(bytes.NewReader(sealed)); err != nil || len(f.Records) != 9 {
		t.Errorf("Parse of the sealed file: %v", err)
	}
	if _, err := Seal(sealed, testKey, date); err == nil {
		t.Errorf("sealing a sealed file again was accepted")
	}

	tampered := bytes.Replace(sealed, []byte("0000000750"), []byte("0000007500"), 1)
	checkRule(t, "tampered", VerifySeal(tampered, testKey), RuleSeal)
	checkRule(t, "other key", VerifySeal(sealed, "00000000000000000000000000000001"), RuleKey)
	checkRule(t, "unsealed", VerifySeal(content.Bytes(), testKey), RuleSeal)
	checkRule(t, "no TK99", VerifySeal(sealed[:len(sealed)-82], testKey), RuleSeal)
}

func checkRule(t *testing.T, what string, err error, rule Rule) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Rule != rule {
		t.Errorf("%s: %v, want rule %s", what, err, rule)
	}
}

func TestUploadName(t *testing.T) {
	at := time.Date(2008, 6, 11, 14, 5, 9, 0, time.UTC)
	for _, tt := range []struct {
		customer string
		test     bool
		want     string
	}{
		{"471117", false, "BFEP.IAGAG.K0471117.D080611.T140509"},
		{"4711", true, "BFEP.IAGZZ.K0004711.D080611.T140509"},
	} {
		got, err := UploadName(tt.customer, at, tt.test)
		if err != nil || got != tt.want {
			t.Errorf("UploadName(%s) = %s, %v; want %s", tt.customer, got, err, tt.want)
		}
	}
	if _, err := UploadName("12345678", at, false); err == nil {
		t.Errorf("an 8-digit customer number was accepted")
	}
	eq(t, "mandate advice dataset", KindMandateAdvice.ReportService(), "UAGU4")
}
