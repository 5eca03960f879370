package avtalegiro

import (
	"fmt"
	"io"
	"strings"

	"github.com/multikanal/multikanal/formats"
	avg "github.com/multikanal/multikanal/formats/avtalegiro"
	"github.com/multikanal/multikanal/outbound"
)

// Nets' files back to the payee (outbound.BankFiles): the mandate
// notifications (Systemspesifikasjon AvtaleGiro, "oversikt egne kunders
// faste betalingsoppdrag", spec 3.3) and OCR giro accounting data
// (konteringsdata, spec 3.2 and the OCR giro specification), whose
// transaction type 15 is an AvtaleGiro withdrawal made and the others
// are payments the payers made themselves with the KID. AvtaleGiro has no
// file of rejected claims: a claim not paid does not appear.

// What the receipt of a file from Nets counts, in this order.
const (
	tallyListed  = "mandates active (Nets' full list)"
	tallyNew     = "mandates new or changed"
	tallyDeleted = "mandates deleted"
)

var tallies = []string{
	tallyListed, tallyNew, tallyDeleted, outbound.TallyNotListed, outbound.TallyDropped,
	outbound.TallyCollected, outbound.TallyPaid, outbound.TallyPartlyPaid, outbound.TallyUnmatched,
}

// SniffBankFile reports whether head is a transmission of the OCR giro
// family (avtalegiro.Sniff): ReadBankFile refuses one that is not from
// Nets, saying so.
func (*Channel) SniffBankFile(head []byte) bool { return avg.Sniff(head) }

// ReadBankFile reads a transmission Nets sent the biller: it must come
// from Nets to the biller's customer unit, and every assignment must be
// for the account of the biller's agreement.
func (c *Channel) ReadBankFile(r io.Reader, b outbound.Biller) (*outbound.BankFile, error) {
	tr, err := avg.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("AvtaleGiro file: %w", err) // *avtalegiro.Error names the line and rule
	}
	a, ok := c.agreements[b.ID]
	if !ok {
		return nil, fmt.Errorf("AvtaleGiro file: the tenant has no AvtaleGiro agreement configured ([tenant.avtalegiro])")
	}
	if tr.Sender != avg.NetsID {
		return nil, fmt.Errorf("AvtaleGiro file: the data sender is %s, not Nets (%s): a file to Nets (claims or cancellations); the gateway writes claim files from the invoices it sends", tr.Sender, avg.NetsID)
	}
	if tr.Recipient != a.CustomerUnit {
		return nil, fmt.Errorf("AvtaleGiro file: nothing applied: the file is for customer unit %s, not the tenant's %s (customer_unit)", tr.Recipient, a.CustomerUnit)
	}
	account, _ := formats.CheckNorwegianAccount(a.Account)
	out := &outbound.BankFile{Tallies: tallies}
	var what []string
	for i, as := range tr.Assignments {
		if as.Account != account {
			return nil, fmt.Errorf("AvtaleGiro file: nothing applied: assignment %d is for account %s, not the tenant's AvtaleGiro account %s", i+1, as.Account, account)
		}
		switch {
		case as.Service == avg.ServiceAvtaleGiro && as.Type == avg.Mandates:
			what = append(what, "Nets AvtaleGiro mandates (faste betalingsoppdrag)")
			mandates(out, as)
		case as.Service == avg.ServiceOCRGiro:
			what = append(what, "Nets OCR giro accounting data (konteringsdata)")
			payments(out, as)
		default:
			return nil, fmt.Errorf("AvtaleGiro file: nothing applied: assignment %d is of type %s, which Nets does not send a payee", i+1, as.Type)
		}
	}
	out.What = strings.Join(what, ", ")
	return out, nil
}

// mandates reads Nets' mandate notifications: registration type 1 a new
// or changed mandate, 2 a deleted one, 0 one of the full list of the
// payee's active mandates, which makes the file the whole list.
func mandates(out *outbound.BankFile, as avg.Assignment) {
	full := len(as.Mandates) > 0
	for _, m := range as.Mandates {
		x := outbound.Mandate{Line: m.Line, Payer: m.KID, State: outbound.MandateActive, Tally: tallyNew}
		switch m.Registration {
		case avg.RegisteredAll:
			x.Tally = tallyListed
		case avg.RegisteredDeleted:
			x.State, x.Tally, x.Reason = outbound.MandateEnded, tallyDeleted, "Nets reports the mandate deleted (registration type 2)"
		}
		full = full && m.Registration == avg.RegisteredAll
		if !m.Notice && x.State == outbound.MandateActive {
			x.Note = "the payer declined the written notice of claims"
		}
		out.Mandates = append(out.Mandates, x)
	}
	out.Complete = out.Complete || full
}

// payments reads OCR giro accounting data: an AvtaleGiro withdrawal
// (transaction type 15) collects the claim of its KID and amount; any
// other payment is one the payer made with the KID, which finds the
// invoice paid with it.
func payments(out *outbound.BankFile, as avg.Assignment) {
	for _, p := range as.Payments {
		money := &outbound.Money{Key: fmt.Sprintf("ocr %s %s %d", as.Number, p.Settled, p.Number), Amount: p.Amount, Date: p.Settled}
		if p.Type == avg.OCRAvtaleGiro {
			out.Payments = append(out.Payments, outbound.PaymentReport{Line: p.Line, Payer: p.KID,
				Match: &outbound.Match{Kind: formats.KindInvoice, Amount: p.Amount, First: true}, Outcome: outbound.PaymentWithdrawn,
				Date: p.Settled, Money: money, Tally: outbound.TallyCollected,
				Reason: fmt.Sprintf("withdrawn %s by AvtaleGiro, settled %s (OCR giro accounting data, archive reference %s)", p.Amount, p.Settled, p.ArchiveRef)})
			continue
		}
		out.Payments = append(out.Payments, outbound.PaymentReport{Line: p.Line, Reference: p.KID, Outcome: outbound.PaymentPaidIn, Money: money,
			Reason: fmt.Sprintf(" with KID %s, settled %s (OCR giro transaction type %s, archive reference %s)", p.KID, p.Settled, p.Type, p.ArchiveRef)})
	}
}

var _ outbound.BankFiles = (*Channel)(nil)
