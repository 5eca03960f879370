package store

import (
	"slices"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// A resend has deliveries of its own, so its idempotency keys differ from
// the first send's.
func TestResendDeliveryIDs(t *testing.T) {
	d := &Doc{ID: "F0000001-0000003"}
	if got := d.DeliveryID("email"); got != "F0000001-0000003.email" || got != DeliveryID(d.ID, "email") {
		t.Errorf("first delivery %q", got)
	}
	d.Resends = 2
	if got := d.DeliveryID("email"); got != "F0000001-0000003-r2.email" {
		t.Errorf("second resend %q", got)
	}
	if got := d.DeliveryIDs("print"); !slices.Equal(got, []string{"F0000001-0000003.print", "F0000001-0000003-r1.print", "F0000001-0000003-r2.print"}) {
		t.Errorf("every delivery %q", got)
	}
}

// A document's duplicate key is its seller however the input wrote it, its
// kind and its trimmed number, so a credit note and an invoice with one
// number are two documents.
func TestDocKeyOf(t *testing.T) {
	seller := formats.Party{Name: "Multikanal Demo Energi AB", LegalID: formats.Identifier{Scheme: "0007", Value: "5566123450"}}
	key := func(p formats.Party, kind formats.Kind, number string) DocKey {
		t.Helper()
		k, ok := DocKeyOf(&formats.Document{Seller: p, Kind: kind, Number: number})
		if !ok {
			t.Fatalf("no key for %q", number)
		}
		return k
	}
	inv := key(seller, formats.KindInvoice, "2025-1001")
	for name, p := range map[string]formats.Party{
		"dashed orgnr":    {LegalID: formats.Identifier{Value: "556612-3450"}},
		"16 prefix":       {LegalID: formats.Identifier{Scheme: "0007", Value: "165566123450"}},
		"Swedish VAT id":  {VATID: "se 5566123450 01"},
		"another name":    {Name: "MULTIKANAL DEMO", LegalID: formats.Identifier{Scheme: "0007", Value: "5566123450"}},
		"number trimmed ": seller,
	} {
		if k := key(p, "", " 2025-1001 "); k != inv {
			t.Errorf("%s: key %v, want %v", name, k, inv)
		}
	}
	for name, k := range map[string]DocKey{
		"credit note":    key(seller, formats.KindCreditNote, "2025-1001"),
		"other number":   key(seller, formats.KindInvoice, "2025-1002"),
		"other seller":   key(formats.Party{LegalID: formats.Identifier{Scheme: "0007", Value: "5561234567"}}, formats.KindInvoice, "2025-1001"),
		"foreign seller": key(formats.Party{LegalID: formats.Identifier{Scheme: "0192", Value: "5566123450"}}, formats.KindInvoice, "2025-1001"),
		"only a name":    key(formats.Party{Name: "Multikanal  Demo Energi AB"}, formats.KindInvoice, "2025-1001"),
	} {
		if k == inv {
			t.Errorf("%s: same key %v as the invoice", name, k)
		}
	}
	if k := key(formats.Party{Name: " multikanal demo  energi ab"}, formats.KindInvoice, "1"); k.Seller != "name:multikanal demo energi ab" {
		t.Errorf("a seller known by name only: %q", k.Seller)
	}
	if _, ok := DocKeyOf(&formats.Document{Seller: seller, Number: " "}); ok {
		t.Error("a document without a number has a key")
	}
}
