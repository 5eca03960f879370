package validate

import (
	"regexp"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// Norway: EHF Billing 3.0 is Peppol BIS Billing 3.0 with the Norwegian
// rules inside the Peppol artefact (PEPPOL-EN16931-UBL.xslt): the
// organisasjonsnummer under scheme 0192 (PEPPOL-COMMON-R041), the seller's
// VAT number (NO-R-001) and "Foretaksregisteret" (NO-R-002).

// norwegian checks the organisasjonsnummer a party carries under scheme
// 0192 (its legal id, its electronic address, its other ids), as orgnrs
// does the Swedish one: an error for the seller, who is paid under it, a
// warning for the buyer, whose invoice can still reach them by another
// channel (Peppol refuses the address itself, PEPPOL-COMMON-R041).
func (r *report) norwegian() {
	d := r.doc
	for _, p := range []struct {
		role  string
		party formats.Party
	}{{"seller", d.Seller}, {"buyer", d.Buyer}} {
		sev := formats.SeverityError
		if p.role == "buyer" {
			sev = formats.SeverityWarning
		}
		for _, id := range norwegianIDs(p.party) {
			if _, err := formats.CheckNorwegianOrgnr(id.Value); err != nil {
				r.add(sev, "MK-ORGNR", "%s's id 0192:%s: %v", p.role, id.Value, err)
			}
		}
	}
}

// norwegianIDs are a party's ids under scheme 0192, where the artefact
// tests them: EndpointID, PartyIdentification/ID and CompanyID.
func norwegianIDs(p formats.Party) []formats.Identifier {
	var out []formats.Identifier
	for _, id := range append([]formats.Identifier{p.Endpoint, p.LegalID}, p.Identifiers...) {
		if id.Scheme == "0192" {
			out = append(out, id)
		}
	}
	return out
}

// norwegianVAT is the form NO-R-001 requires after the "NO": the 9 digits
// of the organisasjonsnummer and "MVA".
var norwegianVAT = regexp.MustCompile(`^[0-9]{9}MVA$`)

// peppolNorwegian checks PEPPOL-COMMON-R041 on every 0192 id of the
// seller, buyer and payee, and NO-R-001 and NO-R-002 when the supplier is
// Norwegian, each as the artefact tests it. The artefact takes the
// supplier's country from its VAT number's first two letters, else from
// its address (a tax representative's VAT number the model does not keep).
func (r *report) peppolNorwegian() {
	d := r.doc
	parties := []struct {
		role  string
		party formats.Party
	}{{"seller", d.Seller}, {"buyer", d.Buyer}}
	if d.Payee != nil {
		parties = append(parties, struct {
			role  string
			party formats.Party
		}{"payee", *d.Payee})
	}
	for _, p := range parties {
		for _, id := range norwegianIDs(p.party) {
			v := normalizeSpace(id.Value)
			if _, err := formats.CheckNorwegianOrgnr(v); err != nil || len(v) != 9 {
				r.errorf("PEPPOL-COMMON-R041", "Norwegian organization number MUST be stated in the correct format: %s id 0192:%s is not 9 digits with a valid modulus 11 check digit", p.role, id.Value)
			}
		}
	}
	s := d.Seller
	country := strings.ToUpper(normalizeSpace(s.Address.Country))
	if len(s.VATID) >= 2 {
		country = strings.ToUpper(normalizeSpace(s.VATID[:2]))
	}
	if country != "NO" {
		return
	}
	if strings.HasPrefix(s.VATID, "NO") {
		rest := s.VATID[2:]
		if !norwegianVAT.MatchString(rest) {
			r.errorf("NO-R-001", "For Norwegian suppliers, a VAT number MUST be the country code prefix NO followed by a valid Norwegian organization number (nine numbers) followed by the letters MVA: seller VAT id is %q", s.VATID)
		} else if _, err := formats.CheckNorwegianOrgnr(rest[:9]); err != nil {
			r.errorf("NO-R-001", "For Norwegian suppliers, a VAT number MUST be the country code prefix NO followed by a valid Norwegian organization number (nine numbers) followed by the letters MVA: seller VAT id %s: %v", s.VATID, err)
		}
	}
	if normalizeSpace(s.TaxRegistration) != "Foretaksregisteret" {
		r.warnf("NO-R-002", "For Norwegian suppliers, most invoice issuers are required to append \"Foretaksregisteret\" to their invoice (foretaksregisterloven § 10-2: an AS, ASA or branch of a foreign company): the seller's tax registration (BT-32, scheme TAX) is %q", s.TaxRegistration)
	}
}
