package autogiro

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/outbound"
)

// Bankgirot's files back to the biller (outbound.BankFiles), each section
// of Bankgirot's "Bg Autogiro Teknisk manual" (2014) read by its own code
// into what the gateway applies: mandates (§8.3, §8.6, §8.8), payments
// (§8.2, §8.4, §8.5, §8.7) and Bg Max (§10), which also reports what payers
// paid by bankgiro themselves. A biller's own order files to Bankgirot are
// not among them (ag.SniffOrders): the gateway takes the mandate orders of
// such a file apart.

// What the receipt of a Bankgirot file counts, in this order.
const (
	tallyActive            = "mandates active"
	tallyRenumbered        = "mandates active under a new payer number"
	tallyReplaced          = "old payer numbers no longer valid"
	tallyCancelled         = "mandates cancelled"
	tallyRequests          = "internet-bank mandates awaiting approval"
	tallyEnquiries         = "mandates under enquiry at the payer's bank"
	tallyRetried           = "withdrawals to be retried"
	tallyStopped           = "payments not made"
	tallyRejected          = "payments rejected"
	tallyDeposits          = "deposits paid back"
	tallyRefunded          = "withdrawals refunded"
	tallyScheduled         = "payments scheduled"
	tallyCancelledPayments = "payments cancelled"
	tallyMoved             = "payments moved to a new date"
	tallyNotDone           = "cancellations or changes not carried out"
)

var tallies = []string{
	tallyActive, tallyRenumbered, tallyReplaced, tallyCancelled, tallyRequests, tallyEnquiries, outbound.TallyDropped,
	outbound.TallyCollected, tallyRetried, tallyStopped, tallyRejected, tallyDeposits, tallyRefunded, tallyScheduled,
	tallyCancelledPayments, tallyMoved, tallyNotDone, outbound.TallyPaid, outbound.TallyPartlyPaid, outbound.TallyUnmatched,
}

// SniffBankFile reports whether head is one of Bankgirot's AutoGiro or Bg
// Max files (or looks enough like one that ReadBankFile should say what is
// wrong with it), and not a biller's order file to Bankgirot.
func (*Channel) SniffBankFile(head []byte) bool { return ag.Sniff(head) && !ag.SniffOrders(head) }

// ReadBankFile reads a file Bankgirot sent the biller. Every section and
// record must be for the biller's payee bankgiro (its agreement's or its
// own); Bg Max, which reports what payers paid by bankgiro, needs no
// AutoGiro agreement.
func (c *Channel) ReadBankFile(r io.Reader, b outbound.Biller) (*outbound.BankFile, error) {
	f, err := ag.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("AutoGiro file: %w", err)
	}
	a, agreed := c.agreements[b.ID]
	if !agreed && f.Kind != ag.KindBgMax {
		return nil, fmt.Errorf("AutoGiro file (%s): the tenant has no AutoGiro agreement configured ([tenant.autogiro])", f.Kind.Swedish())
	}
	if !f.Kind.FromBankgirot() {
		return nil, fmt.Errorf("AutoGiro file (%s): a file to Bankgirot; the gateway writes payment files from the invoices it sends and forwards only mandate orders", f.Kind.Swedish())
	}
	bankgiros := map[string]bool{}
	for _, bg := range []string{b.Bankgiro, agreementBankgiro(a)} {
		if bg = strings.TrimLeft(formats.OnlyDigits(bg), "0"); bg != "" {
			bankgiros[bg] = true
		}
	}
	out := &outbound.BankFile{What: "Bankgirot " + f.Kind.Swedish(), Tallies: tallies}
	now := time.Now()
	for _, s := range f.Sections {
		if s.PayeeBankgiro != "" && !bankgiros[strings.TrimLeft(s.PayeeBankgiro, "0")] {
			return nil, fmt.Errorf("AutoGiro file: nothing applied: line %d: the section is for payee bankgiro %s, not the tenant's (%s)", s.LineNo, s.PayeeBankgiro, strings.Join(sortedKeys(bankgiros), ", "))
		}
		if s.Kind == ag.KindBgMax {
			if err := bgMax(out, s); err != nil {
				return nil, fmt.Errorf("AutoGiro file: nothing applied: %w", err)
			}
			continue
		}
		for _, rec := range s.Records {
			if payee := payeeOf(rec); payee != "" && !bankgiros[strings.TrimLeft(payee, "0")] {
				return nil, fmt.Errorf("AutoGiro file: nothing applied: line %d: record for payee bankgiro %s, not the tenant's", rec.Position().LineNo, payee)
			}
			record(out, s, rec, now)
		}
	}
	return out, nil
}

func agreementBankgiro(a *Agreement) string {
	if a == nil {
		return ""
	}
	return a.Bankgiro
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// payeeOf is the payee bankgiro a record names, or "".
func payeeOf(rec ag.Record) string {
	switch x := rec.(type) {
	case *ag.MandateAdvice:
		return x.PayeeBankgiro
	case *ag.InternetMandate:
		return x.PayeeBankgiro
	case *ag.RegisteredMandate:
		return x.PayeeBankgiro
	case *ag.Payment:
		return x.PayeeBankgiro
	case *ag.Refund:
		return x.PayeeBankgiro
	}
	return ""
}

// record reads one record of a section. Settlements (TK15, TK16, TK17)
// sum the payments reported one by one, and change nothing themselves.
func record(out *outbound.BankFile, s ag.Section, rec ag.Record, now time.Time) {
	line := rec.Position().LineNo
	mandate := func(m outbound.Mandate) { m.Line = line; out.Mandates = append(out.Mandates, m) }
	payment := func(p outbound.PaymentReport) { p.Line = line; out.Payments = append(out.Payments, p) }
	switch x := rec.(type) {
	case *ag.MandateAdvice:
		// TK73 (§8.3.2, codes §8.3.3).
		meaning := fmt.Sprintf("information code %s, comment %s: %s", x.Info, x.Comment, x.Comment.Meaning().Sv)
		m := outbound.Mandate{Payer: x.PayerNumber, PersonalID: x.PersonalID, From: dateOr(x.Date, now)}
		switch x.Effect() {
		case ag.EffectActive:
			m.State, m.Tally = outbound.MandateActive, tallyActive
		case ag.EffectChanged:
			// Information code 05, comment 32: the mandate's new payer number.
			m.State, m.Tally = outbound.MandateActive, tallyRenumbered
		case ag.EffectReplaced:
			// Information code 05, comment 33: the old payer number is no
			// longer valid; its record with comment 32 names the new one.
			m.State, m.Tally, m.Reason = outbound.MandateEnded, tallyReplaced, "the payer number was changed ("+meaning+")"
		case ag.EffectCancelled:
			m.State, m.Tally, m.Reason = outbound.MandateEnded, tallyCancelled, "the mandate was cancelled ("+x.Info.Meaning().Sv+" "+meaning+")"
		default:
			return
		}
		mandate(m)
	case *ag.InternetMandate:
		// §8.6: the payer signed in the internet bank; the biller answers.
		mandate(outbound.Mandate{Payer: x.PayerNumber, PersonalID: x.PersonalID, State: outbound.MandateRequested, Tally: tallyRequests})
	case *ag.RegisteredMandate:
		// §8.8 status 1 "Godkänt för Autogiro": active, whoever started it
		// (type 1 the biller, type 2 the payer in an internet bank);
		// status 2 "Under förfrågan": Bankgirot asks the payer's bank.
		m := outbound.Mandate{Payer: x.PayerNumber, PersonalID: x.PersonalID, From: dateOr(x.Created, now), State: outbound.MandateActive, Tally: tallyActive}
		if x.Pending {
			m.State, m.Tally = outbound.MandateEnquiry, tallyEnquiries
		}
		mandate(m)
	case *ag.Payment:
		payment(paymentReport(s, x))
	case *ag.Refund:
		// TK77 (§8.2.2, refund codes §8.2.3): the payer's bank took a
		// withdrawal back.
		payment(outbound.PaymentReport{Payer: x.PayerNumber, Reference: x.Reference, Outcome: outbound.PaymentPaidBack,
			Money:  &outbound.Money{Key: fmt.Sprintf("autogiro 77 %s %s", x.Date, x.RefundDate), Amount: -x.Amount, Date: formatsDate(x.RefundDate)},
			Reason: fmt.Sprintf("the payer's bank took back %s withdrawn on %s, on %s (refund code %s: %s)", x.Amount, x.Date, x.RefundDate, x.Reason, x.Reason.Meaning().Sv),
			Tally:  tallyRefunded})
	case *ag.Amendment:
		payment(amendment(x))
	}
}

// paymentReport reads a TK82 or TK32 of a payment specification (§8.2.2,
// status codes §8.2.3), a rejected payment (§8.4.2) or a payment register
// extract (§8.7).
func paymentReport(s ag.Section, p *ag.Payment) outbound.PaymentReport {
	what := map[ag.PaymentType]string{ag.Withdrawal: "withdrawal", ag.Deposit: "deposit"}[p.Type]
	r := outbound.PaymentReport{Payer: p.PayerNumber, Reference: p.Reference, Date: formatsDate(p.Date)}
	money := &outbound.Money{Key: fmt.Sprintf("autogiro %s %s", p.Type, p.Date), Amount: p.Amount, Date: formatsDate(p.Date)}
	switch {
	case s.Kind == ag.KindRejectedPayments:
		r.Outcome, r.Date, r.Tally = outbound.PaymentRejected, formats.Date{}, tallyRejected
		r.Reason = fmt.Sprintf("Bankgirot rejected the %s (comment code %s: %s)", what, p.Rejection, p.Rejection.Meaning().Sv)
	case s.Kind == ag.KindPaymentRegister:
		// An extract lists what awaits its date: still scheduled, never
		// "stopped". It may be older than a report that settled the
		// payment since; that report stands.
		r.Outcome, r.Tally = outbound.PaymentAtBank, tallyScheduled
		r.Reason = fmt.Sprintf("at Bankgirot, awaiting its payment date %s (payment register extract of %s)", p.Date, s.WriteDate.Format("2006-01-02"))
	case p.Status == ag.StatusApproved && p.Type == ag.Withdrawal:
		r.Outcome, r.Money, r.Tally = outbound.PaymentWithdrawn, money, outbound.TallyCollected
		r.Reason = fmt.Sprintf("withdrawn %s on %s", p.Amount, p.Date)
	case p.Status == ag.StatusApproved:
		money.Amount = -p.Amount
		r.Outcome, r.Money, r.Tally = outbound.PaymentPaidBack, money, tallyDeposits
		r.Reason = fmt.Sprintf("paid back %s by AutoGiro deposit on %s", p.Amount, p.Date)
	case p.Status == ag.StatusRenewedFundsCheck:
		// Status 9, "förnyad täckning" (§8.2.3): not withdrawn yet for
		// lack of funds; Bankgirot tries again.
		r.Outcome, r.Tally = outbound.PaymentRetrying, tallyRetried
		r.Reason = fmt.Sprintf("not withdrawn on %s for lack of funds; Bankgirot tries again (status 9: %s)", p.Date, p.Status.Meaning().Sv)
	default:
		r.Outcome, r.Tally = outbound.PaymentStopped, tallyStopped
		r.Reason = fmt.Sprintf("%s of %s not made (status %s: %s)", what, p.Date, p.Status, p.Status.Meaning().Sv)
	}
	return r
}

// amendment reads a cancellation (TK03, TK11, TK21–TK25) or date change
// (TK26–TK29) Bankgirot reports (§8.5.2, codes §8.5.3): it covers every
// scheduled withdrawal of the payer (every payer's when the record names
// none) on the payment date, of the payment type, and for a single
// payment of its amount and reference. Only comments 12, 14 and 18 say it
// was carried out.
func amendment(x *ag.Amendment) outbound.PaymentReport {
	if !x.Comment.Done() {
		return outbound.PaymentReport{Outcome: outbound.PaymentNotDone, Tally: tallyNotDone}
	}
	m := &outbound.Match{Date: formatsDate(x.Date)}
	switch x.PaymentType {
	case ag.Withdrawal:
		m.Kind = formats.KindInvoice
	case ag.Deposit:
		m.Kind = formats.KindCreditNote
	}
	if slices.Contains([]string{"03", "11", "25", "29"}, x.TK) {
		m.Amount = x.Amount
	}
	what := fmt.Sprintf("TK%s %s, comment %s: %s", x.TK, x.Meaning().Sv, x.Comment, x.Comment.Meaning().Sv)
	r := outbound.PaymentReport{Payer: x.PayerNumber, Reference: x.Reference, Match: m}
	if x.Cancels() {
		r.Outcome, r.Tally, r.Reason = outbound.PaymentCancelled, tallyCancelledPayments, fmt.Sprintf("cancelled at Bankgirot (%s)", what)
		return r
	}
	r.Outcome, r.Tally, r.Date = outbound.PaymentMoved, tallyMoved, formatsDate(x.NewDate)
	r.Reason = fmt.Sprintf("at Bankgirot, moved to payment date %s (%s)", x.NewDate, what)
	return r
}

// bgMax reads a Bg Max section (§10): each payment's reference names the
// invoice; its amount makes the invoice paid or partly paid. Bg Max
// carries no payer number, so the invoice is found by its reference.
func bgMax(out *outbound.BankFile, s ag.Section) error {
	var deposit *ag.Settlement
	if n := len(s.Records); n > 0 {
		deposit, _ = s.Records[n-1].(*ag.Settlement)
	}
	if deposit == nil {
		return fmt.Errorf("line %d: a Bg Max section without its deposit record TK15", s.LineNo)
	}
	for i, rec := range s.Records {
		p, ok := rec.(*ag.BgMaxPayment)
		if !ok {
			continue
		}
		from := ""
		if p.PayerBankgiro != "" {
			from = " from bankgiro " + p.PayerBankgiro
		}
		out.Payments = append(out.Payments, outbound.PaymentReport{Line: p.LineNo, Reference: p.Reference, Outcome: outbound.PaymentPaidIn,
			Money:  &outbound.Money{Key: fmt.Sprintf("bgmax %s %05d %d", deposit.Date, deposit.Serial, i), Amount: p.Amount, Date: formatsDate(deposit.Date)},
			Reason: fmt.Sprintf("%s on %s (Bg Max, deposit %d)", from, deposit.Date, deposit.Serial)})
	}
	return nil
}

func dateOr(d ag.Date, fallback time.Time) time.Time {
	if d.IsZero() || !d.Valid() {
		return fallback
	}
	return d.Time()
}

func formatsDate(d ag.Date) formats.Date {
	if !d.Valid() {
		return formats.Date{}
	}
	return formats.DateOf(d.Time())
}

var _ outbound.BankFiles = (*Channel)(nil)
