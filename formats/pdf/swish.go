package pdf

import (
	"errors"
	"net/url"
	"strings"
	"sync"

	"rsc.io/qr/coding"

	"github.com/multikanal/multikanal/formats"
)

// swishMessageMax is the longest message the Swish app takes.
const swishMessageMax = 50

// swishPayload builds the text of a Swish QR code for the "C" (prefilled
// C2B) format of Swish's QR code specification:
//
//	C<payee>;<amount>;<message>;<lock mask>
//
// The amount is in SEK with two decimals and a decimal comma, the message is
// URL-encoded, and the mask is a bit field of what the payer may edit
// (payee 1, amount 2, message 4). The mask is 0: an invoice is paid with
// exactly its amount and reference, or the payment cannot be matched. It
// returns "" when the document should not get a code: no Swish number, not
// SEK, nothing to pay, a credit note, or a document that is not paid by
// transfer (one collected by AutoGiro must not invite a second payment).
func swishPayload(payee string, doc *formats.Document, credit bool) string {
	pay := doc.HowToPay()
	if payee == "" || credit || doc.Totals.Payable <= 0 || pay.Method != formats.PayTransfer {
		return ""
	}
	if doc.Currency != "" && !strings.EqualFold(doc.Currency, "SEK") {
		return ""
	}
	msg := pay.Reference
	if msg == "" {
		msg = doc.Number
	}
	if len([]rune(msg)) > swishMessageMax {
		msg = string([]rune(msg)[:swishMessageMax])
	}
	amount := strings.Replace(doc.Totals.Payable.String(), ".", ",", 1)
	return "C" + payee + ";" + amount + ";" + strings.ReplaceAll(url.QueryEscape(msg), "+", "%20") + ";0"
}

// qrModules encodes payload at error correction level M, which a phone
// camera reads well off paper, and returns the modules without quiet
// zone. It is rsc.io/qr's Encode with the plan of each size made once:
// Encode makes the plan (where every module of the symbol goes) anew for
// every code, which was more than half of its time.
func qrModules(payload string) (*coding.Code, error) {
	var enc coding.Encoding
	switch {
	case coding.Num(payload).Check() == nil:
		enc = coding.Num(payload)
	case coding.Alpha(payload).Check() == nil:
		enc = coding.Alpha(payload)
	default:
		enc = coding.String(payload)
	}
	v := coding.Version(coding.MinVersion)
	for ; enc.Bits(v) > v.DataBytes(coding.M)*8; v++ {
		if v == coding.MaxVersion {
			return nil, errors.New("text too long to encode as QR")
		}
	}
	p, err := qrPlans[v]()
	if err != nil {
		return nil, err
	}
	return p.Encode(enc)
}

// qrPlans are the plans of each QR version at level M and mask 0 (what
// rsc.io/qr's Encode uses), each made once and only read after.
var qrPlans = func() (plans [coding.MaxVersion + 1]func() (*coding.Plan, error)) {
	for v := coding.Version(coding.MinVersion); v <= coding.MaxVersion; v++ {
		plans[v] = sync.OnceValues(func() (*coding.Plan, error) { return coding.NewPlan(v, coding.M, 0) })
	}
	return plans
}()

// SwishPayload is the text of the Swish QR code for the document, as the
// PDF prints it: the payment decision's Swish number, its amount and its
// reference; "" when the decision offers no Swish (never with AutoGiro).
func SwishPayload(doc *formats.Document) string {
	n := formats.OnlyDigits(doc.HowToPay().Swish)
	if len(n) != 10 {
		return ""
	}
	return swishPayload(n, doc, doc.Kind == formats.KindCreditNote)
}
