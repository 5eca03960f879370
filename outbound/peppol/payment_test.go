package peppol_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/formats/ubl/ubltest"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/peppol"
)

// exampleInvoice reads one invoice of examples/invoices.csv.
func exampleInvoice(t *testing.T, number string) *formats.Document {
	t.Helper()
	b, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	var doc *formats.Document
	err = csv.Format{}.Read(formats.Input{Name: "invoices.csv", R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
		if it.Doc != nil && it.Doc.Number == number {
			doc = it.Doc
		}
		return nil
	})
	if err != nil || doc == nil {
		t.Fatalf("invoice %s in the example: %v", number, err)
	}
	return doc
}

// ublMeans is what the UBL says about payment.
type ublMeans struct {
	Code    string `xml:"PaymentMeansCode"`
	ID      string `xml:"PaymentID"`
	Account string `xml:"PayeeFinancialAccount>ID"`
	Branch  string `xml:"PayeeFinancialAccount>FinancialInstitutionBranch>ID"`
	Mandate string `xml:"PaymentMandate>ID"`
}

// Peppol's payment means say what the payment decision says: AutoGiro is
// code 49 with the mandate's payer number in cac:PaymentMandate/cbc:ID and
// no account to pay to; a document not collected carries code 30 with the
// account and no mandate, even when the input named one; every variant
// passes the official EN 16931 and Peppol BIS 3 rules.
func TestPaymentMeansFollowTheDecision(t *testing.T) {
	base := exampleInvoice(t, "2025-1001")
	ocr := base.PaymentReference()
	withPayer := func(p *formats.Payment) *formats.Document {
		d := *base
		d.PaymentMeans = append([]formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "999", PaymentID: ocr}}, base.PaymentMeans...)
		d.Payment = p
		return &d
	}
	noAccount := *base
	noAccount.PaymentMeans = []formats.PaymentMeans{{Code: formats.MeansCreditTransfer, PaymentID: ocr}}
	noAccount.Payment = &formats.Payment{Method: formats.PayTransfer, Bankgiro: "9912346", Reference: ocr}
	cases := []struct {
		name string
		doc  *formats.Document
		want []ublMeans
	}{
		{"collected by AutoGiro", withPayer(&formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "101", Reference: ocr}),
			[]ublMeans{{Code: "49", ID: ocr, Mandate: "101"}}},
		{"payer number, not collected", withPayer(&formats.Payment{Method: formats.PayTransfer, Bankgiro: "9912346", Reference: ocr}),
			[]ublMeans{{Code: "30", ID: ocr, Account: "9912346", Branch: "SE:BANKGIRO"}}},
		{"payer number, no decision", withPayer(nil),
			[]ublMeans{{Code: "30", ID: ocr, Account: "9912346", Branch: "SE:BANKGIRO"}}},
		{"the tenant's bankgiro, the invoice naming none", &noAccount,
			[]ublMeans{{Code: "30", ID: ocr, Account: "9912346", Branch: "SE:BANKGIRO"}}},
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	for i, c := range cases {
		if e := peppol.New().Eligible(c.doc, outbound.NoRegistry{}); !e.OK {
			t.Errorf("%s: not eligible for Peppol: %s", c.name, e.Reason)
		}
		m, err := peppol.New().Render(c.doc, "", "F0000001-000000"+string(rune('1'+i))+".peppol")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		start := bytes.Index(m.Body, []byte("<Invoice"))
		end := bytes.LastIndex(m.Body, []byte("</StandardBusinessDocument>"))
		inv := m.Body[start:end]
		var got struct {
			Means []ublMeans `xml:"PaymentMeans"`
		}
		if err := xml.Unmarshal(inv, &got); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got.Means) != len(c.want) {
			t.Errorf("%s: payment means %+v, want %+v", c.name, got.Means, c.want)
		} else {
			for j := range c.want {
				if got.Means[j] != c.want[j] {
					t.Errorf("%s: payment means %+v, want %+v", c.name, got.Means[j], c.want[j])
				}
			}
		}
		if c.want[0].Code != "49" && bytes.Contains(inv, []byte("PaymentMandate")) {
			t.Errorf("%s: a document not collected carries a payment mandate", c.name)
		}
		os.WriteFile(filepath.Join(in, strings.ReplaceAll(c.name, " ", "_")+".xml"), inv, 0o644)
	}
	v := ubltest.New(t, validationDir)
	for _, x := range []string{ubltest.EN16931, ubltest.Peppol} {
		out := filepath.Join(dir, x)
		if err := v.TransformDir(x, in, out); err != nil {
			t.Fatal(err)
		}
		reports, _ := os.ReadDir(out)
		if len(reports) != len(cases) {
			t.Errorf("%s: %d reports for %d documents", x, len(reports), len(cases))
		}
		for _, r := range reports {
			flag := ""
			if x == ubltest.Peppol {
				flag = "fatal"
			}
			if failed := ubltest.FailedAsserts(t, filepath.Join(out, r.Name()), flag); len(failed) > 0 {
				t.Errorf("%s: %s failed asserts: %v", r.Name(), x, failed)
			}
		}
	}
}
