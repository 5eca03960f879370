package validate

import (
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// swedish checks Multikanal's own delivery rules (MK-...): what a Swedish
// payer's bank, Bankgirot and the recipient registries need beyond EN 16931.
func (r *report) swedish(opt Options) {
	d := r.doc
	for _, m := range d.PaymentMeans {
		giro := ""
		switch {
		case strings.EqualFold(m.AccountScheme, formats.AccountBankgiro):
			giro = "bankgiro " + m.Account
			if _, err := formats.CheckBankgiro(m.Account); err != nil {
				r.errorf("MK-BG", "%v", err)
			}
		case strings.EqualFold(m.AccountScheme, formats.AccountPlusgiro):
			giro = "plusgiro " + m.Account
			if _, err := formats.CheckPlusgiro(m.Account); err != nil {
				r.errorf("MK-PG", "%v", err)
			}
		}
		// An all-digit payment id to a giro account is an OCR reference: the
		// payer's bank checks it and refuses the payment when it is wrong.
		if giro != "" && isDigits(m.PaymentID) {
			if err := formats.CheckOCR(m.PaymentID, opt.OCRLengthDigit); err != nil {
				r.errorf("MK-OCR", "payment reference to %s: %v", giro, err)
			}
		}
	}
	for _, p := range []struct {
		role  string
		party formats.Party
	}{{"seller", d.Seller}, {"buyer", d.Buyer}} {
		r.orgnrs(p.role, p.party, opt.Now)
		if p.party.PersonalID != "" {
			if _, err := formats.CheckPersonnummer(p.party.PersonalID, opt.Now); err != nil {
				r.errorf("MK-PNR", "%s's %v", p.role, err)
			}
		}
	}
	if !d.DueDate.IsZero() && !d.IssueDate.IsZero() && d.DueDate.Before(d.IssueDate) {
		r.errorf("MK-DUE", "due date %s is before the issue date %s", d.DueDate, d.IssueDate)
	}
	// EN 16931 and Peppol BIS allow negative totals on both kinds (the
	// official examples include a negative corrective invoice), so it is
	// delivered; but a payer cannot pay a negative amount to a bankgiro, so
	// the biller is told that a credit note is the usual form.
	if d.Kind != formats.KindCreditNote && d.Totals.Payable < 0 {
		r.warnf("MK-PAYABLE", "amount due %s is negative; send a credit note (381) with positive amounts instead of a negative invoice", d.Totals.Payable)
	}
}

// orgnrs checks the organisationsnummer a party carries: its legal id under
// scheme 0007 (or a bare 10-digit legal id of a Swedish party) and its
// electronic address under 0007. A wrong seller number is an error: it
// names who is paid. A wrong buyer number is a warning: the invoice can
// still reach the buyer by post, e-mail or their registration, and only
// the channels that address by that number (Peppol, when it is the buyer's
// Peppol address) refuse it.
func (r *report) orgnrs(role string, p formats.Party, now time.Time) {
	sev := formats.SeverityError
	if role == "buyer" {
		sev = formats.SeverityWarning
	}
	l := p.LegalID
	if l.Scheme == "0007" || l.Scheme == "" && strings.EqualFold(strings.TrimSpace(p.Address.Country), "SE") && len(formats.OnlyDigits(l.Value)) == 10 {
		if _, err := checkOrgnr(l.Value, now); err != nil {
			r.add(sev, "MK-ORGNR", "%s's legal id: %v", role, err)
		}
	}
	if p.Endpoint.Scheme == "0007" {
		if _, err := checkOrgnr(p.Endpoint.Value, now); err != nil {
			r.add(sev, "MK-ORGNR", "%s's electronic address 0007:%s: %v", role, p.Endpoint.Value, err)
		}
	}
}

// checkOrgnr is formats.CheckOrgnr that also accepts a sole trader
// (enskild firma), whose organisationsnummer is the owner's personnummer
// and so has a third digit below 2.
func checkOrgnr(s string, now time.Time) (string, error) {
	d, err := formats.CheckOrgnr(s)
	if err == nil {
		return d, nil
	}
	if digits := formats.OnlyDigits(s); len(digits) == 10 && digits[2] < '2' {
		if _, perr := formats.CheckPersonnummer(digits, now); perr == nil {
			return digits, nil
		}
	}
	return "", err
}

// dashed writes a 10-digit organisationsnummer as NNNNNN-NNNN.
func dashed(d string) string {
	if len(d) != 10 {
		return d
	}
	return d[:6] + "-" + d[6:]
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
