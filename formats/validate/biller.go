package validate

import (
	"slices"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// Biller is who a tenant sends as and where it may be paid, from its
// configuration. Numbers are normalised: Orgnr 10 digits, VATID upper case
// without spaces, bankgiro and plusgiro digits, IBANs upper case without
// spaces.
type Biller struct {
	// Open takes documents from any seller to any account; only a demo
	// tenant is open, and every document says so (MK-OPEN).
	Open      bool
	Orgnr     string // the seller's organisationsnummer
	VATID     string // the seller's VAT id; "" when not VAT registered
	Bankgiros []string
	Plusgiros []string
	IBANs     []string
}

// biller checks MK-SELLER and MK-ACCOUNT: a tenant sends in no one else's
// name, and its invoices are payable only to its own accounts.
func (r *report) biller(b *Biller) {
	switch {
	case b == nil:
		return
	case b.Open:
		r.warnf("MK-OPEN", "open tenant (the embedded default's demo): seller and payment accounts are not checked")
		return
	}
	r.seller(b)
	r.accounts(b)
}

// seller checks every identifier of the seller that says who it is: its
// legal id, its VAT id and its Peppol address under 0007 (the sender on
// Peppol). Under another scheme a legal id cannot be the tenant's Swedish
// organisationsnummer.
func (r *report) seller(b *Biller) {
	s := r.doc.Seller
	want := dashed(b.Orgnr)
	other := func(what string) {
		r.errorf("MK-SELLER", "the seller's %s is not the tenant's seller %s: one tenant cannot send in another's name", what, want)
	}
	named := false
	if l := s.LegalID; l.Value != "" {
		named = true
		switch d := orgnrDigits(l.Value); {
		case l.Scheme != "" && l.Scheme != "0007", len(d) != 10:
			other("legal id " + l.String())
			return
		case d != b.Orgnr:
			other("organisationsnummer " + dashed(d))
			return
		}
	}
	if v := normalVAT(s.VATID); v != "" {
		named = true
		switch {
		case b.VATID != "" && v != b.VATID:
			r.errorf("MK-SELLER", "the seller's VAT id %s is not the tenant's %s: one tenant cannot send in another's name", v, b.VATID)
			return
		case b.VATID == "" && v != "SE"+b.Orgnr+"01":
			r.errorf("MK-SELLER", "the seller's VAT id %s is not the tenant's seller %s (SE%s01): one tenant cannot send in another's name; if the seller has another VAT id, set the tenant's vat_id", v, want, b.Orgnr)
			return
		}
	}
	if e := s.Endpoint; e.Scheme == "0007" && orgnrDigits(e.Value) != b.Orgnr {
		other("Peppol address " + e.String())
		return
	}
	if !named {
		r.errorf("MK-SELLER", "the seller has no organisationsnummer (legal id or VAT id) to compare with the tenant's seller %s; state the seller's organisationsnummer", want)
	}
}

// accounts checks that every account the document is payable to (BT-84)
// is one of the tenant's. The buyer's own account of a direct debit (BT-91)
// is not the seller's and is not checked.
func (r *report) accounts(b *Biller) {
	for _, m := range r.doc.PaymentMeans {
		acct := strings.TrimSpace(m.Account)
		if acct == "" {
			continue
		}
		var ok bool
		var what string
		switch scheme := strings.ToUpper(strings.TrimSpace(m.AccountScheme)); {
		case scheme == formats.AccountBankgiro:
			what, ok = "bankgiro "+readable(acct, bankgiro), slices.Contains(b.Bankgiros, formats.OnlyDigits(acct))
		case scheme == formats.AccountPlusgiro:
			what, ok = "plusgiro "+readable(acct, plusgiro), slices.Contains(b.Plusgiros, formats.OnlyDigits(acct))
		case scheme == formats.AccountIBAN, scheme == "" && looksLikeIBAN(acct):
			what, ok = "IBAN "+acct, slices.Contains(b.IBANs, normalIBAN(acct))
		default:
			// An account under another scheme, or none: it is the tenant's
			// only if it is one of the tenant's numbers as written.
			what = "account " + acct
			if scheme != "" {
				what += " (" + scheme + ")"
			}
			d := formats.OnlyDigits(acct)
			ok = slices.Contains(b.IBANs, normalIBAN(acct)) || d == acct && (slices.Contains(b.Bankgiros, d) || slices.Contains(b.Plusgiros, d))
		}
		if !ok {
			r.errorf("MK-ACCOUNT", "payable to %s, which is not one of the tenant's accounts (%s): one tenant cannot be paid into another's account; add the account to the tenant's configuration if it is the biller's", what, b.accountList())
		}
	}
}

// accountList names the tenant's accounts in a message.
func (b *Biller) accountList() string {
	var out []string
	for _, g := range b.Bankgiros {
		out = append(out, "bankgiro "+bankgiro(g))
	}
	for _, p := range b.Plusgiros {
		out = append(out, "plusgiro "+plusgiro(p))
	}
	for _, i := range b.IBANs {
		out = append(out, "IBAN "+i)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// bankgiro and plusgiro write a number the way people read it:
// 5050-1055 (the last four after a hyphen), 44109-7 (the check digit).
func bankgiro(d string) string {
	if len(d) < 7 {
		return d
	}
	return d[:len(d)-4] + "-" + d[len(d)-4:]
}

func plusgiro(d string) string {
	if len(d) < 2 {
		return d
	}
	return d[:len(d)-1] + "-" + d[len(d)-1:]
}

// readable writes an account given as bare digits the way people read it,
// and leaves any other form as the input wrote it.
func readable(acct string, format func(string) string) string {
	if formats.OnlyDigits(acct) == acct {
		return format(acct)
	}
	return acct
}

// orgnrDigits is a Swedish organisationsnummer as its 10 digits, the
// "16" prefix some systems write dropped; anything else as its digits.
func orgnrDigits(s string) string {
	d := formats.OnlyDigits(s)
	if len(d) == 12 && strings.HasPrefix(d, "16") {
		d = d[2:]
	}
	return d
}

func normalVAT(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ".", "").Replace(strings.TrimSpace(s)))
}

func normalIBAN(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
}

// looksLikeIBAN reports whether an account without a scheme is written as
// an IBAN: two letters and two digits first.
func looksLikeIBAN(s string) bool {
	v := normalIBAN(s)
	return len(v) >= 15 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z' && isDigits(v[2:4])
}
