package finvoice

import (
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// Address is where a Finvoice message goes, or comes from: an e-invoice
// address (verkkolaskuosoite) and the intermediator that serves it
// (välittäjätunnus). For a consumer the address is the one the consumer's
// bank gave in its reception notice (the ReceiverInfo message) and the
// intermediator is that bank's BIC; for a business the address is usually
// its OVT code (0037, the Y-tunnus's eight digits and an optional suffix)
// and the intermediator its operator's code or its bank's BIC. Finvoice
// needs both halves (ToIdentifier and ToIntermediator are mandatory); EN
// 16931 carries only the first (BT-49), which is why the channel takes the
// whole address from the recipient registry.
type Address struct {
	ID            string // FromIdentifier / ToIdentifier
	Intermediator string // FromIntermediator / ToIntermediator
}

// ParseAddress reads an address written as ID@INTERMEDIATOR, the form the
// recipient registry keeps ("003701999207@003721291126",
// "FI4819503000000010@NDEAFIHH"). Both halves are 2 to 35 characters
// without spaces; an OVT code's Y-tunnus must pass its check digit, and an
// intermediator of eight or eleven letters and digits that looks like a
// BIC must be one.
func ParseAddress(s string) (Address, error) {
	id, inter, ok := strings.Cut(strings.TrimSpace(s), "@")
	a := Address{ID: strings.TrimSpace(id), Intermediator: strings.ToUpper(strings.TrimSpace(inter))}
	if !ok || strings.Contains(a.Intermediator, "@") {
		return Address{}, fmt.Errorf("e-invoice address %q: write the address and its intermediator as ADDRESS@INTERMEDIATOR, like 003701999207@003721291126 or FI4819503000000010@NDEAFIHH", s)
	}
	if err := a.Check(); err != nil {
		return Address{}, err
	}
	return a, nil
}

// Check reports whether both halves fit Finvoice's elements.
func (a Address) Check() error {
	for _, part := range []struct{ what, v string }{{"e-invoice address", a.ID}, {"intermediator", a.Intermediator}} {
		if len(part.v) < 2 || len([]rune(part.v)) > 35 || strings.ContainsAny(part.v, " \t\r\n@") {
			return fmt.Errorf("%s %q: 2 to 35 characters without spaces", part.what, part.v)
		}
	}
	if isOVT(a.ID) {
		if _, err := formats.CheckYTunnus(a.ID[4:12]); err != nil {
			return fmt.Errorf("e-invoice address %s is an OVT code (0037 and a Y-tunnus), but %w", a.ID, err)
		}
	}
	if looksLikeBIC(a.Intermediator) && !isBIC(a.Intermediator) {
		return fmt.Errorf("intermediator %s: a bank's BIC has four letters for the bank, two for the country and two or five letters or digits, like NDEAFIHH", a.Intermediator)
	}
	return nil
}

// String writes ID@INTERMEDIATOR, the form ParseAddress reads.
func (a Address) String() string { return a.ID + "@" + a.Intermediator }

// scheme is the SchemeID an address is written with: 0037 for an OVT
// code, none for a consumer's or an operator's own address form.
func (a Address) scheme() string {
	if isOVT(a.ID) {
		return schemeOVT
	}
	return ""
}

// Identifier schemes (ISO 6523 ICD and the Peppol EAS codes built on them)
// that name Finnish parties.
const (
	schemeOVT       = "0037" // OVT code: 0037 + Y-tunnus digits + optional suffix
	schemeOVTPeppol = "0216" // OVTcode as the Peppol EAS list names it
	schemeYTunnus   = "0212" // Finnish organisation identifier (Y-tunnus)
	schemeFIVAT     = "0213" // Finnish VAT number
)

// isOVT reports whether id has the shape of an OVT code: 0037, the eight
// digits of a Y-tunnus, and at most five more letters or digits.
func isOVT(id string) bool {
	if len(id) < 12 || len(id) > 17 || !strings.HasPrefix(id, schemeOVT) {
		return false
	}
	for i := 4; i < len(id); i++ {
		c := id[i]
		digit := c >= '0' && c <= '9'
		if i < 12 && !digit || !digit && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// ovtOf returns the OVT code without suffix of a Y-tunnus ("0199920-7"
// becomes "003701999207").
func ovtOf(ytunnus string) string { return schemeOVT + strings.ReplaceAll(ytunnus, "-", "") }

// looksLikeBIC reports whether s is shaped as a BIC could be (eight or
// eleven letters and digits starting with letters), so that a typo in one
// is caught while an operator's numeric code passes.
func looksLikeBIC(s string) bool {
	return (len(s) == 8 || len(s) == 11) && s[0] >= 'A' && s[0] <= 'Z'
}

// isBIC checks the form of a business identifier code (ISO 9362): four
// letters for the institution, two for the country, two letters or digits
// for the location and optionally three for the branch.
func isBIC(s string) bool {
	if len(s) != 8 && len(s) != 11 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'A' && c <= 'Z'
		if i < 6 && !letter || !letter && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
