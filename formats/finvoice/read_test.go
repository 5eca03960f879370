package finvoice

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// essentials is what must survive a trip through Finvoice: what the payer
// sees and what the bank pays.
type essentials struct {
	Kind                       formats.Kind
	Number, Currency           string
	Issue, Due                 formats.Date
	Seller, Buyer, SellerLegal string
	BuyerAddress               formats.Address
	Customer, Order            string
	Notes                      []string
	Terms                      string
	Preceding                  []formats.PrecedingInvoice
	VAT                        []formats.VATBreakdown
	Totals                     formats.Totals
	Lines                      []string
	IBAN, BIC, Reference       string
}

func essentialsOf(d *formats.Document) essentials {
	p := d.HowToPay()
	e := essentials{Kind: d.Kind, Number: d.Number, Currency: d.Currency, Issue: d.IssueDate, Due: d.DueDate,
		Seller: d.Seller.Name, Buyer: d.Buyer.Name, SellerLegal: d.Seller.LegalID.String(), BuyerAddress: d.Buyer.Address,
		Customer: d.Buyer.CustomerNumber, Order: d.OrderReference, Notes: d.Notes, Terms: d.PaymentTerms, Preceding: d.Preceding,
		VAT: d.VAT, Totals: d.Totals, IBAN: strings.ReplaceAll(p.IBAN, " ", ""), BIC: p.BIC, Reference: strings.ToUpper(strings.ReplaceAll(p.Reference, " ", ""))}
	for _, l := range d.Lines {
		e.Lines = append(e.Lines, strings.Join([]string{l.ID, l.Item.Name, string(l.Quantity), l.Unit, l.NetAmount.String(),
			string(l.Price.Amount), l.Item.VATCategory, string(l.Item.VATRate)}, "|"))
	}
	return e
}

// TestRoundTrip writes batches, reads them back, compares what matters,
// and writes what it read: the second file must be the first, byte for
// byte, so reading loses nothing that writing puts in. ("long texts" is
// left out: a cut item name is given whole in the row's free text, which
// reads back as the line's note.)
func TestRoundTrip(t *testing.T) {
	cases := schemaCases()
	for _, name := range []string{"batch", "more elements"} {
		b := cases[name]
		first := write(t, b)
		msgs, err := Read(bytes.NewReader(first))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(msgs) != len(b.Items) {
			t.Fatalf("%s: read %d messages, wrote %d", name, len(msgs), len(b.Items))
		}
		again := Batch{Created: b.Created, Intermediator: b.Intermediator}
		for i, m := range msgs {
			it := b.Items[i]
			if m.ID != it.ID || m.To != it.To || m.From.Intermediator != "OKOYFIHH" || m.From.ID != "003701999207" || !m.Time.Equal(b.Created) {
				t.Errorf("%s message %d routing: %+v", name, i+1, m)
			}
			if got, want := essentialsOf(m.Doc), essentialsOf(it.Doc); !reflect.DeepEqual(got, want) {
				t.Errorf("%s message %d:\n got %+v\nwant %+v", name, i+1, got, want)
			}
			again.Items = append(again.Items, Item{ID: m.ID, To: m.To, Doc: m.Doc})
		}
		if second := write(t, again); !bytes.Equal(first, second) {
			t.Errorf("%s: writing what was read gives another file", name)
		}
	}
}

// TestReadFrameless reads one message without its SOAP frame, in UTF-8:
// the routing comes from MessageTransmissionDetails.
func TestReadFrameless(t *testing.T) {
	finvoices, _ := messages(t, write(t, testBatch()))
	text := string(mustUTF8(t, finvoices[1]))
	text = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + text
	msgs, err := Read(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if m.ID != "F0000001-0000002.finvoice" || m.To.String() != "003713669598@003721291126" || m.Doc.Number != "2024-1002" ||
		m.Doc.Buyer.Endpoint.String() != "0037:003713669598" || m.Doc.PaymentReference() != "RF18539007547034" {
		t.Errorf("read %+v, doc %s to %s paid with %s", m, m.Doc.Number, m.Doc.Buyer.Endpoint, m.Doc.PaymentReference())
	}
}

func TestReadErrors(t *testing.T) {
	good := string(mustUTF8(t, write(t, testBatch())))
	tests := []struct {
		name, file string
		item       int
		says       string
	}{
		{"not XML", "hello", 1, "text outside"},
		{"empty", "", 0, "no Finvoice message"},
		{"UBL", `<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>`, 1, "neither a SOAP frame nor a Finvoice"},
		{"version 2.01", strings.Replace(good, `Version="3.0"`, `Version="2.01"`, 1), 1, "version"},
		{"bad amount in the second", replaceNth(good, ">111,60<", ">111.6.0<", 1), 2, "InvoiceTotalVatIncludedAmount"},
		{"bad date in the third", replaceNth(good, ">20240410<", ">20241310<", 3), 3, "CCYYMMDD"},
		{"cut short", good[:len(good)/2], 2, "well-formed"},
		{"unknown encoding", `<?xml version="1.0" encoding="EBCDIC"?><Finvoice/>`, 0, "encoding EBCDIC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.file))
			var e *Error
			if !errors.As(err, &e) || e.Item != tt.item || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Read = %v, want message %d saying %q", err, tt.item, tt.says)
			}
		})
	}
}

// replaceNth replaces the n-th (from 1) occurrence of old.
func replaceNth(s, old, new string, n int) string {
	i := -1
	for ; n > 0; n-- {
		j := strings.Index(s[i+1:], old)
		if j < 0 {
			return s
		}
		i += j + 1
	}
	return s[:i] + new + s[i+len(old):]
}

// TestOfficialExamples reads Finance Finland's published example messages
// and writes them again, when the project has them in
// shared/testdata/finvoice (the repository cannot carry them; see
// docs/channels/finvoice.md): the essentials must survive.
func TestOfficialExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "finvoice", "*.xml"))
	if len(files) == 0 {
		t.Skip("Finance Finland's Finvoice 3.0 example messages are not in ../shared/testdata/finvoice; " +
			"they could not be obtained for this repository (docs/channels/finvoice.md), so the round trip runs on the test batch only")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range msgs {
				to := m.To
				if to.Check() != nil {
					to = Address{ID: "003713669598", Intermediator: "003721291126"}
				}
				var out bytes.Buffer
				err := WriteBatch(&out, Batch{Created: time.Now(), Intermediator: "OKOYFIHH", Items: []Item{{ID: "example", To: to, Doc: m.Doc}}})
				if err != nil {
					t.Logf("message %d cannot be written again (the writer is stricter than the reader): %v", i+1, err)
					continue
				}
				back, err := Read(&out)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := essentialsOf(back[0].Doc), essentialsOf(m.Doc); !reflect.DeepEqual(got, want) {
					t.Errorf("message %d:\n got %+v\nwant %+v", i+1, got, want)
				}
			}
		})
	}
}
