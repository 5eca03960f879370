package receipts

import (
	"strings"
	"testing"
)

func TestReceiptNames(t *testing.T) {
	for _, c := range []struct {
		name, plain, qualified string
	}{
		{"inv.csv", "inv.csv.receipt.json", "inv.csv.F0000042.receipt.json"},
		{strings.Repeat("a", 242), strings.Repeat("a", 242) + ".receipt.json", strings.Repeat("a", 233) + ".F0000042.receipt.json"},
		{strings.Repeat("a", 243), "", strings.Repeat("a", 233) + ".F0000042.receipt.json"},
		{strings.Repeat("ö", 127), "", strings.Repeat("ö", 116) + ".F0000042.receipt.json"}, // 233 bytes would split an ö
		// A name that ends like a file id never gets the plain form, so it
		// can never be another file's qualified name.
		{"inv.csv.F0000041", "", "inv.csv.F0000041.F0000042.receipt.json"},
	} {
		plain, qualified := receiptNames(c.name, "F0000042")
		if plain != c.plain || qualified != c.qualified || len(qualified) > nameMax {
			t.Errorf("receiptNames(%q):\n got %q, %q\nwant %q, %q", c.name, plain, qualified, c.plain, c.qualified)
		}
	}
}

func TestTenantText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"email: delivered to /var/lib/multikanal/outbox/email/F0000001-0000000.email.eml", "email: delivered to F0000001-0000000.email.eml"},
		{"spool: writing /var/lib/multikanal/outbox/print/.x.tmp: no space left on device", "spool: writing .x.tmp: no space left on device"},
		{"cannot read the spooled file: open /srv/mk/spool/F0000001: permission denied", "cannot read the spooled file: open F0000001: permission denied"},
		{"print: delivered to sftp://mk@print.example.se:22/in/batch-1.zip", "print: delivered to batch-1.zip"},
		{`reading "/etc/multikanal/acme.seal": gone`, `reading "acme.seal": gone`},
		{"uploads go to /inbox/<name>", "uploads go to /inbox/<name>"},
		{"sms: posting to https://api.46elks.com/a1/sms: timeout", "sms: posting to https://api.46elks.com/a1/sms: timeout"},
		{"due 2025/04/02 and 1/2 paid", "due 2025/04/02 and 1/2 paid"},
		{"no path here", "no path here"},
	} {
		if got := tenantText(c.in); got != c.want {
			t.Errorf("tenantText(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}
