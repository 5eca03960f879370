package gateway

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/convert"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// The mandate states of the matrix, each an AutoGiro payer number after
// Bankgirot's example files are applied: the register extract makes 101
// and 102 active, then the mandate advice renews 101 (with personnummer
// 191212121212) and cancels 102 (line 10); 999 was never known.
const (
	mandateActive    = "active"
	mandateNone      = "none"
	mandateCancelled = "cancelled"
)

var payerOf = map[string]string{mandateActive: "101", mandateNone: "999", mandateCancelled: "102"}

// paymentInvoice is one invoice of the matrix: the example's Peppol
// invoice 2025-1001 made reachable on every channel, forced to one, for
// an AutoGiro payer, with its own number and OCR and a due date ahead (so
// the withdrawal has a date, not GENAST).
type paymentInvoice struct {
	channel, mandate string
	number, ocr, due string
}

func (p paymentInvoice) rows(t *testing.T, n int) []byte {
	body := exampleInvoices(t, "2025-1001")
	pnr := "198112189876"
	if p.mandate == mandateActive {
		pnr = "191212121212" // the personnummer on payer 101's mandate
	}
	for col, v := range map[string]string{
		"invoice_number": p.number, "ocr": p.ocr, "due_date": p.due, "channel": p.channel,
		"autogiro_payer_number": payerOf[p.mandate], "buyer_customer_number": payerOf[p.mandate],
		"buyer_personnummer": pnr, "buyer_email": fmt.Sprintf("kund%d@example.se", n), "buyer_mobile": "070-123 45 67",
	} {
		body = setColumn(t, body, col, v)
	}
	return body
}

// ocrNumber makes a valid OCR number (mod 10) from n.
func ocrNumber(n int) string {
	s := fmt.Sprintf("2026%04d", n)
	return s + string(formats.LuhnDigit(s))
}

// dropBankFiles registers the matrix's mandates the way a biller's do:
// Bankgirot's register extract, then its mandate advice (which cancels
// 102), then the Kivra and e-faktura registrations of both consumers.
func dropBankFiles(t *testing.T, d *Daemon) {
	t.Helper()
	for i, f := range []string{"autogiro_exempelfil-utdrag-ur-medgivanderegistret_sv.txt", "autogiro_exempelfiler_medgivandeavisering_sv.txt"} {
		b, err := os.ReadFile(filepath.Join(autogiroExamples, f))
		if err != nil {
			t.Skipf("shared test data absent: %v", err)
		}
		drop(t, d, f, b)
		id := fileID(i + 1)
		waitUntil(t, func() bool { r, err := receipts.Build(d.store, id); return err == nil && r.Final })
		if r, _ := receipts.Build(d.store, id); r.State != api.FileApplied {
			t.Fatalf("%s: %s: %s", f, r.State, r.Reason)
		}
	}
	drop(t, d, "registrations.csv", []byte("key;channel;address;valid_from;action\n"+
		"pnr:191212121212;kivra;;;add\npnr:198112189876;kivra;;;add\n"+
		"pnr:191212121212;efaktura;;;add\npnr:198112189876;efaktura;;;add\n"))
	waitUntil(t, func() bool { r, err := receipts.Build(d.store, fileID(3)); return err == nil && r.Final })
}

// TestPaymentTextOnEveryChannel is the matrix: every distribution channel
// × {active mandate, no mandate, mandate cancelled by a bank file}, on the
// real daemon with its spool transports, checking what actually left in
// outbox/<channel>/. Collected by AutoGiro: "Dras via autogiro <date>", no
// account or OCR to pay to, not payable in Kivra, Peppol code 49 with the
// mandate's payer number; and a TK82 in the payment file under that payer.
// Not collected: the bankgiro and OCR, never a word of AutoGiro, and no
// TK82.
func TestPaymentTextOnEveryChannel(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	dropBankFiles(t, d)
	var hist string
	d.store.View(func(tx store.Tx) error {
		hist = route.MandateHistory(tx, "demo", "autogiro", store.RecipientKey{Type: store.KeyCustomer, Value: "102"})
		return nil
	})
	if !strings.Contains(hist, "autogiro_exempelfiler_medgivandeavisering_sv.txt line 10") {
		t.Fatalf("payer 102's mandate is not cancelled by the advice: %q", hist)
	}

	due := formats.DateOf(time.Now().AddDate(0, 1, 0)).String()
	channels := []string{"peppol", "efaktura", "kivra", "email", "sms", "print"}
	var invoices []paymentInvoice
	body := exampleInvoices(t) // the header
	for _, m := range []string{mandateActive, mandateNone, mandateCancelled} {
		for _, ch := range channels {
			n := len(invoices) + 1
			p := paymentInvoice{channel: ch, mandate: m, number: fmt.Sprintf("2026-%04d", n), ocr: ocrNumber(n), due: due}
			invoices = append(invoices, p)
			rows := p.rows(t, n)
			body = append(body, rows[bytes.IndexByte(rows, '\n')+1:]...)
		}
	}
	drop(t, d, "matrix.csv", body)
	var r *api.Receipt
	waitUntil(t, func() bool {
		var err error
		if r, err = receipts.Build(d.store, fileID(4)); err != nil || !r.Final {
			return false
		}
		for _, doc := range r.Documents {
			if c := doc.Collection; c != nil && c.State == api.PaymentScheduled && !c.AtBank {
				return false // the payment file is not sent yet
			}
		}
		return true
	})
	docs := map[string]api.ReceiptDocument{}
	for _, doc := range r.Documents {
		docs[doc.Number] = doc
	}
	outbox := filepath.Join(d.dataDir, "outbox")

	for _, p := range invoices {
		t.Run(p.channel+"/"+p.mandate, func(t *testing.T) {
			doc := docs[p.number]
			if doc.State != api.DocDelivered || doc.Channel != p.channel {
				t.Fatalf("%s: %s on %q, want delivered on %s: %s", p.number, doc.State, doc.Channel, p.channel, doc.Reason)
			}
			collected := p.mandate == mandateActive
			switch c := doc.Collection; {
			case c == nil:
				t.Errorf("no collection recorded")
			case collected && (c.State != api.PaymentScheduled || !c.AtBank || c.Payer != "101"):
				t.Errorf("collection %+v, want scheduled at the bank for payer 101", c)
			case !collected && c.State != api.PaymentOpen:
				t.Errorf("collection %+v, want open", c)
			}
			texts := channelTexts(t, outbox, p, doc.ID)
			parts := map[string]int{"email": 2} // the text and the PDF; one part elsewhere
			if want := max(parts[p.channel], 1); len(texts) != want {
				t.Fatalf("outbox/%s for %s: read %d parts (%v), want %d", p.channel, p.number, len(texts), texts, want)
			}
			for what, text := range texts {
				lower := strings.ToLower(text)
				if collected {
					if p.channel != "peppol" && !strings.Contains(text, "Dras via autogiro "+p.due) {
						t.Errorf("%s does not say %q:\n%s", what, "Dras via autogiro "+p.due, text)
					}
					for _, no := range []string{"991-2346", "9912346", "OCR-nummer", "Betala med Swish", "Betala:"} {
						if strings.Contains(text, no) {
							t.Errorf("%s, collected by AutoGiro, offers %q to pay to:\n%s", what, no, text)
						}
					}
					continue
				}
				if strings.Contains(lower, "autogiro") {
					t.Errorf("%s, not collected, mentions AutoGiro:\n%s", what, text)
				}
				if !strings.Contains(text, "991-2346") && !strings.Contains(text, "9912346") || !strings.Contains(text, p.ocr) {
					t.Errorf("%s does not say to pay to bankgiro 991-2346 with OCR %s:\n%s", what, p.ocr, text)
				}
			}
			// The demo tenant's Swish number is offered beside the
			// bankgiro where the channel shows the customer a way to pay
			// by hand, and never with AutoGiro (above).
			if !collected && (p.channel == "email" || p.channel == "sms" || p.channel == "print") {
				offered := false
				for _, text := range texts {
					offered = offered || strings.Contains(strings.ReplaceAll(text, " ", ""), "1231181189")
				}
				if !offered {
					t.Errorf("outbox/%s for %s does not offer the tenant's Swish number 123 118 11 89: %v", p.channel, p.number, texts)
				}
			}
		})
	}

	// The payment file: one TK82 for each invoice with the active mandate,
	// under the mandate's payer number, none for the others.
	files, _ := filepath.Glob(filepath.Join(outbox, "autogiro", "BFEP.IAGZZ.*"))
	want := map[string]bool{}
	for _, p := range invoices {
		if p.mandate == mandateActive {
			want[p.ocr] = true
		}
	}
	got := map[string]bool{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		parsed, err := ag.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, rec := range parsed.Records {
			if pay, ok := rec.(*ag.Payment); ok {
				if pay.Type != ag.Withdrawal || strings.TrimLeft(pay.PayerNumber, "0") != "101" || !want[strings.TrimLeft(pay.Reference, "0 ")] {
					t.Errorf("unexpected payment in %s: %+v", filepath.Base(f), pay)
				}
				got[strings.TrimLeft(pay.Reference, "0 ")] = true
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("TK82 withdrawals for %v, want %v", got, want)
	}
}

// channelTexts reads what left on the invoice's channel and returns what a
// customer (or, for Peppol, the buyer's system) sees, by part.
func channelTexts(t *testing.T, outbox string, p paymentInvoice, docID string) map[string]string {
	t.Helper()
	dir := filepath.Join(outbox, p.channel)
	one := func() []byte {
		files, _ := filepath.Glob(filepath.Join(dir, docID+".*"))
		if len(files) != 1 {
			t.Fatalf("outbox/%s: %v, want one file for %s", p.channel, files, docID)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out := map[string]string{}
	switch p.channel {
	case "peppol":
		b := one()
		var inv struct {
			Means []struct {
				Code    string `xml:"PaymentMeansCode"`
				ID      string `xml:"PaymentID"`
				Account string `xml:"PayeeFinancialAccount>ID"`
				Mandate string `xml:"PaymentMandate>ID"`
			} `xml:"Invoice>PaymentMeans"`
		}
		if err := xml.Unmarshal(b, &inv); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, m := range inv.Means {
			lines = append(lines, fmt.Sprintf("code %s account %s reference %s mandate %s", m.Code, m.Account, m.ID, m.Mandate))
		}
		out["peppol payment means"] = strings.Join(lines, "\n")
		want := fmt.Sprintf("code 30 account 9912346 reference %s mandate ", p.ocr)
		if p.mandate == mandateActive {
			want = fmt.Sprintf("code 49 account  reference %s mandate 101", p.ocr)
		}
		if out["peppol payment means"] != want {
			t.Errorf("peppol payment means:\n%s\nwant\n%s", out["peppol payment means"], want)
		}
		if p.mandate != mandateActive && bytes.Contains(b, []byte("PaymentMandate")) {
			t.Error("peppol: a payment mandate on an invoice not collected")
		}
	case "efaktura":
		files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, item := range strings.Split(string(b), "<Item>")[1:] {
				if strings.Contains(item, "<ID>"+p.number+"</ID>") {
					out["e-faktura"] = item
				}
			}
		}
		if p.mandate == mandateActive && strings.Contains(out["e-faktura"], "PaymentMeans") {
			t.Errorf("e-faktura: payment means on an invoice withdrawn by AutoGiro:\n%s", out["e-faktura"])
		}
	case "kivra":
		var c struct {
			Subject string `json:"subject"`
			Type    string `json:"type"`
			Parts   []struct {
				Data string `json:"data"`
			} `json:"parts"`
			Payment *struct {
				Payable bool   `json:"payable"`
				Account string `json:"account"`
				Options []struct {
					Reference string `json:"reference"`
				} `json:"options"`
			} `json:"payment_multiple_options"`
		}
		b := one()
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		pdf, _ := base64.StdEncoding.DecodeString(c.Parts[0].Data)
		out["kivra PDF"] = pdfText(t, pdf)
		if p.mandate == mandateActive {
			if c.Type != "letter" || c.Payment != nil || bytes.Contains(b, []byte(`"payable"`)) {
				t.Errorf("kivra: collected by AutoGiro but type %q, payment %+v", c.Type, c.Payment)
			}
		} else if c.Type != "invoice" || c.Payment == nil || !c.Payment.Payable || c.Payment.Account != "9912346" || c.Payment.Options[0].Reference != p.ocr {
			t.Errorf("kivra: not collected, but type %q, payment %+v", c.Type, c.Payment)
		}
	case "email":
		msg, err := mail.ReadMessage(bytes.NewReader(one()))
		if err != nil {
			t.Fatal(err)
		}
		// The text sits inside multipart/alternative (beside its HTML
		// version), itself inside multipart/related with the logo.
		var walk func(ct string, body io.Reader)
		walk = func(ct string, body io.Reader) {
			_, params, _ := mime.ParseMediaType(ct)
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextPart() // decodes quoted-printable
				if err != nil {
					break
				}
				pct := part.Header.Get("Content-Type")
				if strings.HasPrefix(pct, "multipart/") {
					walk(pct, part)
					continue
				}
				b, _ := io.ReadAll(part)
				switch {
				case strings.HasPrefix(pct, "text/plain"):
					out["e-mail text"] = string(b)
				case strings.HasPrefix(pct, "application/pdf"):
					pdf, _ := base64.StdEncoding.DecodeString(string(b))
					out["e-mail PDF"] = pdfText(t, pdf)
				}
			}
		}
		walk(msg.Header.Get("Content-Type"), msg.Body)
	case "sms":
		form, err := url.ParseQuery(string(one()))
		if err != nil {
			t.Fatal(err)
		}
		out["SMS"] = form.Get("message")
	case "print":
		files, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
		for _, f := range files {
			zr, err := zip.OpenReader(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range zr.File {
				if strings.HasSuffix(e.Name, "-"+p.number+".pdf") {
					rc, _ := e.Open()
					b, _ := io.ReadAll(rc)
					rc.Close()
					out["printed PDF"] = pdfText(t, b)
				}
			}
			zr.Close()
		}
	}
	for k, v := range out {
		if v == "" {
			delete(out, k)
		}
	}
	return out
}

// pdfText is the text of a PDF as poppler's pdftotext reads it, with
// no-break spaces made plain.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed; install it to check the text of the PDFs that leave")
	}
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.ReplaceAll(string(b), "\u00a0", " ")
}

// An invoice for customer 101, who has the mandate, naming payer number
// 999: the withdrawal must not go out under 999 (Bankgirot refuses it) nor
// silently under 101 (the biller's data is wrong); the invoice is refused,
// naming both numbers and the rule, and the payment file holds no TK82.
func TestPayerNumberConflictIsRefused(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	dropBankFiles(t, d)
	body := setColumn(t, exampleInvoices(t, "2025-1002"), "buyer_customer_number", "101")
	body = setColumn(t, body, "autogiro_payer_number", "999")
	drop(t, d, "conflict.csv", body)
	var r *api.Receipt
	waitUntil(t, func() bool { var err error; r, err = receipts.Build(d.store, fileID(4)); return err == nil && r.Final })
	doc := r.Documents[0]
	if doc.State != api.DocRejected || !strings.Contains(doc.Reason, route.RulePayer) ||
		!strings.Contains(doc.Reason, "payer number 999") || !strings.Contains(doc.Reason, "payer number 101") {
		t.Errorf("%s: %s, want rejected by %s naming 999 and 101", doc.State, doc.Reason, route.RulePayer)
	}
	if len(doc.Problems) == 0 || doc.Problems[len(doc.Problems)-1].Rule != route.RulePayer {
		t.Errorf("problems %+v, want %s", doc.Problems, route.RulePayer)
	}
	d.store.View(func(tx store.Tx) error {
		for _, ch := range []string{"autogiro", "email"} {
			if dl, err := tx.Delivery(store.DeliveryID(doc.ID, ch)); err == nil {
				t.Errorf("a refused invoice has a delivery: %+v", dl)
			}
		}
		return nil
	})

	// The same invoice under the mandate's own number, written with
	// leading zeros, goes out under the mandate's number.
	body = setColumn(t, body, "autogiro_payer_number", "0101")
	body = setColumn(t, body, "invoice_number", "2025-1002B")
	drop(t, d, "right.csv", body)
	waitUntil(t, func() bool {
		var err error
		r, err = receipts.Build(d.store, fileID(5))
		return err == nil && r.Final && r.Documents[0].Collection != nil && r.Documents[0].Collection.AtBank
	})
	files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "autogiro", "BFEP.IAGZZ.*"))
	if len(files) != 1 {
		t.Fatalf("payment files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	parsed, err := ag.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range parsed.Records {
		if p, ok := rec.(*ag.Payment); ok && strings.TrimLeft(p.PayerNumber, "0") != "101" {
			t.Errorf("TK82 under payer %q, want the mandate's 101", p.PayerNumber)
		}
	}
}

// An invoice that names a payer number without a mandate and no account
// of its own is paid to the tenant's bankgiro, and says so; without a
// tenant bankgiro either, it is refused, naming the rule.
func TestNoAccountOnTheInvoice(t *testing.T) {
	noAccount := func(t *testing.T) []byte {
		body := setColumn(t, exampleInvoices(t, "2025-1002"), "seller_bankgiro", "")
		body = setColumn(t, body, "ocr", "")
		return setColumn(t, body, "autogiro_payer_number", "999")
	}
	t.Run("the tenant's bankgiro", func(t *testing.T) {
		d := startTestDaemon(t, nil, nil)
		drop(t, d, "a.csv", noAccount(t))
		doc, _ := finalDoc(t, d)
		if doc.State != api.DocDelivered {
			t.Fatalf("%s: %s", doc.State, doc.Reason)
		}
		files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "email", doc.ID+".*"))
		if len(files) != 1 {
			t.Fatalf("e-mail outbox: %v", files)
		}
		texts := channelTexts(t, filepath.Join(d.dataDir, "outbox"), paymentInvoice{channel: "email"}, doc.ID)
		for what, text := range texts {
			if !strings.Contains(text, "991-2346") || strings.Contains(strings.ToLower(text), "autogiro") {
				t.Errorf("%s: want bankgiro 991-2346 and no AutoGiro:\n%s", what, text)
			}
		}
		var body *formats.Document
		d.store.View(func(tx store.Tx) (err error) { body, err = tx.Body(doc.ID); return })
		if body.Payment == nil || body.Payment.Method != formats.PayTransfer || body.Payment.Bankgiro != "9912346" || !strings.Contains(body.Payment.Reason, "tenant's bankgiro") {
			t.Errorf("recorded payment %+v", body.Payment)
		}
	})
	t.Run("no account anywhere", func(t *testing.T) {
		d := startTestDaemon(t, func(c *config.Config) { c.Tenants[0].Bankgiro, c.Tenants[0].Plusgiro = "", "" }, nil)
		drop(t, d, "b.csv", noAccount(t))
		doc, _ := finalDoc(t, d)
		if doc.State != api.DocRejected || !strings.Contains(doc.Reason, route.RulePayment) || !strings.Contains(doc.Reason, "no way to pay") {
			t.Errorf("%s: %s, want rejected by %s", doc.State, doc.Reason, route.RulePayment)
		}
	})
}

// A fallback renders the decision recorded with the body: the e-mail relay
// refuses, and the letter that goes instead still says AutoGiro.
func TestFallbackKeepsThePaymentDecision(t *testing.T) {
	perm := outbound.Permanentf("550 mailbox unavailable")
	d := startTestDaemon(t, func(c *config.Config) { c.Tenants[0].Priority = []string{"email", "print"} },
		map[string]*fakeTransport{"email": {always: perm}})
	dropBankFiles(t, d)
	due := formats.DateOf(time.Now().AddDate(0, 1, 0)).String()
	p := paymentInvoice{channel: "", mandate: mandateActive, number: "2026-0100", ocr: ocrNumber(100), due: due}
	drop(t, d, "fallback.csv", p.rows(t, 1))
	var r *api.Receipt
	waitUntil(t, func() bool { var err error; r, err = receipts.Build(d.store, fileID(4)); return err == nil && r.Final })
	doc := r.Documents[0]
	if doc.State != api.DocDelivered || doc.Channel != "print" {
		t.Fatalf("%s on %s: %s", doc.State, doc.Channel, doc.Reason)
	}
	p.channel = "print"
	for what, text := range channelTexts(t, filepath.Join(d.dataDir, "outbox"), p, doc.ID) {
		if !strings.Contains(text, "Dras via autogiro "+due) || strings.Contains(text, "991-2346") {
			t.Errorf("%s after the fallback:\n%s", what, text)
		}
	}
}

// `multikanal convert` has no registry: it renders through the same
// decision as the daemon, which offline is always a transfer, says so, and
// writes no AutoGiro payment file; an invoice with no way to pay is
// rejected with the same rule.
func TestConvertRendersThePaymentDecision(t *testing.T) {
	cfg := config.Default(t.TempDir(), registered)
	dir := t.TempDir()
	in := filepath.Join(dir, "ag.csv")
	body := setColumn(t, exampleInvoices(t, "2025-1002"), "autogiro_payer_number", "101")
	if err := os.WriteFile(in, body, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := convert.Convert(cfg, "demo", in, nil)
	if err != nil || len(c.Documents) != 1 || !c.Documents[0].Valid {
		t.Fatalf("convert: %v %+v", err, c)
	}
	cd := c.Documents[0]
	pay := cd.Invoice.Payment
	if pay == nil || pay.Method != formats.PayTransfer || pay.Bankgiro != "9912346" || !strings.Contains(pay.Reason, "convert has no registry") {
		t.Errorf("payment %+v, want a transfer saying convert has no registry", pay)
	}
	r, err := convert.NewRenderer(cfg, "demo", filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	written, skipped, err := r.Render(in, cd)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range written {
		if strings.Contains(w, string(filepath.Separator)+"autogiro"+string(filepath.Separator)) {
			t.Errorf("convert wrote a payment file: %s", w)
		}
	}
	if !strings.Contains(strings.Join(skipped, "\n"), "autogiro: invoice 2025-1002: no withdrawal") {
		t.Errorf("skipped %v, want the autogiro channel skipped with its reason", skipped)
	}
	mails, _ := filepath.Glob(filepath.Join(dir, "out", "email", "*"))
	if len(mails) != 1 {
		t.Fatalf("e-mail renderings %v", mails)
	}
	b, _ := os.ReadFile(mails[0])
	if bytes.Contains(bytes.ToLower(b), []byte("autogiro")) || !bytes.Contains(b, []byte("991-2346")) {
		t.Errorf("the e-mail convert writes does not show the transfer:\n%s", b)
	}
	// The demo sends links: convert previews the invoice page the e-mail's
	// link opens, in the demo's design, with its PDF beside it.
	page, err := os.ReadFile(filepath.Join(dir, "out", "page", "ag.csv-0.html"))
	if err != nil {
		t.Fatalf("no page preview: %v (written %v)", err, written)
	}
	for _, want := range []string{"Faktura 2025-1002", "991-2346", `href="ag.csv-0.pdf"`, "Demo AB", "Få nästa faktura i Kivra"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page preview lacks %q:\n%s", want, page)
		}
	}
	if bytes.Contains(bytes.ToLower(page), []byte("autogiro 2")) {
		t.Errorf("the page preview says a withdrawal convert did not decide:\n%s", page)
	}
	if pdfBody, err := os.ReadFile(filepath.Join(dir, "out", "page", "ag.csv-0.pdf")); err != nil || !bytes.HasPrefix(pdfBody, []byte("%PDF-")) {
		t.Errorf("the page's PDF: %v", err)
	}

	noWay := setColumn(t, setColumn(t, body, "seller_bankgiro", ""), "ocr", "")
	os.WriteFile(in, noWay, 0o644)
	cfg.Tenants[0].Bankgiro = ""
	if c, err = convert.Convert(cfg, "demo", in, nil); err != nil || c.Rejected != 1 || !strings.Contains(c.Documents[0].Error, route.RulePayment) {
		t.Errorf("no way to pay: %v %+v", err, c.Documents)
	}
}
