package peppol

import (
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// EHF: Norway's e-invoice (EHF Billing 3.0) is Peppol BIS Billing 3.0 with
// the Norwegian rules of the Peppol artefact, so a Norwegian buyer is
// reached on this channel by its organisasjonsnummer under scheme 0192.

// norwegianAddress returns why a participant id under scheme 0192 names no
// participant (its organisasjonsnummer is not 9 digits with a valid
// modulus 11 check digit, PEPPOL-COMMON-R041), or "" when it does or is
// under another scheme. It matters for an address the registry gives:
// one on the invoice is checked with the Peppol rules already.
func norwegianAddress(addr string) string {
	scheme, value, _ := strings.Cut(addr, ":")
	if scheme != "0192" {
		return ""
	}
	if _, err := formats.CheckNorwegianOrgnr(value); err != nil || len(value) != 9 {
		why := "it is not 9 digits"
		if err != nil {
			why = err.Error()
		}
		return fmt.Sprintf("buyer's Peppol address %s is no Norwegian organisasjonsnummer: %s (MK-ORGNR, PEPPOL-COMMON-R041)", addr, why)
	}
	return ""
}

// norwegianEndpoint is a Norwegian seller's electronic address when the
// input gave none: its organisasjonsnummer under scheme 0192, from its
// legal id under 0192, or a bare 9-digit legal id of a seller in Norway.
func norwegianEndpoint(p formats.Party) formats.Identifier {
	l := p.LegalID
	if l.Scheme != "0192" && !(l.Scheme == "" && strings.EqualFold(strings.TrimSpace(p.Address.Country), "NO")) {
		return formats.Identifier{}
	}
	orgnr, err := formats.CheckNorwegianOrgnr(l.Value)
	if err != nil {
		return formats.Identifier{}
	}
	return formats.Identifier{Scheme: "0192", Value: orgnr}
}
