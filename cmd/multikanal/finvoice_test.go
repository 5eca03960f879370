package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/gateway/api"
)

// The Finvoice channel end to end, the way a Swedish biller with Finnish
// consumers runs it: [channel.finvoice] names the biller's bank
// (intermediator), a registration file gives a consumer's e-invoice
// address, and a UBL invoice in euros from the biller (with its Finnish
// e-invoice address, BT-34 under 0037) to that consumer, payable to the
// biller's IBAN with a Finnish reference number, leaves as a Finvoice
// batch file in outbox/finvoice. The channel is registered by one line
// (outbound/channels); nothing else in the daemon names it.
func TestFinvoiceEndToEnd(t *testing.T) {
	data := t.TempDir()
	cfg := fmt.Sprintf(`data_dir = %q

[sftp]
listen = ""

[http]
listen = "127.0.0.1:0"

[[tenant]]
id = "saimaa"
name = "Saimaa Energi AB"
orgnr = "556612-3450"
iban = "FI48 1950 3000 0000 10"
priority = ["finvoice", "print"]

[channel.finvoice]
transport = "spool"
intermediator = "NDEAFIHH"
cutoff = { end_of_file = true }

[channel.print]
transport = "spool"
cutoff = { end_of_file = true }
`, data)
	cfgPath := filepath.Join(t.TempDir(), "multikanal.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binary, "check", "--config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	startDaemonWith(t, data, "--config", cfgPath)
	inbox := filepath.Join(data, "tenants", "saimaa", "inbox")
	drop := func(name string, body []byte) {
		t.Helper()
		tmp := filepath.Join(inbox, "."+name)
		if err := os.WriteFile(tmp, body, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(inbox, name)); err != nil {
			t.Fatal(err)
		}
	}

	drop("registrations.csv", []byte("key;channel;address;valid_from;action\ncustomer:10053;finvoice;FI2112345600000785@NDEAFIHH;2024-01-01;add\n"))
	if r := receiptOf(t, data, "saimaa", "registrations.csv"); r.State != api.FileApplied {
		t.Fatalf("registrations: %s: %s", r.State, r.Reason)
	}

	reference := "1234561" // 123456 and its 7-3-1 check digit
	if _, err := formats.CheckFinnishReference(reference); err != nil {
		t.Fatalf("the test's reference: %v", err)
	}
	amt := formats.MustAmount
	p := func(s string) *formats.Amount { a := amt(s); return &a }
	doc := &formats.Document{
		Kind: formats.KindInvoice, Number: "FI-2026-0001", Currency: "EUR", TypeCode: "380",
		CustomizationID: "urn:cen.eu:en16931:2017", IssueDate: formats.Date{Year: 2026, Month: 12, Day: 1}, DueDate: formats.Date{Year: 2026, Month: 12, Day: 31},
		Seller: formats.Party{Name: "Saimaa Energi AB", LegalID: formats.Identifier{Scheme: "0007", Value: "5566123450"}, VATID: "SE556612345001",
			Endpoint: formats.Identifier{Scheme: "0037", Value: "003701999207"}, // its Finnish branch's OVT code (Y-tunnus 0199920-7)
			Address:  formats.Address{Street: "Storgatan 1", City: "Stockholm", PostalCode: "11122", Country: "SE"}},
		Buyer: formats.Party{Name: "Matti Meikäläinen", CustomerNumber: "10053",
			Address: formats.Address{Street: "Koulukatu 12 B 7", City: "Lappeenranta", PostalCode: "53100", Country: "FI"}},
		PaymentMeans: []formats.PaymentMeans{{Code: "58", PaymentID: reference, Account: "FI4819503000000010", AccountScheme: formats.AccountIBAN, ServiceID: "NDEAFIHH"}},
		VAT:          []formats.VATBreakdown{{Category: "S", Rate: "24", TaxableAmount: amt("100.00"), TaxAmount: amt("24.00")}},
		Totals:       formats.Totals{LineExtension: amt("100.00"), TaxExclusive: amt("100.00"), TaxTotal: p("24.00"), TaxInclusive: amt("124.00"), Payable: amt("124.00")},
		Lines: []formats.Line{{ID: "1", Quantity: "450", Unit: "KWH", NetAmount: amt("100.00"),
			Item: formats.LineItem{Name: "Sähköenergia", VATCategory: "S", VATRate: "24"}, Price: formats.Price{Amount: "0.2222222"}}},
	}
	var inv bytes.Buffer
	if err := ubl.Write(&inv, doc); err != nil {
		t.Fatal(err)
	}
	drop("fi-2026-0001.xml", inv.Bytes())
	r := receiptOf(t, data, "saimaa", "fi-2026-0001.xml")
	if len(r.Documents) != 1 {
		t.Fatalf("receipt: %s: %s, %d documents", r.State, r.Reason, len(r.Documents))
	}
	got := r.Documents[0]
	if got.State != api.DocDelivered || got.Channel != "finvoice" {
		t.Fatalf("invoice %s: %s on %q: %s (route %+v, problems %+v)", got.Number, got.State, got.Channel, got.Reason, got.Route, got.Problems)
	}
	files, _ := filepath.Glob(filepath.Join(data, "outbox", "finvoice", "*"))
	if len(files) != 1 {
		t.Fatalf("outbox/finvoice: %v, want one batch file", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<Finvoice", "FI-2026-0001", "FI2112345600000785", "NDEAFIHH", reference, "FI4819503000000010", "124,00"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the Finvoice batch does not hold %q:\n%s", want, firstLines(string(b), 40))
		}
	}
	if bytes.Contains(b, []byte("\xc3\xa4")) {
		t.Errorf("the batch holds UTF-8 ä; Finvoice is ISO-8859-15 (guidelines 9.3)")
	}
}

// receiptOf waits for the final receipt of a tenant's file.
func receiptOf(t *testing.T, data, tenant, name string) *api.Receipt {
	t.Helper()
	var r api.Receipt
	waitFor(t, 60*time.Second, "a final receipt for "+name, func() bool {
		b, err := os.ReadFile(filepath.Join(data, "tenants", tenant, "receipts", name+".receipt.json"))
		return err == nil && json.Unmarshal(b, &r) == nil && r.Final
	})
	return &r
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
