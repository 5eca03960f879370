package collection

import "testing"

func TestBankAccount(t *testing.T) {
	for in, want := range map[string]string{
		"3300-1212121212":     "3300001212121212",
		"3300001212121212":    "3300001212121212",
		"8327-9, 123 456 789": "8327000123456789",
		"5001 1000020":        "5001000001000020",
		"50011000020":         "5001000001000020",
		"":                    "",
	} {
		if got, err := bankAccount(in); err != nil || got != want {
			t.Errorf("bankAccount(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"33-12", "3300-1234567890123", "123"} {
		if got, err := bankAccount(bad); err == nil {
			t.Errorf("bankAccount(%q) = %q, want an error", bad, got)
		}
	}
}
