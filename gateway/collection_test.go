package gateway

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/config"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	agchannel "github.com/multikanal/multikanal/outbound/autogiro"
)

const autogiroExamples = "../../shared/testdata/autogiro"

// adviceSummary is what Bankgirot's example mandate advice does: 103 and
// 101 become active, 104 is 105's mandate under its new payer number
// (information code 05, comments 32 and 33), four mandates end.
const adviceSummary = "2 mandates active, 1 mandates active under a new payer number, 1 old payer numbers no longer valid, 4 mandates cancelled"

// A mandate advice from Bankgirot, then invoices for its payers: the payer
// with an active mandate is collected in a sealed AutoGiro payment file
// beside the invoice's own channel; the payer whose mandate was cancelled is
// not, and the receipt says why.
func TestMandateAdviceThenCollection(t *testing.T) {
	advice, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "medav.txt", advice)
	waitUntil(t, func() bool { r, err := receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
	r, _ := receipts.Build(d.store, "F0000001")
	if r.State != api.FileApplied || !strings.Contains(r.Reason, adviceSummary) {
		t.Fatalf("mandate advice: %s: %s", r.State, r.Reason)
	}

	csvBody := emailBatch(t, 2)
	// Invoice 0 names payer 101 (active), invoice 1 payer 102 (cancelled).
	lines := strings.Split(string(csvBody), "\n")
	header := strings.Split(lines[0], ";")
	col := -1
	for i, h := range header {
		if h == "autogiro_payer_number" {
			col = i
		}
	}
	if col < 0 {
		t.Fatal("the example CSV has no autogiro_payer_number column")
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		f := strings.Split(lines[i], ";")
		if strings.Contains(lines[i], "2025-9000") {
			f[col] = "101"
		} else {
			f[col] = "102"
		}
		lines[i] = strings.Join(f, ";")
	}
	drop(t, d, "ag.csv", []byte(strings.Join(lines, "\n")))
	var rc *api.Receipt
	waitUntil(t, func() bool {
		var err error
		rc, err = receipts.Build(d.store, "F0000002")
		return err == nil && rc.Final
	})
	byNumber := map[string]api.ReceiptDocument{}
	for _, doc := range rc.Documents {
		byNumber[doc.Number] = doc
	}
	collected, skipped := byNumber["2025-9000"], byNumber["2025-9001"]
	if collected.State != api.DocDelivered || collected.Channel != "email" {
		t.Errorf("the invoice itself must still go by e-mail: %s on %s", collected.State, collected.Channel)
	}
	c := collected.Collection
	if c == nil || c.State != api.PaymentScheduled || !c.AtBank || !strings.HasPrefix(c.Reason, "collected by AutoGiro in file BFEP.IAGZZ.K0471117.") {
		t.Fatalf("payer 101: collection %+v", c)
	}
	if s := skipped.Collection; s == nil || s.State != api.PaymentOpen || !strings.Contains(s.Reason, "cancelled") || !strings.Contains(s.Reason, "line 10") {
		t.Errorf("payer 102: collection %+v, want none with the cancellation named", s)
	}

	// The payment file is on the (spool) bank transport, sealed with the
	// demo's key, and holds one TK82 for payer 101 with the invoice amount.
	files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "autogiro", "BFEP.IAGZZ.*"))
	if len(files) != 1 || filepath.Base(files[0]) != c.File {
		t.Fatalf("autogiro outbox: %v, want one file %s", files, c.File)
	}
	body, _ := os.ReadFile(files[0])
	if err := ag.VerifySeal(body, ag.TestSealKey); err != nil {
		t.Errorf("seal: %v", err)
	}
	parsed, err := ag.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("our payment file does not parse: %v", err)
	}
	var payments []*ag.Payment
	for _, r := range parsed.Records {
		if p, ok := r.(*ag.Payment); ok {
			payments = append(payments, p)
		}
	}
	if len(payments) != 1 || payments[0].PayerNumber != "101" || payments[0].Amount.String() != collected.Amount {
		t.Errorf("payments in the file: %+v (want payer 101, amount %s)", payments, collected.Amount)
	}
}

// Every Bankgirot example file dropped into the inbox is applied (or, for
// the payment order example whose bankgiro is not the demo's, refused
// whole), with a receipt saying what it changed.
func TestBankgirotExampleFiles(t *testing.T) {
	if _, err := os.Stat(autogiroExamples); err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	cases := []struct{ file, state, reason string }{
		{"autogiro_exempelfil-utdrag-ur-medgivanderegistret_sv.txt", "applied", "5 mandates active, 2 mandates under enquiry at the payer's bank"},
		{"autogiro_exempelfil_nya_medgivanden_via_internetbank_sv.txt", "applied", "4 internet-bank mandates awaiting approval"},
		{"autogiro_exempelfiler_medgivandeavisering_sv.txt", "applied", adviceSummary},
		{"autogiro_exempelfil_bet-spec-o-tk_sv.txt", "applied", "14 payments not matching"},
		{"autogiro_exempelfilavvisade_betalningsuppdrag_sv.txt", "applied", "8 payments not matching"},
		{"autogiro_exempelfilutdrag-ur-bevakningsregistret_sv.txt", "applied", "10 payments not matching"},
		{"autogiro_exempelfil_bg-max-forma_sv.txt", "applied", "4 payments not matching"},
		{"autogiro_exempelfil_medgivandeunderlag_sv.txt", "applied", "13 mandate orders queued for Bankgirot (6 new, 2 reject, 2 cancel, 3 change)"},
		{"autogiro_exempelfilermakuleringar_andringar-av-betalningar_sv.txt", "applied", "8 cancellations or changes not carried out, 10 payments not matching"},
		{"autogiro_exempelfilermakulerings-andringsunderlag_sv.txt", "rejected", "a file to Bankgirot; the gateway writes payment files"},
		{"autogiro_exempelfil-betalningsunderlag_sv.txt", "rejected", "a file to Bankgirot; the gateway writes payment files"},
	}
	d := startTestDaemon(t, nil, nil)
	for i, c := range cases {
		body, err := os.ReadFile(filepath.Join(autogiroExamples, c.file))
		if err != nil {
			t.Fatal(err)
		}
		drop(t, d, c.file, body)
		id := fileID(i + 1)
		var r *api.Receipt
		waitUntil(t, func() bool { r, err = receipts.Build(d.store, id); return err == nil && r.Final })
		if string(r.State) != c.state || !strings.Contains(r.Reason, c.reason) {
			t.Errorf("%s: %s %q, want %s with %q", c.file, r.State, r.Reason, c.state, c.reason)
		}
	}
	// After all of them: 101 active (advice line 12, the bank's answer to
	// the enquiry the register extract showed), 103 cancelled (line 8),
	// 105 no longer valid (line 15: its payer number changed to 104, line
	// 14), 104 active, 111 awaiting approval, 7771014 active (register
	// extract, status 1).
	for key, want := range map[string]string{"customer:101": "active", "customer:103": "revoked", "customer:105": "revoked", "customer:104": "active",
		"customer:111": "request", "customer:7771014": "active"} {
		_, regs, err := d.registry.ByKey("demo", key)
		if err != nil {
			t.Fatal(err)
		}
		got := "none"
		for _, reg := range regs {
			switch {
			case reg.Channel == "autogiro" && reg.RevokedAt.IsZero():
				got = "active"
			case reg.Channel == "autogiro-request" && reg.RevokedAt.IsZero() && got != "active":
				got = "request"
			case reg.Channel == "autogiro-enquiry" && reg.RevokedAt.IsZero() && got != "active":
				got = "enquiry"
			case reg.Channel == "autogiro" && got == "none":
				got = "revoked"
			}
		}
		if got != want {
			t.Errorf("%s: %s, want %s (%d registrations)", key, got, want, len(regs))
		}
	}
}

// A bank file whose closing record counts wrong is refused whole, naming
// the line, and nothing of it is applied.
func TestBankFileWithWrongCountAppliesNothing(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	lines := strings.Split(string(body), "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "09") && len(l) >= 21 {
			// Positions 15-21 of TK09 hold the number of TK73 records.
			lines[i] = l[:14] + "0000099" + l[21:]
		}
	}
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "bad.txt", []byte(strings.Join(lines, "\r\n")))
	var r *api.Receipt
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
	if r.State != api.FileRejected || !strings.Contains(r.Reason, "line") {
		t.Errorf("state %s: %s", r.State, r.Reason)
	}
	list, _ := d.registry.List("demo", false)
	if len(list) != 0 {
		t.Errorf("%d registrations applied from a refused file", len(list))
	}
}

func fileID(n int) string { return "F" + strings.Repeat("0", 7-len(itoa(n))) + itoa(n) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// With refund_credit_notes, a credit note for a payer with a mandate is
// paid back as an AutoGiro deposit (TK32) in the payment file.
func TestCreditNoteRefundedByDeposit(t *testing.T) {
	advice, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	d := startTestDaemon(t, func(c *config.Config) {
		c.Tenants[0].Agreements["autogiro"].(*agchannel.Agreement).RefundCreditNotes = true
	}, nil)
	drop(t, d, "medav.txt", advice)
	waitUntil(t, func() bool { r, err := receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
	body := setColumn(t, exampleInvoices(t, "2025-1007"), "autogiro_payer_number", "101")
	drop(t, d, "credit.csv", body)
	var r *api.Receipt
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000002"); return err == nil && r.Final })
	c := r.Documents[0].Collection
	if c == nil || c.State != api.PaymentScheduled || !c.AtBank || !strings.Contains(c.Reason, "paid back by AutoGiro deposit") {
		t.Fatalf("credit note collection: %+v", c)
	}
	files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "autogiro", "BFEP.IAGZZ.*"))
	if len(files) != 1 {
		t.Fatalf("payment files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	parsed, err := ag.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var deposits int
	for _, rec := range parsed.Records {
		if p, ok := rec.(*ag.Payment); ok && p.Type == ag.Deposit && p.PayerNumber == "101" && p.Amount.String() == r.Documents[0].Amount {
			deposits++
		}
	}
	if deposits != 1 {
		t.Errorf("%d TK32 deposits of %s for payer 101 in the payment file", deposits, r.Documents[0].Amount)
	}
}
