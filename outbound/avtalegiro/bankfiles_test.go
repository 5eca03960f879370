package avtalegiro

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	avg "github.com/multikanal/multikanal/formats/avtalegiro"
	"github.com/multikanal/multikanal/outbound"
)

// netsgiro's example files are addressed to customer unit 00010200 and
// account 9999.10.42764.
var exampleAgreement = Agreement{CustomerUnit: "00010200", Account: "99991042764", KID: "mod10", LeadDays: 9}

func example(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "formats", "avtalegiro", "testdata", "netsgiro", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Nets' mandate notification of the examples: 16 new or changed mandates
// under their KIDs, leading zeros kept, the payers who declined Nets'
// notice noted; not a full list.
func TestReadMandateNotification(t *testing.T) {
	ch := New(map[string]Agreement{"demo": exampleAgreement})
	b := example(t, "avtalegiro_agreements.txt")
	if !ch.SniffBankFile(b) {
		t.Fatal("SniffBankFile does not take Nets' mandate notification")
	}
	f, err := ch.ReadBankFile(bytes.NewReader(b), outbound.Biller{ID: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Mandates) != 16 || f.Complete || len(f.Payments) != 0 || !strings.Contains(f.What, "mandates") {
		t.Fatalf("read %s: %d mandates (complete %v), %d payments", f.What, len(f.Mandates), f.Complete, len(f.Payments))
	}
	m := f.Mandates[0]
	if m.Payer != "000112000507155" || m.State != outbound.MandateActive || m.Line != 3 || m.Note != "" || m.Tally != tallyNew {
		t.Errorf("mandate 1: %+v", m)
	}
	if m := f.Mandates[1]; m.Payer != "001006300507304" || !strings.Contains(m.Note, "declined") {
		t.Errorf("mandate 2, notice N: %+v", m)
	}
}

// A full list (registration type 0) makes the file the whole list; type 2
// ends a mandate.
func TestReadFullList(t *testing.T) {
	tr := avg.Transmission{Sender: avg.NetsID, Number: "0000001", Recipient: "00010200", Assignments: []avg.Assignment{{
		Service: avg.ServiceAvtaleGiro, Type: avg.Mandates, Number: "0000001", Account: "99991042764",
		Mandates: []avg.Mandate{{Registration: avg.RegisteredAll, KID: "000112000507155", Notice: true}, {Registration: avg.RegisteredAll, KID: "001006300507304"}},
	}}}
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	ch := New(map[string]Agreement{"demo": exampleAgreement})
	f, err := ch.ReadBankFile(bytes.NewReader(b.Bytes()), outbound.Biller{ID: "demo"})
	if err != nil || !f.Complete || len(f.Mandates) != 2 || f.Mandates[0].Tally != tallyListed {
		t.Fatalf("full list: %v %+v", err, f)
	}
	tr.Assignments[0].Mandates[1].Registration = avg.RegisteredDeleted
	b.Reset()
	tr.WriteTo(&b)
	f, err = ch.ReadBankFile(bytes.NewReader(b.Bytes()), outbound.Biller{ID: "demo"})
	if err != nil || f.Complete || f.Mandates[1].State != outbound.MandateEnded || !strings.Contains(f.Mandates[1].Reason, "deleted") {
		t.Errorf("a deletion: %v %+v", err, f)
	}
}

// OCR giro accounting data: a payer's own payments by KID (the examples
// have no AvtaleGiro withdrawal, type 15), found by the reference; an
// AvtaleGiro withdrawal collects the claim of its KID and amount.
func TestReadOCRGiro(t *testing.T) {
	ch := New(map[string]Agreement{"demo": exampleAgreement})
	f, err := ch.ReadBankFile(bytes.NewReader(example(t, "ocr_giro_transactions.txt")), outbound.Biller{ID: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Payments) != 20 || !strings.Contains(f.What, "OCR giro") {
		t.Fatalf("%s: %d payments", f.What, len(f.Payments))
	}
	p := f.Payments[0]
	if p.Outcome != outbound.PaymentPaidIn || p.Reference != "0000531" || p.Payer != "" || p.Money == nil || p.Money.Amount != 102000 || p.Line != 3 {
		t.Errorf("payment 1: %+v", p)
	}

	tr := avg.Transmission{Sender: avg.NetsID, Number: "0000002", Recipient: "00010200", Assignments: []avg.Assignment{{
		Service: avg.ServiceOCRGiro, Type: avg.Claims, Number: "0000002", Account: "99991042764",
		Payments: []avg.Payment{{Type: avg.OCRAvtaleGiro, Settled: formats.Date{Year: 2026, Month: 3, Day: 31}, Amount: 124950, KID: "0000123455", ArchiveRef: "123456789"}},
	}}}
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	f, err = ch.ReadBankFile(bytes.NewReader(b.Bytes()), outbound.Biller{ID: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	p = f.Payments[0]
	if p.Outcome != outbound.PaymentWithdrawn || p.Payer != "0000123455" || p.Match == nil || p.Match.Amount != 124950 || !p.Match.First ||
		p.Date != (formats.Date{Year: 2026, Month: 3, Day: 31}) || p.Money.Amount != 124950 || p.Tally != outbound.TallyCollected {
		t.Errorf("an AvtaleGiro withdrawal: %+v", p)
	}
}

// A file that is not the biller's is refused whole, saying why.
func TestReadBankFileRefuses(t *testing.T) {
	mandates := example(t, "avtalegiro_agreements.txt")
	for _, c := range []struct {
		name   string
		file   []byte
		tenant string
		a      Agreement
		want   string
	}{
		{"no agreement", mandates, "other", exampleAgreement, "no AvtaleGiro agreement"},
		{"another customer unit", mandates, "demo", Agreement{CustomerUnit: "12345678", Account: "99991042764"}, "customer unit 00010200, not the tenant's 12345678"},
		{"another account", mandates, "demo", Agreement{CustomerUnit: "00010200", Account: "8601.11.17947"}, "account 99991042764, not the tenant's AvtaleGiro account 86011117947"},
		{"a claim file to Nets", example(t, "avtalegiro_payment_request.txt"), "demo", exampleAgreement, "a file to Nets"},
		{"broken", append(bytes.Clone(mandates[:len(mandates)-40]), '\n'), "demo", exampleAgreement, "AvtaleGiro file: avtalegiro: line"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(map[string]Agreement{"demo": c.a}).ReadBankFile(bytes.NewReader(c.file), outbound.Biller{ID: c.tenant})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadBankFile = %v; want %q", err, c.want)
			}
		})
	}
}

// What routing asks the channel: the KID from the mandate reference or
// the payment reference, Norwegian words, no refunds, the check under the
// tenant's agreement.
func TestCollector(t *testing.T) {
	ch := New(map[string]Agreement{"demo": agreement})
	d := invoice("2026-0415", "Kari Nordmann", "0000123455", day(3, 31), "100")
	d.PaymentMeans = []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, PaymentID: "0000123455"}}
	if got := ch.Payer(d); got != "0000123455" {
		t.Errorf("Payer from BT-83 = %q", got)
	}
	d.PaymentMeans = append(d.PaymentMeans, formats.PaymentMeans{Code: formats.MeansDirectDebit, MandateID: "0000123463"})
	if got := ch.Payer(d); got != "0000123463" {
		t.Errorf("Payer from BT-89 = %q", got)
	}
	w := ch.Words(d, created)
	if w.Text != "Trekkes via AvtaleGiro 31.03.2026" || w.Payer != "KID" || w.When != "31.03.2026" || w.Label != "Trekkes via AvtaleGiro" {
		t.Errorf("Words = %+v", w)
	}
	if terms := ch.Terms(); terms.Currency != "NOK" || terms.Title != "AvtaleGiro" || ch.Refunds("demo") {
		t.Errorf("Terms = %+v, refunds %v", terms, ch.Refunds("demo"))
	}
	if err := ch.CheckOrder(d, "0000123455", "demo", created); err != nil {
		t.Errorf("CheckOrder under the demo's agreement: %v", err)
	}
	if err := ch.CheckOrder(d, "0000123455", "other", created); err == nil || !strings.Contains(err.Error(), "[tenant.avtalegiro]") {
		t.Errorf("CheckOrder without an agreement: %v", err)
	}
}
