package finvoice

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/multikanal/multikanal/formats"
)

// Batch is one file for the biller's bank or e-invoice operator: the
// messages one cut-off collected.
type Batch struct {
	// Created is the messages' time stamp (MessageTimeStamp and the SOAP
	// frame's Timestamp); stable across retries, so a retry writes the
	// same bytes.
	Created time.Time
	// Intermediator is the biller's own intermediator (FromIntermediator):
	// its bank's BIC or its operator's code, as its Finvoice agreement
	// names it.
	Intermediator string
	Items         []Item
}

// Item is one message of a batch.
type Item struct {
	// ID is the MessageIdentifier (2 to 48 characters), unique in the
	// batch; the channel uses the delivery key, so a receiver recognises
	// a repeat.
	ID  string
	To  Address // the recipient's e-invoice address and intermediator
	Doc *formats.Document
}

// Codes this writer uses. INV01 and INV02 are Finvoice's invoice and
// credit note (InvoiceTypeCode, code list SPY) with the UN/CEFACT 1001
// codes beside them; the type text is what the payer's online bank shows,
// in Finnish. SLEV is the SEPA charge option (charges follow the SEPA
// rules), 58 the UNCL 4461 code of a SEPA credit transfer, SPY and ISO the
// schemes of a Finnish reference number and an RF creditor reference.
const (
	version         = "3.0"
	typeInvoice     = "INV01"
	typeCreditNote  = "INV02"
	textInvoice     = "LASKU"
	textCreditNote  = "HYVITYSLASKU"
	originOriginal  = "Original"
	chargeSEPA      = "SLEV"
	meansSEPA       = "58"
	refFinnish      = "SPY"
	refRF           = "ISO"
	currencyEUR     = "EUR"
	specEN16931     = "EN16931"
	dateFormat      = "CCYYMMDD"
	schemaLocation  = "Finvoice3.0.xsd"
	stylesheet      = `<?xml-stylesheet type="text/xsl" href="Finvoice.xsl"?>`
	declarationLat9 = `<?xml version="1.0" encoding="ISO-8859-15"?>`
)

// Check reports whether a Finvoice message can carry the document: the
// rules of the schema and of the payment the bank makes from EpiDetails.
// The channel asks it before a document joins a batch, so one document the
// format cannot carry falls back to another channel instead of failing
// the batch. The error is an *Error naming the rule.
func Check(d *formats.Document) error {
	if _, err := mapDocument(d); err != nil {
		return err
	}
	return nil
}

// WriteBatch writes the batch as one file: for each item its SOAP frame
// and its Finvoice message, in ISO-8859-15. Nothing is written when an
// item breaks a rule; the error is an *Error naming the item.
func WriteBatch(w io.Writer, b Batch) error {
	if err := checkBatch(b); err != nil {
		return err
	}
	var out bytes.Buffer
	for i, it := range b.Items {
		m, err := mapDocument(it.Doc)
		if err != nil {
			err.Item = i + 1
			return err
		}
		from := Address{ID: m.SellerUnit, Intermediator: strings.ToUpper(b.Intermediator)}
		stamp := b.Created.Format(time.RFC3339)
		m.Transmission = &transmission{
			Sender:   senderDetails{From: schemed{Scheme: from.scheme(), Value: from.ID}, Intermediator: from.Intermediator},
			Receiver: receiverDetails{To: schemed{Scheme: it.To.scheme(), Value: it.To.ID}, Intermediator: it.To.Intermediator},
			Message:  messageDetails{ID: it.ID, TimeStamp: stamp, Specification: specEN16931},
		}
		writeFrame(&out, it.ID, from, it.To, stamp)
		out.WriteString(declarationLat9 + "\n" + stylesheet + "\n")
		enc := xml.NewEncoder(&out)
		enc.Indent("", "  ")
		if err := enc.Encode(m); err != nil {
			return &Error{Item: i + 1, Invoice: it.Doc.Label(), Rule: RuleText, Msg: err.Error()}
		}
		out.WriteString("\n")
	}
	// Every text went through latin9, so the encoder cannot meet a
	// character it lacks; an error here is a bug, not bad input.
	// The character set (implementation guidelines, section 9.3): Finvoice
	// messages are ISO-8859-15 ("Latin-9"), and banks check that the bytes
	// are, not only the declaration; every text was folded by formats.Latin9.
	body, err := charmap.ISO8859_15.NewEncoder().Bytes(out.Bytes())
	if err != nil {
		return fmt.Errorf("finvoice: encoding the batch as ISO-8859-15: %w", err)
	}
	_, err = w.Write(body)
	return err
}

func checkBatch(b Batch) error {
	switch {
	case b.Created.IsZero():
		return fail(RuleBatch, "the batch has no creation time")
	case len(b.Items) == 0:
		return fail(RuleBatch, "the batch has no message")
	}
	inter := strings.ToUpper(strings.TrimSpace(b.Intermediator))
	if err := (Address{ID: "00", Intermediator: inter}).Check(); err != nil {
		return fail(RuleBatch, "the biller's own intermediator (FromIntermediator): %v", err)
	}
	seen := map[string]bool{}
	for i, it := range b.Items {
		e := &Error{Item: i + 1}
		if it.Doc != nil {
			e.Invoice = it.Doc.Label()
		}
		switch {
		case it.Doc == nil:
			e.Rule, e.Msg = RuleBatch, "no document"
		case len(it.ID) < 2 || len(it.ID) > 48 || !ascii(it.ID):
			e.Rule, e.Msg = RuleBatch, fmt.Sprintf("message id %q: 2 to 48 ASCII characters", it.ID)
		case seen[it.ID]:
			e.Rule, e.Msg = RuleBatch, fmt.Sprintf("message id %s occurs twice in the batch", it.ID)
		default:
			if err := it.To.Check(); err != nil {
				e.Rule, e.Msg = RuleAddress, "recipient: "+err.Error()
			}
		}
		if e.Rule != "" {
			return e
		}
		seen[it.ID] = true
	}
	return nil
}

// writeFrame writes the SOAP frame that precedes each message on its way
// through the Finvoice forwarding service (implementation guidelines,
// section 9.1): an ebXML message header (version 2.0) naming sender and
// receiver with their intermediators, and a manifest pointing at the
// message by its identifier. The values are ASCII (checked addresses and
// ids), so the frame reads the same in any encoding.
func writeFrame(w *bytes.Buffer, id string, from, to Address, stamp string) {
	x := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	fmt.Fprintf(w, `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:eb="http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd">
  <SOAP-ENV:Header>
    <eb:MessageHeader SOAP-ENV:mustUnderstand="1" eb:version="2.0">
      <eb:From>
        <eb:PartyId>%s</eb:PartyId>
        <eb:Role>Sender</eb:Role>
      </eb:From>
      <eb:From>
        <eb:PartyId>%s</eb:PartyId>
        <eb:Role>Intermediator</eb:Role>
      </eb:From>
      <eb:To>
        <eb:PartyId>%s</eb:PartyId>
        <eb:Role>Receiver</eb:Role>
      </eb:To>
      <eb:To>
        <eb:PartyId>%s</eb:PartyId>
        <eb:Role>Intermediator</eb:Role>
      </eb:To>
      <eb:CPAId>yoursandmycpa</eb:CPAId>
      <eb:ConversationId>%s</eb:ConversationId>
      <eb:Service>Routing</eb:Service>
      <eb:Action>ProcessInvoice</eb:Action>
      <eb:MessageData>
        <eb:MessageId>%s</eb:MessageId>
        <eb:Timestamp>%s</eb:Timestamp>
      </eb:MessageData>
    </eb:MessageHeader>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <eb:Manifest eb:id="Manifest" eb:version="2.0">
      <eb:Reference eb:id="Finvoice" xlink:href="%s">
        <eb:Schema eb:location="http://www.finvoice.info/finvoice.xsd" eb:version="%s"/>
      </eb:Reference>
    </eb:Manifest>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
`, x(from.ID), x(from.Intermediator), x(to.ID), x(to.Intermediator), x(id), x(id), x(stamp), x(id), version)
}
