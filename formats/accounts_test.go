package formats

import (
	"strings"
	"testing"
)

func TestAccountChecks(t *testing.T) {
	for _, c := range []struct {
		check func(string) (string, error)
		in    string
		want  string // the normalised value, or a part of the error
		ok    bool
	}{
		{CheckIBAN, "SE45 5000 0000 0583 9825 7466", "SE4550000000058398257466", true},
		{CheckIBAN, "se35-5000-0000-0549-1000-0003", "SE3550000000054910000003", true},
		{CheckIBAN, "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", true},
		{CheckIBAN, "GB82WEST12345698765432", "GB82WEST12345698765432", true},
		{CheckIBAN, "SE45 5000 0000 0583 9825 7467", "check digits 45 are wrong", false},
		{CheckIBAN, "SE45 5000 0000 0583 9825 74", "a Swedish IBAN has 24 characters", false},
		{CheckIBAN, "5050-1055", "write the country code", false},
		{CheckIBAN, "SE45 5000 0000 0583 9825 746Ö", "write the country code", false},
		{CheckSwish, "123 456 78 90", "1234567890", true},
		{CheckSwish, "1231181189", "1231181189", true},
		{CheckSwish, "070-123 45 67", "starting with 123", false},
		{CheckSwish, "123 456 78", "10 digits", false},
		{CheckSwish, "123x4567890", "10 digits", false},
		{CheckVATID, "SE 556123-4567 01", "SE556123456701", true},
		{CheckVATID, "de123456789", "DE123456789", true},
		{CheckVATID, "SE556123456801", "check digit of organisationsnummer 5561234568 is wrong, expected 7", false},
		{CheckVATID, "SE5561234567", "SE, the 10-digit organisationsnummer and 01", false},
		{CheckVATID, "5561234567", "country prefix", false},
	} {
		got, err := c.check(c.in)
		switch {
		case c.ok && (err != nil || got != c.want):
			t.Errorf("%q: %q, %v; want %q", c.in, got, err, c.want)
		case !c.ok && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: error %v, want one containing %q", c.in, err, c.want)
		}
	}
}
