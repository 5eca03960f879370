package formats

import (
	"encoding/json"
	"reflect"
	"testing"
)

func paymentDoc() *Document {
	return &Document{
		Kind: KindInvoice, Number: "1", DueDate: Date{2026, 4, 30}, Totals: Totals{Payable: 10000},
		PaymentMeans: []PaymentMeans{
			{Code: MeansDirectDebit, MandateID: "4711", PaymentID: "1234567897"},
			{Code: MeansCreditTransfer, PaymentID: "1234567897", Account: "9912346", AccountScheme: AccountBankgiro},
			{Code: MeansSEPACreditTrans, PaymentID: "1234567897", Account: "SE4550000000058398257466", AccountScheme: AccountIBAN, ServiceID: "ESSESESS", AccountName: "Demo"},
		},
	}
}

// Without a routing decision the way to pay is the invoice's own accounts,
// never AutoGiro, however the invoice names a payer number.
func TestHowToPayWithoutDecision(t *testing.T) {
	d := paymentDoc()
	got := d.HowToPay()
	want := Payment{Method: PayTransfer, Date: d.DueDate, Bankgiro: "9912346", IBAN: "SE4550000000058398257466", BIC: "ESSESESS", Reference: "1234567897"}
	if got != want {
		t.Errorf("HowToPay = %+v, want %+v", got, want)
	}
	credit := paymentDoc()
	credit.Kind = KindCreditNote
	if m := credit.HowToPay().Method; m != PayNothing {
		t.Errorf("credit note: %s, want %s", m, PayNothing)
	}
	zero := paymentDoc()
	zero.Totals.Payable = 0
	if m := zero.HowToPay().Method; m != PayNothing {
		t.Errorf("nothing due: %s, want %s", m, PayNothing)
	}
	decided := paymentDoc()
	decided.Payment = &Payment{Method: PayMethod("autogiro"), Payer: "4711"}
	if got := decided.HowToPay(); got.Method != PayMethod("autogiro") || got.Payer != "4711" {
		t.Errorf("a decision is not what HowToPay gives: %+v", got)
	}
	// The decision travels with the document's JSON, as the store keeps it.
	b, _ := json.Marshal(decided)
	var back Document
	if err := json.Unmarshal(b, &back); err != nil || back.Payment == nil || *back.Payment != *decided.Payment {
		t.Errorf("the decision does not survive JSON: %v %+v", err, back.Payment)
	}
}

func TestPaymentMeans(t *testing.T) {
	d := paymentDoc()
	cases := []struct {
		name string
		p    Payment
		want []PaymentMeans
	}{
		{"AutoGiro: one direct debit, no account", Payment{Method: PayMethod("autogiro"), Payer: "101", Reference: "1234567897"},
			[]PaymentMeans{{Code: MeansDirectDebit, MandateID: "101", PaymentID: "1234567897"}}},
		{"transfer to the invoice's accounts: its own means, without the mandate", d.OwnPayment(), d.PaymentMeans[1:]},
		{"transfer to another account: a credit transfer to it", Payment{Method: PayTransfer, Plusgiro: "441097", Reference: "1234567897"},
			[]PaymentMeans{{Code: MeansCreditTransfer, PaymentID: "1234567897", Account: "441097", AccountScheme: AccountPlusgiro}}},
		{"nothing to pay: own means, no direct debit", Payment{Method: PayNothing}, d.PaymentMeans[1:]},
	}
	for _, c := range cases {
		if got := c.p.Means(d); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

func TestWithdrawalText(t *testing.T) {
	if got := (Payment{Method: PayMethod("autogiro"), Date: Date{2026, 3, 31}}).WithdrawalText(); got != "Dras via autogiro 2026-03-31" {
		t.Errorf("got %q", got)
	}
	if got := (Payment{Method: PayMethod("autogiro")}).WithdrawalText(); got != "Dras via autogiro närmaste bankdag" {
		t.Errorf("GENAST: got %q", got)
	}
}

// A direct debit is told in the words its collection channel gave, in
// its language; the method is the channel's name, and any method but a
// transfer or nothing to pay is a direct debit with code 49.
func TestDebitWords(t *testing.T) {
	p := Payment{Method: "avtalegiro", Payer: "0000123455", Reference: "0000123455", Date: Date{2026, 3, 31},
		Debit: DebitWords{Text: "Trekkes via AvtaleGiro 31.03.2026", Label: "Trekkes via AvtaleGiro", Payer: "KID", When: "31.03.2026"}}
	if !p.DirectDebit() || PayTransfer.DirectDebit() || PayNothing.DirectDebit() || PayMethod("").DirectDebit() {
		t.Errorf("DirectDebit: %v for %s, and true for a transfer, nothing or no method", p.DirectDebit(), p.Method)
	}
	if got := p.WithdrawalText(); got != "Trekkes via AvtaleGiro 31.03.2026" {
		t.Errorf("WithdrawalText = %q, want the channel's words", got)
	}
	if w := p.Words(); w.Payer != "KID" || w.When != "31.03.2026" || w.Label != "Trekkes via AvtaleGiro" {
		t.Errorf("Words = %+v", w)
	}
	if got := p.Means(paymentDoc()); !reflect.DeepEqual(got, []PaymentMeans{{Code: MeansDirectDebit, PaymentID: "0000123455", MandateID: "0000123455"}}) {
		t.Errorf("Means = %+v, want one direct debit with the KID as mandate reference", got)
	}
	b, _ := json.Marshal(p)
	var back Payment
	if err := json.Unmarshal(b, &back); err != nil || back != p {
		t.Errorf("the words do not survive JSON: %v %+v", err, back)
	}
}
