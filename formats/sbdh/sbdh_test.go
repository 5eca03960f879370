package sbdh

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	doc := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>A&amp;1</ID></Invoice>`)
	var b bytes.Buffer
	e := Envelope{Sender: "0007:5566123450", Receiver: "0007:5567432108", InstanceID: "F1-2.peppol<x>",
		Created: time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), Kind: "Invoice", Country: "SE"}
	if err := Write(&b, e, doc); err != nil {
		t.Fatal(err)
	}
	var sbd struct {
		Header struct {
			Sender   string `xml:"Sender>Identifier"`
			Receiver string `xml:"Receiver>Identifier"`
			Instance string `xml:"DocumentIdentification>InstanceIdentifier"`
			Created  string `xml:"DocumentIdentification>CreationDateAndTime"`
			Scopes   []struct {
				Type, InstanceIdentifier string
			} `xml:"BusinessScope>Scope"`
		} `xml:"StandardBusinessDocumentHeader"`
		Invoice struct {
			ID string `xml:"ID"`
		} `xml:"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2 Invoice"`
	}
	if err := xml.Unmarshal(b.Bytes(), &sbd); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	h := sbd.Header
	if h.Sender != e.Sender || h.Receiver != e.Receiver || h.Instance != e.InstanceID || h.Created != "2025-03-03T00:00:00Z" || sbd.Invoice.ID != "A&1" {
		t.Errorf("header %+v, invoice %q", h, sbd.Invoice.ID)
	}
	if len(h.Scopes) != 3 || h.Scopes[0].InstanceIdentifier != DocumentTypeID("Invoice") || h.Scopes[1].InstanceIdentifier != BillingProcess || h.Scopes[2].InstanceIdentifier != "SE" {
		t.Errorf("scopes %+v", h.Scopes)
	}
	if strings.Count(b.String(), "<?xml") != 1 {
		t.Error("the payload's XML declaration was kept inside the envelope")
	}
	for _, bad := range []Envelope{{Receiver: "r", InstanceID: "i", Kind: "Invoice"}, {Sender: "s", Receiver: "r", InstanceID: "i", Kind: "Order"}} {
		if err := Write(&bytes.Buffer{}, bad, doc); err == nil {
			t.Errorf("envelope %+v accepted", bad)
		}
	}
}
