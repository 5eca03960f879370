package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound/sftpput/sshdtest"
)

// bankConfig is the embedded default's demo tenant with AutoGiro pushed to
// a bank SFTP server; the other channels stay on the spool.
func bankConfig(data string, bank *sshdtest.Server) string {
	return fmt.Sprintf(`data_dir = %q

[sftp]
listen = ""

[http]
listen = "127.0.0.1:0"

[[tenant]]
id = "demo"
name = "Demo AB"
orgnr = "556000-0001"
seller_orgnr = "556612-3450"
bankgiro = "991-2346"
priority = ["peppol", "email", "sms", "print"]

[tenant.autogiro]
customer_number = "471117"
seal_key_file = %q
test = true

[channel.peppol]
transport = "spool"

[channel.email]
transport = "spool"

[channel.sms]
transport = "spool"

[channel.print]
transport = "spool"
cutoff = { end_of_file = true }

[channel.autogiro]
transport = "sftp"
addr = %q
username = %q
key_file = %q
known_hosts = %q
remote_dir = %q
cutoff = { end_of_file = true }
`, data, filepath.Join(data, "keys", "seal"), bank.Addr, bank.User, bank.KeyFile, bank.KnownHosts, bank.Dir)
}

// dropFile puts body into the demo inbox by rename and waits for its final
// receipt.
func dropFile(t *testing.T, d *daemon, name string, body []byte) *api.Receipt {
	t.Helper()
	tmp := filepath.Join(d.inbox(), "."+name)
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(d.inbox(), name)); err != nil {
		t.Fatal(err)
	}
	return waitFinal(t, d.data, name, 60*time.Second)
}

// The bank channel end to end, the way a biller runs it: Bankgirot's mandate
// advice is dropped, then one CSV of invoices whose payers have mandates.
// One sealed AutoGiro payment file lands on the bank's (OpenSSH) SFTP
// server with a TK82 per invoice, and every receipt says "collected by
// AutoGiro in file NAME". Then the biller cancels a mandate with
// `multikanal mandates cancel`, and a sealed mandate file follows.
func TestAutoGiroFileOnBankSFTP(t *testing.T) {
	if _, err := os.Stat(autogiroExamples); err != nil {
		t.Skipf("shared test data %s is absent; this test needs ../shared beside the project", autogiroExamples)
	}
	bank := sshdtest.Start(t)
	data := t.TempDir()
	os.MkdirAll(filepath.Join(data, "keys"), 0o700)
	if err := os.WriteFile(filepath.Join(data, "keys", "seal"), []byte(ag.TestSealKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "multikanal.toml")
	if err := os.WriteFile(cfgPath, []byte(bankConfig(data, bank)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemonWith(t, data, "--config", cfgPath)

	advice, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if r := dropFile(t, d, "medgivandeavisering.txt", advice); r.State != api.FileApplied {
		t.Fatalf("mandate advice: %s: %s", r.State, r.Reason)
	}
	// The payers whose mandates are now active.
	out, err := exec.Command(binary, "recipients", "list", "--json", "--data", data).Output()
	if err != nil {
		t.Fatalf("recipients list: %v", err)
	}
	var regs []*api.Registration
	json.Unmarshal(out, &regs)
	var payers []string
	for _, r := range regs {
		if r.Channel == "autogiro" {
			payers = append(payers, r.Address)
		}
	}
	// The advice activates three mandates and cancels one of them later
	// in the file (2222101 changes payer number).
	if len(payers) != 2 {
		t.Fatalf("active mandates after the advice: %v, want 101 and 104", payers)
	}

	// The example CSV, the first two invoices paid by AutoGiro.
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	col := indexOf(strings.Split(lines[0], ";"), "autogiro_payer_number")
	payerOf := map[string]string{}
	for i, l := range lines[1:] {
		f := strings.Split(l, ";")
		num := f[1]
		if _, ok := payerOf[num]; !ok && len(payerOf) < len(payers) && f[0] == "invoice" {
			payerOf[num] = payers[len(payerOf)]
		}
		if p, ok := payerOf[num]; ok {
			f[col] = p
		}
		lines[i+1] = strings.Join(f, ";")
	}
	r := dropFile(t, d, "invoices.csv", []byte(strings.Join(lines, "\n")+"\n"))

	files, _ := filepath.Glob(filepath.Join(bank.Dir, "*"))
	hidden, _ := filepath.Glob(filepath.Join(bank.Dir, ".*"))
	if len(files) != 1 || len(hidden) != 0 {
		t.Fatalf("bank server holds %v (hidden %v), want one payment file", files, hidden)
	}
	name := filepath.Base(files[0])
	if !strings.HasPrefix(name, "BFEP.IAGZZ.K0471117.D") {
		t.Errorf("file name %q is not a dataset name for Bankgirot's customer test (sealed with the test key, test = true)", name)
	}
	amounts := map[string]string{}
	for _, doc := range r.Documents {
		p, ok := payerOf[doc.Number]
		if !ok {
			// The example's own payer numbers have no mandate here.
			if c := doc.Collection; c != nil && c.State != api.PaymentOpen {
				t.Errorf("%s: collection %+v, want none (no mandate)", doc.Number, c)
			}
			continue
		}
		if c := doc.Collection; c == nil || c.Reason != "collected by AutoGiro in file "+name || c.File != name {
			t.Errorf("%s (payer %s): collection %+v, want \"collected by AutoGiro in file %s\"", doc.Number, p, doc.Collection, name)
		}
		amounts[p] = doc.Amount
	}
	body, _ := os.ReadFile(files[0])
	if err := ag.VerifySeal(body, ag.TestSealKey); err != nil {
		t.Errorf("seal of %s: %v", name, err)
	}
	f, err := ag.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the payment file does not parse: %v", err)
	}
	if len(f.Records) != len(payerOf) {
		t.Errorf("%d records, want a TK82 for each of %d invoices", len(f.Records), len(payerOf))
	}
	for _, rec := range f.Records {
		p, ok := rec.(*ag.Payment)
		if !ok || p.Type != ag.Withdrawal || amounts[p.PayerNumber] == "" || p.Amount.String() != amounts[p.PayerNumber] {
			t.Errorf("record %+v: want a TK82 of payer %s for %s", rec, p.PayerNumber, amounts[p.PayerNumber])
		}
	}

	// The biller cancels one mandate; the order leaves as a mandate file.
	cmd := exec.Command(binary, "mandates", "cancel", "--data", data, payers[0])
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "cancel payer "+payers[0]) {
		t.Fatalf("mandates cancel: %v\n%s", err, out)
	}
	var list api.MandateOrders
	waitFor(t, 30*time.Second, "the mandate order to be sent", func() bool {
		out, err := exec.Command(binary, "mandates", "list", "--json", "--data", data).Output()
		return err == nil && json.Unmarshal(out, &list) == nil && len(list.Orders) == 1 && list.Orders[0].State == string(store.MandateSent)
	})
	files, _ = filepath.Glob(filepath.Join(bank.Dir, "*"))
	// The bank holds the payment file and, beside it, the mandate file the
	// order names.
	mandateFile := filepath.Join(bank.Dir, list.Orders[0].FileName)
	if len(files) != 2 || list.Orders[0].FileName == name || !slices.Contains(files, mandateFile) {
		t.Fatalf("bank server holds %v; the mandate order names %q", files, list.Orders[0].FileName)
	}
	body, _ = os.ReadFile(filepath.Join(bank.Dir, list.Orders[0].FileName))
	if err := ag.VerifySeal(body, ag.TestSealKey); err != nil {
		t.Errorf("seal of the mandate file: %v", err)
	}
	if f, err := ag.Parse(bytes.NewReader(body)); err != nil || f.Kind != ag.KindMandateOrders || len(f.Records) != 1 ||
		f.Records[0].(*ag.MandateRequest).Type != ag.MandateCancel || strings.TrimLeft(f.Records[0].(*ag.MandateRequest).PayerNumber, "0") != payers[0] {
		t.Errorf("mandate file: %v %+v", err, f)
	}
	human, err := exec.Command(binary, "mandates", "list", "--data", data).Output()
	if err != nil || !strings.Contains(string(human), "sent to Bankgirot in file "+list.Orders[0].FileName) {
		t.Errorf("mandates list: %v\n%s", err, human)
	}
	d.stop()
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
