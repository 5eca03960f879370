package formats

import "strings"

// PayMethod says how the customer settles a document: by transfer, not
// at all, or withdrawn from the payer's account under a mandate, when the
// method is the name of the collection channel that withdraws it (the
// method receipts show). This package names no collection channel: the
// gateway's routing asks them.
type PayMethod string

// The ways a document is settled that are not a direct debit.
const (
	// PayTransfer: the customer pays by bank transfer to the bankgiro,
	// plusgiro or IBAN with the reference (or by Swish, where offered).
	PayTransfer PayMethod = "transfer"
	// PayNothing: there is nothing to pay: a credit note, or nothing due.
	PayNothing PayMethod = "nothing"
)

// DirectDebit reports whether the method is a withdrawal under a mandate:
// a collection channel's, neither a transfer nor nothing to pay. The
// customer pays nothing by hand.
func (m PayMethod) DirectDebit() bool { return m != "" && m != PayTransfer && m != PayNothing }

// Payment is how the customer settles a document: the one answer every
// renderer shows, so a PDF, an e-mail, an SMS, a Kivra content, an
// e-faktura and a Peppol invoice never disagree about it. The gateway's
// routing sets it (Document.Payment) from what it decided about
// collection; HowToPay gives it to the renderers.
type Payment struct {
	Method PayMethod `json:"method"`

	// Payer is the payer key of the mandate the amount is withdrawn under
	// (a direct debit only): AutoGiro's payer number, AvtaleGiro's KID.
	Payer string `json:"payer,omitempty"`
	// Date is when the amount is withdrawn (a direct debit; zero means the
	// next bank day, Bankgirot's GENAST) or due (PayTransfer).
	Date Date `json:"date,omitzero"`
	// Debit is how a direct debit is told to the customer, in the
	// collection channel's words and language; routing asks the channel
	// for them. Empty for a transfer or nothing to pay.
	Debit DebitWords `json:"debit,omitzero"`

	// Where to pay (PayTransfer): bankgiro and plusgiro as digits, IBAN
	// without spaces, the IBAN's BIC.
	Bankgiro string `json:"bankgiro,omitempty"`
	Plusgiro string `json:"plusgiro,omitempty"`
	IBAN     string `json:"iban,omitempty"`
	BIC      string `json:"bic,omitempty"`
	// Swish is the payee's Swish number (10 digits), offered beside the
	// account when set; never with a direct debit.
	Swish string `json:"swish,omitempty"`

	// Reference is the payment reference (BT-83): the OCR number the
	// customer pays with, or that the withdrawal carries.
	Reference string `json:"reference,omitempty"`

	// Reason says why this is the way to pay, for the biller (receipts,
	// `docs show`); it is never shown to the customer.
	Reason string `json:"reason,omitempty"`
}

// HowToPay returns how the customer settles the document: the decision
// routing recorded, or, when none was made (a renderer used outside the
// daemon), a transfer to the account the invoice names. Without a
// decision it is never a direct debit: only routing knows whether a
// mandate is active, and a customer told "withdrawn by AutoGiro" for a
// withdrawal that never comes does not pay.
func (d *Document) HowToPay() Payment {
	if d.Payment != nil {
		return *d.Payment
	}
	return d.OwnPayment()
}

// OwnPayment is the way to pay that the document's own payment means
// (BG-16) give, without any direct debit: nothing for a credit note or an
// invoice with nothing due, otherwise a transfer; either way with the
// first bankgiro, plusgiro and IBAN the document names and its payment
// reference (a credit note's accounts are the seller's, for reference).
// The accounts may all be empty when the document names none.
func (d *Document) OwnPayment() Payment {
	p := Payment{Method: PayTransfer, Date: d.DueDate, Bankgiro: d.Bankgiro(), Plusgiro: d.Plusgiro(), IBAN: d.IBAN(),
		Reference: d.PaymentReference()}
	if d.Kind == KindCreditNote || d.Totals.Payable <= 0 {
		p.Method = PayNothing
	}
	if p.IBAN != "" {
		for _, m := range d.PaymentMeans {
			if strings.EqualFold(m.AccountScheme, AccountIBAN) && m.Account == p.IBAN {
				p.BIC = m.ServiceID
				break
			}
		}
	}
	return p
}

// HasAccount reports whether a transfer has somewhere to go.
func (p Payment) HasAccount() bool { return p.Bankgiro != "" || p.Plusgiro != "" || p.IBAN != "" }

// DirectDebit reports whether the amount is withdrawn under a mandate.
func (p Payment) DirectDebit() bool { return p.Method.DirectDebit() }

// DebitWords are how every channel tells the customer that the amount is
// withdrawn, in the words and language of the collection channel that
// withdraws it, so that a PDF, an e-mail, an SMS and an e-faktura say the
// same.
type DebitWords struct {
	// Text is the sentence: "Dras via autogiro 2026-03-31", "Trekkes via
	// AvtaleGiro 31.03.2026".
	Text string `json:"text"`
	// Label names the amount withdrawn where a layout puts a label beside
	// it: "Dras via autogiro".
	Label string `json:"label"`
	// Payer names what Payment.Payer holds: "Betalarnummer", "KID".
	Payer string `json:"payer"`
	// When is the day of the withdrawal as the customer reads it:
	// "2026-03-31", "närmaste bankdag".
	When string `json:"when"`
	// On is the day of the withdrawal, zero when it is the next bank day:
	// the collection channel decides it in its clearing house's time zone.
	On Date `json:"on,omitzero"`
}

// Words returns how the customer is told of the direct debit. A decision
// recorded before collection channels gave their words (when Swedish
// AutoGiro's were the only ones) gets them made from its method and date,
// as they were written then: "Dras via autogiro 2026-03-31".
func (p Payment) Words() DebitWords {
	if p.Debit != (DebitWords{}) {
		return p.Debit
	}
	when := "närmaste bankdag"
	if !p.Date.IsZero() {
		when = p.Date.String()
	}
	label := "Dras via " + string(p.Method)
	return DebitWords{Text: label + " " + when, Label: label, Payer: "Betalarnummer", When: when}
}

// WithdrawalText is the sentence every channel shows for a direct debit
// (Words().Text): "Dras via autogiro 2026-03-31", or "Dras via autogiro
// närmaste bankdag" when the withdrawal is made at once (GENAST).
func (p Payment) WithdrawalText() string { return p.Words().Text }

// Means returns the payment means (BG-16) that say the decision in
// EN 16931 terms, for formats that carry payment means (UBL):
//   - a direct debit: one direct debit (code 49) with the payer key (an
//     AutoGiro payer number, an AvtaleGiro KID) as mandate reference
//     (BT-89) and no account to pay to;
//   - a transfer: the document's own means when they name exactly the
//     decided accounts (so a SEPA credit transfer, an account name or a
//     BIC stays as the biller wrote it), otherwise one credit transfer
//     (code 30) per decided account, each with the reference; never a
//     direct debit;
//   - nothing to pay: the document's own means without any direct debit,
//     since nothing is withdrawn.
func (p Payment) Means(d *Document) []PaymentMeans {
	var own []PaymentMeans
	for _, m := range d.PaymentMeans {
		if m.MandateID == "" && m.Code != MeansDirectDebit && m.Code != MeansSEPADirectDebit {
			own = append(own, m)
		}
	}
	switch {
	case p.DirectDebit():
		return []PaymentMeans{{Code: MeansDirectDebit, PaymentID: p.Reference, MandateID: p.Payer}}
	case p.Method == PayTransfer:
		decided := map[string]bool{}
		for _, a := range []string{p.Bankgiro, p.Plusgiro, p.IBAN} {
			if a != "" {
				decided[a] = true
			}
		}
		named := map[string]bool{}
		for _, m := range own {
			if m.Account != "" {
				named[m.Account] = true
			}
		}
		if len(named) == len(decided) && len(named) > 0 {
			same := true
			for a := range named {
				same = same && decided[a]
			}
			if same {
				return own
			}
		}
		var out []PaymentMeans
		for _, a := range []struct{ account, scheme, bic string }{
			{p.Bankgiro, AccountBankgiro, ""}, {p.Plusgiro, AccountPlusgiro, ""}, {p.IBAN, AccountIBAN, p.BIC},
		} {
			if a.account != "" {
				out = append(out, PaymentMeans{Code: MeansCreditTransfer, PaymentID: p.Reference, Account: a.account, AccountScheme: a.scheme, ServiceID: a.bic})
			}
		}
		return out
	}
	return own
}
