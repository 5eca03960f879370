// Package sbdh writes the Standard Business Document Header envelope that
// Peppol puts around every business document: who sends, who receives, which
// document type and process, and a unique instance id. (Reading an SBDH is
// in formats/ubl, which unwraps the document inside.)
package sbdh

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Peppol BIS Billing 3.0 identifiers.
const (
	// ParticipantScheme is the identifier scheme of Peppol participant ids.
	ParticipantScheme = "iso6523-actorid-upis"
	// DocTypeScheme and ProcessScheme qualify the document type and process.
	DocTypeScheme = "busdox-docid-qns"
	ProcessScheme = "cenbii-procid-ubl"
	// BillingProcess is the BIS Billing 3.0 process id.
	BillingProcess       = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
	billingCustomization = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
)

// Envelope is what the header says about one document.
type Envelope struct {
	Sender     string // participant id "0007:5561234567"
	Receiver   string // participant id
	InstanceID string // unique per document sent; also the idempotency key
	Created    time.Time
	// Kind is "Invoice" or "CreditNote".
	Kind string
	// Country is the sender's country code (C1), "SE".
	Country string
}

// DocumentTypeID is the Peppol document type identifier for a BIS 3 invoice
// or credit note.
func DocumentTypeID(kind string) string {
	return fmt.Sprintf("urn:oasis:names:specification:ubl:schema:xsd:%s-2::%s##%s::2.1", kind, kind, billingCustomization)
}

// Write writes the SBD: the header for e, then the UBL document doc (its
// bytes, without an XML declaration of its own) as the payload.
func Write(w io.Writer, e Envelope, doc []byte) error {
	if e.Sender == "" || e.Receiver == "" || e.InstanceID == "" {
		return errors.New("sbdh: sender, receiver and instance id are required")
	}
	if e.Kind != "Invoice" && e.Kind != "CreditNote" {
		return fmt.Errorf("sbdh: document kind %q is not Invoice or CreditNote", e.Kind)
	}
	body := bytes.TrimSpace(doc)
	if bytes.HasPrefix(body, []byte("<?xml")) {
		if i := bytes.Index(body, []byte("?>")); i >= 0 {
			body = bytes.TrimSpace(body[i+2:])
		}
	}
	created := e.Created.UTC().Format("2006-01-02T15:04:05Z")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">` + "\n")
	b.WriteString("  <StandardBusinessDocumentHeader>\n    <HeaderVersion>1.0</HeaderVersion>\n")
	fmt.Fprintf(&b, "    <Sender>\n      <Identifier Authority=\"%s\">%s</Identifier>\n    </Sender>\n", ParticipantScheme, esc(e.Sender))
	fmt.Fprintf(&b, "    <Receiver>\n      <Identifier Authority=\"%s\">%s</Identifier>\n    </Receiver>\n", ParticipantScheme, esc(e.Receiver))
	b.WriteString("    <DocumentIdentification>\n")
	fmt.Fprintf(&b, "      <Standard>urn:oasis:names:specification:ubl:schema:xsd:%s-2</Standard>\n", e.Kind)
	b.WriteString("      <TypeVersion>2.1</TypeVersion>\n")
	fmt.Fprintf(&b, "      <InstanceIdentifier>%s</InstanceIdentifier>\n", esc(e.InstanceID))
	fmt.Fprintf(&b, "      <Type>%s</Type>\n", e.Kind)
	fmt.Fprintf(&b, "      <CreationDateAndTime>%s</CreationDateAndTime>\n", created)
	b.WriteString("    </DocumentIdentification>\n    <BusinessScope>\n")
	scope := func(typ, id, scheme string) {
		fmt.Fprintf(&b, "      <Scope>\n        <Type>%s</Type>\n        <InstanceIdentifier>%s</InstanceIdentifier>\n", typ, esc(id))
		if scheme != "" {
			fmt.Fprintf(&b, "        <Identifier>%s</Identifier>\n", scheme)
		}
		b.WriteString("      </Scope>\n")
	}
	scope("DOCUMENTID", DocumentTypeID(e.Kind), DocTypeScheme)
	scope("PROCESSID", BillingProcess, ProcessScheme)
	if e.Country != "" {
		scope("COUNTRY_C1", e.Country, "")
	}
	b.WriteString("    </BusinessScope>\n  </StandardBusinessDocumentHeader>\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n</StandardBusinessDocument>\n")
	return err
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
