package avtalegiro

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	avg "github.com/multikanal/multikanal/formats/avtalegiro"
	"github.com/multikanal/multikanal/outbound"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var agreement = Agreement{CustomerUnit: "12345678", Account: "8601.11.17947", KID: "mod10", LeadDays: 9}

// created is a cut-off on 1 March 2026, 13:04:05 Oslo time.
var created = time.Date(2026, 3, 1, 12, 4, 5, 0, time.UTC)

func invoice(number, buyer, kid string, due formats.Date, payable string) *formats.Document {
	return &formats.Document{Kind: formats.KindInvoice, Number: number, Currency: "NOK",
		IssueDate: formats.DateOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), DueDate: due,
		Seller:  formats.Party{Name: "Kraftlaget Øst AS"},
		Buyer:   formats.Party{Name: buyer},
		Totals:  formats.Totals{Payable: formats.MustAmount(payable)},
		Payment: &formats.Payment{Method: formats.PayTransfer, Reference: kid}}
}

func day(m time.Month, d int) formats.Date {
	return formats.DateOf(time.Date(2026, m, d, 0, 0, 0, 0, time.UTC))
}

// TestRenderBatch writes the claim file of a batch and reads it back with
// the parser: the biller's customer unit and account, a claim per invoice
// with its KID, amount, due date and reference, Nets' notice lines; the
// same bytes on a resend; golden file.
func TestRenderBatch(t *testing.T) {
	b := outbound.Batch{Key: "avtalegiro-demo-F0000001-0000001", Created: created, Biller: outbound.Biller{ID: "demo"}, Items: []outbound.BatchItem{
		{Key: "F0000001-0000001.avtalegiro", To: "0000123455", Doc: invoice("2026-0415", "Bjørn Åsheim", "0000123455", day(3, 31), "1249.50")},
		{Key: "F0000001-0000002.avtalegiro", To: "0000123463", Doc: invoice("2026–0416", "Kari Nordmann", "0000123463", day(4, 2), "399")},
	}}
	ch := New(map[string]Agreement{"demo": agreement})
	m, err := ch.RenderBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Key != b.Key || m.Name != "AVTALEGIRO.12345678.20260301T130405.txt" || m.ContentType != "text/plain; charset=iso-8859-1" {
		t.Errorf("message %q %q %q", m.Key, m.Name, m.ContentType)
	}
	again, _ := ch.RenderBatch(b)
	if !bytes.Equal(again.Body, m.Body) {
		t.Error("a resend of the batch is not the same file")
	}
	golden := filepath.Join("testdata", "batch.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, m.Body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(want, m.Body) {
		t.Errorf("the claim file differs from %s (go test -update rewrites it): %v\n%s", golden, err, m.Body)
	}
	tr, err := avg.Parse(bytes.NewReader(m.Body))
	if err != nil {
		t.Fatalf("our own claim file does not parse: %v\n%s", err, m.Body)
	}
	a := tr.Assignments[0]
	if tr.Sender != "12345678" || tr.Recipient != avg.NetsID || tr.Number != Number(created) || a.Account != "86011117947" || a.Type != avg.Claims || len(a.Claims) != 2 {
		t.Fatalf("transmission %+v", tr)
	}
	c := a.Claims[0]
	if c.KID != "0000123455" || c.Amount != 124950 || c.Due != day(3, 31) || c.Reference != "2026-0415" || c.ShortName != "Bjørn Åshe" || c.Notice != avg.NoticeByNets {
		t.Errorf("claim 1: %+v", c)
	}
	if want := "Beløp NOK 1 249,50"; len(c.Specification) != 4 || c.Specification[2] != want || !strings.Contains(c.Specification[1], "Forfall 31.03.2026") {
		t.Errorf("notice lines %q", c.Specification)
	}
	if c := a.Claims[1]; c.Reference != "2026-0416" || c.Amount != 39900 {
		t.Errorf("claim 2 (the en dash as a hyphen): %+v", c)
	}

	payee := agreement
	payee.Notice = "payee"
	m, err = New(map[string]Agreement{"demo": payee}).RenderBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ = avg.Parse(bytes.NewReader(m.Body))
	if c := tr.Assignments[0].Claims[0]; c.Notice != avg.NoticeByPayee || len(c.Specification) != 0 {
		t.Errorf("with notice = payee the claim is type 02 without notice lines: %+v", c)
	}
}

func TestRenderBatchRefuses(t *testing.T) {
	b := outbound.Batch{Key: "k", Created: created, Biller: outbound.Biller{ID: "other"}}
	_, err := New(map[string]Agreement{"demo": agreement}).RenderBatch(b)
	if err == nil || outbound.ClassOf(err) != outbound.ClassPermanent || !strings.Contains(err.Error(), "tenant other has no AvtaleGiro agreement") {
		t.Errorf("no agreement: %v", err)
	}
	bad := agreement
	bad.Account = "88888888888"
	b.Biller.ID = "demo"
	if _, err := New(map[string]Agreement{"demo": bad}).RenderBatch(b); err == nil || !strings.Contains(err.Error(), "account") {
		t.Errorf("a wrong account: %v", err)
	}
}

func TestCheckOrder(t *testing.T) {
	now := created
	ok := func() *formats.Document {
		return invoice("2026-0415", "Kari Nordmann", "0000123455", day(3, 31), "100")
	}
	mod11 := agreement
	mod11.KID = "mod11"
	for _, c := range []struct {
		name string
		doc  func(*formats.Document)
		kid  string
		a    Agreement
		err  string
	}{
		{name: "valid", kid: "0000123455", a: agreement},
		{name: "mod 11 KID with hyphen", kid: "0412345-", a: mod11},
		{name: "credit note", doc: func(d *formats.Document) { d.Kind = formats.KindCreditNote }, kid: "0000123455", a: agreement, err: "only withdraws"},
		{name: "SEK", doc: func(d *formats.Document) { d.Currency = "SEK" }, kid: "0000123455", a: agreement, err: "(NOK) only"},
		{name: "nothing due", doc: func(d *formats.Document) { d.Totals.Payable = 0 }, kid: "0000123455", a: agreement, err: "nothing to withdraw"},
		{name: "no due date", doc: func(d *formats.Document) { d.DueDate = formats.Date{} }, kid: "0000123455", a: agreement, err: "no due date"},
		{name: "due passed", doc: func(d *formats.Document) { d.DueDate = day(2, 20) }, kid: "0000123455", a: agreement, err: "too soon"},
		{name: "due within lead days", doc: func(d *formats.Document) { d.DueDate = day(3, 9) }, kid: "0000123455", a: agreement, err: "earliest is 2026-03-10"},
		{name: "due on the earliest day", doc: func(d *formats.Document) { d.DueDate = day(3, 10) }, kid: "0000123455", a: agreement},
		{name: "wrong KID digit", kid: "0000123456", a: agreement, err: "modulus 10 check digit is wrong, expected 5"},
		{name: "mod 10 KID under mod 11", kid: "0000123489", a: mod11, err: "modulus 11 check digit is wrong, expected -"},
		{name: "reference not Latin-1", doc: func(d *formats.Document) { d.Number = "請求9102" }, kid: "0000123455", a: agreement, err: "AVG-WRITE"},
		{name: "amount too large", doc: func(d *formats.Document) { d.Totals.Payable = formats.Amount(1e17) }, kid: "0000123455", a: agreement, err: "17 digits"},
		{name: "no agreement", kid: "0000123455", a: Agreement{}, err: "customer_unit"},
		{name: "long buyer name in Greek is fine", doc: func(d *formats.Document) { d.Buyer.Name = "Ωμέγα Ελλάς Ναυτιλιακή" }, kid: "0000123455", a: agreement},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := ok()
			if c.doc != nil {
				c.doc(d)
			}
			err := CheckOrder(d, c.kid, c.a, now)
			switch {
			case c.err == "" && err != nil:
				t.Errorf("unexpected: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("CheckOrder = %v; want %q", err, c.err)
			}
		})
	}
}

func TestAgreementCheck(t *testing.T) {
	if err := agreement.Check(); err != nil {
		t.Fatal(err)
	}
	err := Agreement{CustomerUnit: "1234", Account: "88888888888", AgreementID: "12", KID: "mod97", Notice: "bank", LeadDays: -1}.Check()
	for _, key := range []string{"customer_unit", "account:", "agreement_id", "kid:", "notice", "lead_days"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Check does not name %s: %v", key, err)
		}
	}
}

func TestChannel(t *testing.T) {
	ch := New(map[string]Agreement{"demo": agreement})
	if ch.Name() != "avtalegiro" || ch.Eligible(invoice("1", "x", "18", day(3, 31), "1"), outbound.NoRegistry{}).OK {
		t.Error("AvtaleGiro is named avtalegiro and never carries an invoice")
	}
	if a, ok := ch.Agreement("demo"); !ok || a.Account != agreement.Account {
		t.Error("Agreement(demo)")
	}
	if got := WithdrawalText(day(3, 31)); got != "Trekkes via AvtaleGiro 31.03.2026" {
		t.Errorf("WithdrawalText = %q", got)
	}
	if Number(created) != "2366645" || len(Number(time.Unix(1, 0))) != 7 {
		t.Errorf("Number = %s", Number(created))
	}
}
