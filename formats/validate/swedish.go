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
	if opt.SellerOrgnr != "" {
		r.pinnedSeller(opt.SellerOrgnr, opt.Now)
	}
}

// orgnrs checks the organisationsnummer a party carries: its legal id under
// scheme 0007 (or a bare 10-digit legal id of a Swedish party) and its
// electronic address under 0007.
func (r *report) orgnrs(role string, p formats.Party, now time.Time) {
	l := p.LegalID
	if l.Scheme == "0007" || l.Scheme == "" && strings.EqualFold(strings.TrimSpace(p.Address.Country), "SE") && len(formats.OnlyDigits(l.Value)) == 10 {
		if _, err := checkOrgnr(l.Value, now); err != nil {
			r.errorf("MK-ORGNR", "%s's legal id: %v", role, err)
		}
	}
	if p.Endpoint.Scheme == "0007" {
		if _, err := checkOrgnr(p.Endpoint.Value, now); err != nil {
			r.errorf("MK-ORGNR", "%s's electronic address 0007:%s: %v", role, p.Endpoint.Value, err)
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

// pinnedSeller checks MK-SELLER: a tenant pinned to one seller sends in no
// one else's name. The seller's number is its legal id or, failing that,
// the one inside a Swedish VAT id (SE + organisationsnummer + 01).
func (r *report) pinnedSeller(pinned string, now time.Time) {
	want, err := checkOrgnr(pinned, now)
	if err != nil {
		want = formats.OnlyDigits(pinned)
	}
	got := sellerOrgnr(r.doc.Seller)
	switch {
	case got == "":
		r.errorf("MK-SELLER", "the seller has no organisationsnummer (legal id or SE VAT id) to compare with the tenant's pinned seller %s; state the seller's organisationsnummer", dashed(want))
	case got != want:
		r.errorf("MK-SELLER", "seller %s is not the tenant's pinned seller %s, one tenant cannot send in another's name", dashed(got), dashed(want))
	}
}

func sellerOrgnr(p formats.Party) string {
	if p.LegalID.Scheme == "" || p.LegalID.Scheme == "0007" {
		d := formats.OnlyDigits(p.LegalID.Value)
		if len(d) == 12 && strings.HasPrefix(d, "16") {
			d = d[2:]
		}
		if len(d) == 10 {
			return d
		}
	}
	v := strings.ToUpper(strings.ReplaceAll(p.VATID, " ", ""))
	if len(v) == 14 && strings.HasPrefix(v, "SE") && strings.HasSuffix(v, "01") && isDigits(v[2:]) {
		return v[2:12]
	}
	return ""
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
