package route

import (
	"maps"
	"slices"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/outbound"
)

// billerRules is who the tenant sends as and where it may be paid, for the
// MK-SELLER and MK-ACCOUNT rules every document is validated against
// (routing and `convert` alike): the seller (seller_orgnr, by default the
// biller's orgnr, and vat_id) and the accounts (bankgiro, plusgiro, iban,
// and the payee bankgiros of its agreements: AutoGiro's). The embedded default's
// tenant is open; validation then notes on every document that nothing was
// checked (MK-OPEN), which its receipt shows.
func billerRules(t config.Tenant) *validate.Biller {
	if t.Open {
		return &validate.Biller{Open: true}
	}
	b := &validate.Biller{Orgnr: t.SellerOrgnr, VATID: t.VATID}
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	add(&b.Bankgiros, t.Bankgiro)
	for _, name := range slices.Sorted(maps.Keys(t.Agreements)) {
		if a, ok := t.Agreements[name].(outbound.PayeeBankgiros); ok {
			for _, bg := range a.PayeeBankgiros() {
				add(&b.Bankgiros, bg)
			}
		}
	}
	add(&b.Plusgiros, t.Plusgiro)
	add(&b.IBANs, t.IBAN)
	return b
}

// ValidateOptions are the rules a document of the tenant is validated
// against now, by routing and by a resend alike.
func ValidateOptions(t config.Tenant, now time.Time) validate.Options {
	return validate.Options{Now: now, Biller: billerRules(t), OCRLengthDigit: t.OCRLengthDigit}
}

// OfflineCollection says why convert never decides a direct debit.
func OfflineCollection(doc *formats.Document) string {
	if payer := doc.MandateReference(); payer != "" {
		return "collection: not decided offline: convert has no registry, so no mandate for mandate reference " + payer + " (BT-89) is known and the invoice is shown paid by transfer"
	}
	return noDirectDebit
}
