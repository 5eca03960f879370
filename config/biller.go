package config

import (
	"github.com/multikanal/multikanal/formats"
)

// Duplicate policies: what happens to an invoice whose seller, kind and
// number the tenant has sent before.
const (
	DuplicatesRefuse = "refuse" // rejected, naming the first (default)
	DuplicatesWarn   = "warn"   // delivered again, with a warning
)

// validateBiller checks who a tenant sends as and where it may be paid:
// the seller (seller_orgnr, by default the biller's orgnr, and vat_id) and
// the payment accounts its invoices may name. Outside the embedded default
// a tenant must declare at least one account, and may not be open: routing
// refuses an invoice from another seller or payable to another account, so
// one tenant cannot send in another's name or divert its payments.
func (c *Config) validateBiller(ps *problems, key string, t *Tenant) {
	switch {
	case t.SellerOrgnr != "":
		normalise(ps, key+".seller_orgnr", &t.SellerOrgnr, formats.CheckOrgnr)
	case formats.Luhn(t.Orgnr):
		// orgnr is valid (normalised above): the biller sells in its own name.
		t.SellerOrgnr = t.Orgnr
	}
	if t.VATID != "" {
		normalise(ps, key+".vat_id", &t.VATID, formats.CheckVATID)
		if v := t.VATID; len(v) == 14 && v[:2] == "SE" && t.SellerOrgnr != "" && v[2:12] != t.SellerOrgnr {
			ps.add(key+".vat_id", "%s is the VAT id of organisationsnummer %s, not of the seller %s: a Swedish VAT id is SE, the seller's organisationsnummer and 01", v, v[2:12], t.SellerOrgnr)
		}
	}
	accounts := []struct {
		name  string
		value *string
		check func(string) (string, error)
	}{
		{"bankgiro", &t.Bankgiro, formats.CheckBankgiro},
		{"plusgiro", &t.Plusgiro, formats.CheckPlusgiro},
		{"iban", &t.IBAN, formats.CheckIBAN},
		{"swish", &t.Swish, formats.CheckSwish},
	}
	hasAccount := false
	for _, a := range accounts {
		if *a.value != "" {
			normalise(ps, key+"."+a.name, a.value, a.check)
			hasAccount = true
		}
	}
	switch {
	case t.Open && !c.Embedded:
		ps.add(key+".open", "only the embedded default's demo tenant may be open (take invoices from any seller, payable to any account); a tenant in a configuration file declares its seller (orgnr, seller_orgnr, vat_id) and payment accounts instead: remove open")
	case !hasAccount && !t.Open:
		ps.add(key+".bankgiro", `required: at least one payment account the tenant's invoices may be paid to: bankgiro (like "5050-1055"), plusgiro, iban or swish; an invoice payable to any other account is rejected`)
	}
	switch t.Duplicates {
	case DuplicatesRefuse, DuplicatesWarn:
	default:
		ps.add(key+".duplicates", "%q: use %q (an invoice whose seller, kind and number were sent before is rejected) or %q (it is sent again, with a warning)", t.Duplicates, DuplicatesRefuse, DuplicatesWarn)
	}
}

// Accounts lists the tenant's payment accounts as "bankgiro 50501055,
// iban SE45...", for summaries and messages.
func (t *Tenant) Accounts() []string {
	var out []string
	for _, a := range []struct{ name, value string }{{"bankgiro", t.Bankgiro}, {"plusgiro", t.Plusgiro}, {"iban", t.IBAN}, {"swish", t.Swish}} {
		if a.value != "" {
			out = append(out, a.name+" "+a.value)
		}
	}
	return out
}
