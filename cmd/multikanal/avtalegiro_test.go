package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	avg "github.com/multikanal/multikanal/formats/avtalegiro"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/gateway/api"
)

// The AvtaleGiro channel end to end, the way a biller with Norwegian
// customers runs it: [tenant.avtalegiro] holds its agreement with Nets;
// Nets' mandate notification, dropped into the inbox, registers a payer's
// mandate under its KID (leading zeros and all); a UBL invoice in NOK
// payable with that KID is e-mailed, and routing collects it by
// AvtaleGiro beside the e-mail: a claim in the claim file in
// outbox/avtalegiro, and the e-mail says, in Norwegian, that the amount is
// withdrawn instead of asking the customer to pay. Nets' OCR giro
// accounting data, dropped next, reports the withdrawal made, and the
// invoice's receipt says so. The channel is registered by one line
// (outbound/channels); nothing else in the daemon names it.
func TestAvtaleGiroEndToEnd(t *testing.T) {
	data := t.TempDir()
	cfg := fmt.Sprintf(`data_dir = %q

[sftp]
listen = ""

[http]
listen = "127.0.0.1:0"

[[tenant]]
id = "fjord"
name = "Fjordkraft Sverige AB"
orgnr = "556612-3450"
iban = "NO93 8601 1117 947"
priority = ["email", "print"]

[tenant.avtalegiro]
customer_unit = "12345678"
account = "8601.11.17947"
kid = "mod10"
notice = "nets"
lead_days = 9

[channel.email]
transport = "spool"

[channel.print]
transport = "spool"
cutoff = { end_of_file = true }

[channel.avtalegiro]
transport = "spool"
cutoff = { end_of_file = true }
`, data)
	cfgPath := filepath.Join(t.TempDir(), "multikanal.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "check", "--config", cfgPath).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "avtalegiro agreement (customer unit 12345678, account 8601.11.17947)") {
		t.Fatalf("check: %v\n%s", err, out)
	}
	startDaemonWith(t, data, "--config", cfgPath)
	inbox := filepath.Join(data, "tenants", "fjord", "inbox")
	drop := func(name string, body []byte) *api.Receipt {
		t.Helper()
		tmp := filepath.Join(inbox, "."+name)
		if err := os.WriteFile(tmp, body, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(inbox, name)); err != nil {
			t.Fatal(err)
		}
		return receiptOf(t, data, "fjord", name)
	}
	nets := func(as avg.Assignment) []byte {
		t.Helper()
		tr := avg.Transmission{Sender: avg.NetsID, Number: "0000001", Recipient: "12345678", Assignments: []avg.Assignment{as}}
		var b bytes.Buffer
		if _, err := tr.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}

	// 1. Nets' mandate notification: payer KID 0000123455 has a mandate.
	const kid = "0000123455"
	r := drop("avtalegiro-mandates.txt", nets(avg.Assignment{Service: avg.ServiceAvtaleGiro, Type: avg.Mandates, Number: "0000001", Account: "86011117947",
		Mandates: []avg.Mandate{{Registration: avg.RegisteredNew, KID: kid, Notice: true}}}))
	if r.State != api.FileApplied || !strings.Contains(r.Reason, "1 mandates new or changed") {
		t.Fatalf("mandate notification: %s: %s", r.State, r.Reason)
	}
	shown, err := exec.Command(binary, "recipients", "show", "--data", data, "--tenant", "fjord", "kid:"+kid).CombinedOutput()
	if err != nil || !strings.Contains(string(shown), "avtalegiro") || !strings.Contains(string(shown), "avtalegiro-mandates.txt line 3") {
		t.Fatalf("recipients show kid:%s: %v\n%s", kid, err, shown)
	}

	// 2. A NOK invoice payable with the KID, e-mailed to the payer.
	due := formats.DateOf(time.Now().AddDate(0, 1, 0))
	amt := formats.MustAmount
	p := func(s string) *formats.Amount { a := amt(s); return &a }
	doc := &formats.Document{
		Kind: formats.KindInvoice, Number: "NO-2026-0001", Currency: "NOK", TypeCode: "380",
		CustomizationID: "urn:cen.eu:en16931:2017", IssueDate: formats.DateOf(time.Now()), DueDate: due,
		Seller: formats.Party{Name: "Fjordkraft Sverige AB", LegalID: formats.Identifier{Scheme: "0007", Value: "5566123450"}, VATID: "SE556612345001",
			Address: formats.Address{Street: "Storgatan 1", City: "Stockholm", PostalCode: "11122", Country: "SE"}},
		Buyer: formats.Party{Name: "Kari Nordmann", CustomerNumber: "12345", Contact: formats.Contact{Email: "kari@example.no"},
			Address: formats.Address{Street: "Storgata 12", City: "Oslo", PostalCode: "0155", Country: "NO"}},
		PaymentMeans: []formats.PaymentMeans{{Code: "30", PaymentID: kid, Account: "NO9386011117947", AccountScheme: formats.AccountIBAN}},
		VAT:          []formats.VATBreakdown{{Category: "S", Rate: "25", TaxableAmount: amt("999.60"), TaxAmount: amt("249.90")}},
		Totals:       formats.Totals{LineExtension: amt("999.60"), TaxExclusive: amt("999.60"), TaxTotal: p("249.90"), TaxInclusive: amt("1249.50"), Payable: amt("1249.50")},
		Lines: []formats.Line{{ID: "1", Quantity: "1", Unit: "C62", NetAmount: amt("999.60"),
			Item: formats.LineItem{Name: "Strøm mars", VATCategory: "S", VATRate: "25"}, Price: formats.Price{Amount: "999.60"}}},
	}
	var inv bytes.Buffer
	if err := ubl.Write(&inv, doc); err != nil {
		t.Fatal(err)
	}
	r = drop("no-2026-0001.xml", inv.Bytes())
	if len(r.Documents) != 1 {
		t.Fatalf("receipt: %s: %s, %d documents", r.State, r.Reason, len(r.Documents))
	}
	got := r.Documents[0]
	if got.State != api.DocDelivered || got.Channel != "email" {
		t.Fatalf("invoice %s: %s on %q: %s (problems %+v)", got.Number, got.State, got.Channel, got.Reason, got.Problems)
	}
	// The claim file is cut at the end of the file; the receipt follows.
	var c *api.Collection
	waitFor(t, 60*time.Second, "the claim file to be delivered", func() bool {
		r = receiptOf(t, data, "fjord", "no-2026-0001.xml")
		c = r.Documents[0].Collection
		return c != nil && c.AtBank
	})
	if c.Method != "avtalegiro" || c.Payer != kid || c.State != api.PaymentScheduled || !strings.HasPrefix(c.Reason, "collected by AvtaleGiro in file AVTALEGIRO.12345678.") {
		t.Errorf("collection %+v, want scheduled at Nets by AvtaleGiro under KID %s", c, kid)
	}

	// 3. The claim in outbox/avtalegiro.
	files, _ := filepath.Glob(filepath.Join(data, "outbox", "avtalegiro", "AVTALEGIRO.12345678.*.txt"))
	if len(files) != 1 || filepath.Base(files[0]) != c.File {
		t.Fatalf("outbox/avtalegiro: %v, want the claim file %s", files, c.File)
	}
	body, _ := os.ReadFile(files[0])
	tr, err := avg.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the claim file does not parse: %v\n%s", err, body)
	}
	a := tr.Assignments[0]
	if tr.Sender != "12345678" || a.Type != avg.Claims || a.Account != "86011117947" || len(a.Claims) != 1 {
		t.Fatalf("claim file %+v", tr)
	}
	if cl := a.Claims[0]; cl.KID != kid || cl.Amount != amt("1249.50") || cl.Due != due || cl.Reference != "NO-2026-0001" || cl.Notice != avg.NoticeByNets {
		t.Errorf("claim %+v", cl)
	}

	// 4. The payment text on the distribution channel: the e-mail.
	mails, _ := filepath.Glob(filepath.Join(data, "outbox", "email", got.ID+".*"))
	if len(mails) != 1 {
		t.Fatalf("outbox/email: %v", mails)
	}
	text := mailText(t, mails[0])
	withdrawn := "Trekkes via AvtaleGiro " + due.Time().Format("02.01.2006")
	if !strings.Contains(text, withdrawn) || strings.Contains(text, "NO93") || strings.Contains(text, "OCR-nummer") {
		t.Errorf("the e-mail does not say %q, or offers an account to pay to:\n%s", withdrawn, text)
	}

	// 5. Nets' OCR giro accounting data: the withdrawal was made.
	r = drop("ocr-giro.txt", nets(avg.Assignment{Service: avg.ServiceOCRGiro, Type: avg.Claims, Number: "0000002", Account: "86011117947",
		Payments: []avg.Payment{{Type: avg.OCRAvtaleGiro, Settled: due, Amount: amt("1249.50"), KID: kid, ArchiveRef: "123456789"}}}))
	if r.State != api.FileApplied || !strings.Contains(r.Reason, "1 withdrawals collected") {
		t.Fatalf("OCR giro data: %s: %s", r.State, r.Reason)
	}
	waitFor(t, 30*time.Second, "the invoice's receipt to show the payment", func() bool {
		c = receiptOf(t, data, "fjord", "no-2026-0001.xml").Documents[0].Collection
		return c != nil && c.State == api.PaymentCollected
	})
	if c.Paid != amt("1249.50") || !strings.Contains(c.Reason, "withdrawn 1249.50 by AvtaleGiro") || !strings.Contains(c.Reason, "ocr-giro.txt line 3") {
		t.Errorf("collection after Nets' report: %+v", c)
	}
	status, err := exec.Command(binary, "docs", "show", "--data", data, "--json", got.ID).Output()
	if err != nil || !json.Valid(status) || !bytes.Contains(status, []byte(`"collected"`)) {
		t.Errorf("docs show %s: %v\n%s", got.ID, err, status)
	}
}

// mailText is the text part of a spooled e-mail, decoded.
func mailText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if text, ok := plainPart(msg.Header.Get("Content-Type"), msg.Body); ok {
		return text
	}
	t.Fatalf("no text part in %s", path)
	return ""
}

// plainPart finds the text/plain part of a MIME body, in nested
// multiparts too (the text sits in a multipart/alternative beside the
// HTML, inside the multipart/mixed that carries the PDF).
func plainPart(contentType string, body io.Reader) (string, bool) {
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt == "text/plain" {
		text, _ := io.ReadAll(body)
		return string(text), true
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return "", false
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err != nil {
			return "", false
		}
		if text, ok := plainPart(part.Header.Get("Content-Type"), part); ok {
			return text, true
		}
	}
}
