package sms

import (
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// The letter's link is the payment link (the tenant's invoice page), and
// an English letter gets the English text.
func TestRenderWithLetter(t *testing.T) {
	d := invoice()
	d.Letter = &formats.Letter{Language: "sv", Link: "https://f.example.se/i/F1.sms/tb8q/sig"}
	m, err := New(Options{}).Render(d, "070-123 45 67", "F1.sms")
	if err != nil {
		t.Fatal(err)
	}
	want := "Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Betala: https://f.example.se/i/F1.sms/tb8q/sig"
	if got := form(t, m).Get("message"); got != want {
		t.Errorf("message\n got %q\nwant %q", got, want)
	}
	d.Letter.Language = "en"
	m, _ = New(Options{}).Render(d, "070-123 45 67", "F1.sms")
	want = "Invoice 2018210 from Åkesson & Söner AB: 1 656,25 kr, due 2026-04-30. OCR 1234567897. Pay: https://f.example.se/i/F1.sms/tb8q/sig"
	if got := form(t, m).Get("message"); got != want {
		t.Errorf("English message\n got %q\nwant %q", got, want)
	}
	d.Payment = &formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "101", Date: formats.Date{Year: 2026, Month: 4, Day: 30}}
	m, _ = New(Options{}).Render(d, "070-123 45 67", "F1.sms")
	want = "Invoice 2018210: 1 656,25 kr. Withdrawn by direct debit on 2026-04-30, you need not pay yourself. See https://f.example.se/i/F1.sms/tb8q/sig"
	if got := form(t, m).Get("message"); got != want {
		t.Errorf("English AutoGiro message\n got %q\nwant %q", got, want)
	}
}
