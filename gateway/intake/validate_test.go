package intake

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound/channels"
)

// A chunk's documents are validated on every core before its transaction;
// each gets the problems validating it alone gives and its recipients'
// pseudonyms, unreadable items none.
func TestValidateAllAsOneByOne(t *testing.T) {
	body := exampleInvoices(t, "2025-1001", "2025-1002", "2025-1003", "2025-1004", "2025-1005", "2025-1006", "2025-1007")
	var items []formats.Item
	err := csv.Format{}.Read(formats.Input{Name: "x.csv", R: bytes.NewReader(body), Size: int64(len(body))}, func(it formats.Item) error {
		items = append(items, it)
		return nil
	})
	if err != nil || len(items) < 5 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	// Some that fail: a wrong OCR, a wrong total, an unreadable item.
	var all []formats.Item
	for round := range 40 {
		for _, it := range items {
			if it.Doc != nil {
				d := *it.Doc
				switch round % 4 {
				case 1:
					d.PaymentMeans = append([]formats.PaymentMeans(nil), d.PaymentMeans...)
					for k := range d.PaymentMeans {
						d.PaymentMeans[k].PaymentID += "1"
					}
				case 2:
					d.Totals.Payable++
				}
				it.Doc = &d
			}
			all = append(all, it)
		}
		all = append(all, formats.Item{Err: errors.New("row 9: unreadable")})
	}
	tenant := config.Default(t.TempDir(), channels.All()).Tenants[0]
	now := time.Now()
	hash := func(k store.RecipientKey) string { return "h(" + k.String() + ")" }
	got, keys := validateAll(all, tenant, now, hash)
	failed, withKeys := 0, 0
	for i, it := range all {
		var want formats.Problems
		var wantKeys []string
		if it.Err == nil {
			want = route.Validate(tenant, it.Doc, now)
			wantKeys = registry.Pseudonyms(hash, it.Doc, now)
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Fatalf("item %d: problems %v, validated alone %v", i, got[i], want)
		}
		if !reflect.DeepEqual(keys[i], wantKeys) {
			t.Fatalf("item %d: pseudonyms %v, made alone %v", i, keys[i], wantKeys)
		}
		if len(wantKeys) > 0 {
			withKeys++
		}
		if len(want.Errors()) > 0 {
			failed++
		}
	}
	if failed == 0 || withKeys == 0 {
		t.Fatalf("%d items failed validation, %d have pseudonyms: the test shows nothing without both", failed, withKeys)
	}
}

// A letter without a seller takes its tenant's before it is validated and
// routed (route.Validate), now that validation runs before the transaction
// and out of route.Route: routing and every channel see the tenant's name.
func TestValidateAllCompletesALettersSeller(t *testing.T) {
	tenant := config.Default(t.TempDir(), channels.All()).Tenants[0]
	letter := &formats.Document{Kind: formats.KindLetter, Number: "N-2027", Subject: "Nya priser",
		Buyer: formats.Party{Name: "Lisa Andersson", Contact: formats.Contact{Email: "lisa.andersson@example.se"}}}
	validateAll([]formats.Item{{Doc: letter}}, tenant, time.Now(), func(store.RecipientKey) string { return "" })
	if letter.Seller.Name != tenant.Name || letter.Seller.Name == "" {
		t.Errorf("the letter's seller is %q, want the tenant's %q", letter.Seller.Name, tenant.Name)
	}
}
