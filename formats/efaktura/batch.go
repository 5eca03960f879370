package efaktura

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Namespaces. The batch envelope's is our own (see the package doc): it
// marks the file as the stand-in so nobody mistakes it for Bankgirot's,
// which must replace it before a production file is sent.
const (
	NamespaceBatch  = "urn:multikanal:efaktura:batch:1"
	NamespaceReport = "urn:multikanal:efaktura:report:1"

	nsInvoice = "urn:sfti:documents:BasicInvoice:1:0"
	nsCAC     = "urn:sfti:CommonAggregateComponents:1:0"
	nsCBC     = "urn:oasis:names:tc:ubl:CommonBasicComponents:1:0"
)

// Biller is who sends the file: Bankgirot knows an e-faktura biller by the
// bankgiro number its agreement is registered on (avtalsbankgiro).
type Biller struct {
	Name     string
	Orgnr    string
	Bankgiro string // the agreement's bankgiro; required
}

// Item is one document for one consumer. Recipient is the address the
// consumer registered with the biller in the internet bank: a personnummer
// (12 digits, YYYYMMDDNNNC, hyphen allowed) or the biller's own customer
// number for the consumer.
type Item struct {
	Recipient string
	Doc       *formats.Document
}

// Batch is one file for the bank.
type Batch struct {
	ID      string    // names the file; stable across retries
	Created time.Time // when the batch was cut; stable across retries
	Biller  Biller
	Items   []Item
}

// Recipient schemes, as the envelope writes them.
const (
	SchemePersonnummer   = "personnummer"
	SchemeCustomerNumber = "customer-number"
)

// maxCustomerNumber bounds a customer-number registration. Bankgirot's
// limit (Bilaga 3's min and max lengths per field) could not be read here;
// 35 is the usual length of a UBL identifier field and longer than any
// customer number we have seen.
const maxCustomerNumber = 35

// ParseRecipient tells a personnummer from a customer number and returns
// the scheme and the normalised value. Exactly 12 digits (a hyphen after
// the date allowed) is a personnummer and must pass its check: a typo in a
// personnummer must not turn it silently into a customer number.
func ParseRecipient(s string) (scheme, value string, err error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", "", fmt.Errorf("no e-faktura registration address")
	}
	if d := strings.Replace(t, "-", "", 1); len(d) == 12 && formats.OnlyDigits(d) == d {
		pnr, err := formats.CheckPersonnummer(d, time.Time{})
		if err != nil {
			return "", "", err
		}
		return SchemePersonnummer, pnr, nil
	}
	if len(t) > maxCustomerNumber {
		return "", "", fmt.Errorf("customer number %q is longer than %d characters", t, maxCustomerNumber)
	}
	for _, r := range t {
		if r < ' ' || r == 0x7f {
			return "", "", fmt.Errorf("customer number %q holds a control character", t)
		}
	}
	return SchemeCustomerNumber, t, nil
}

// WriteBatch writes the batch as one XML file: the envelope's start
// element, one Svefaktura 1.0 Invoice per item, and the end element with
// the count and control total. Nothing is written unless every invoice
// passes: a half-written file must never reach the bank. The error is an
// *Error naming the first item and rule that failed.
//
// The same batch always gives the same bytes.
func WriteBatch(w io.Writer, b Batch) error {
	root, err := batchTree(b)
	if err != nil {
		return err
	}
	return writeXML(w, root)
}

func batchTree(b Batch) (*node, error) {
	if strings.TrimSpace(b.ID) == "" {
		return nil, &Error{Rule: RuleBatch, Msg: "the batch has no id"}
	}
	if b.Created.IsZero() {
		return nil, &Error{Rule: RuleBatch, Msg: "batch " + b.ID + " has no creation time"}
	}
	if len(b.Items) == 0 {
		return nil, &Error{Rule: RuleBatch, Msg: "batch " + b.ID + " holds no invoice; an empty file is never sent"}
	}
	bg, err := formats.CheckBankgiro(b.Biller.Bankgiro)
	if err != nil {
		return nil, &Error{Rule: RuleBatch, Msg: "the biller's agreement bankgiro: " + err.Error()}
	}
	sender := elem("Sender").add(leaf("Bankgiro", bg), leaf("Name", b.Biller.Name))
	if b.Biller.Orgnr != "" {
		orgnr, err := formats.CheckOrgnr(b.Biller.Orgnr)
		if err != nil {
			return nil, &Error{Rule: RuleBatch, Msg: "the biller's " + err.Error()}
		}
		sender.add(leaf("Orgnr", orgnr))
	}
	root := &node{name: "InvoiceBatch", attrs: []attr{{"xmlns", NamespaceBatch}}}
	// UTC, so the bytes do not depend on the location the time came in.
	root.add(elem("Start", leaf("BatchID", b.ID), leaf("Created", b.Created.UTC().Format(time.RFC3339)), sender))
	var total formats.Amount
	for i, it := range b.Items {
		scheme, to, inv, err := item(i+1, it)
		if err != nil {
			return nil, err
		}
		amount := it.Doc.Totals.Payable
		if it.Doc.Kind == formats.KindCreditNote {
			amount = -amount
		}
		total += amount
		root.add(elem("Item", &node{name: "Recipient", attrs: []attr{{"scheme", scheme}}, text: to}, inv))
	}
	root.add(elem("End",
		leaf("Count", strconv.Itoa(len(b.Items))),
		leaf("Total", total.String(), attr{"currency", "SEK"})))
	return root, nil
}

// CheckItem reports whether WriteBatch would accept the item, so a caller
// can refuse one invoice before it joins a batch instead of failing the
// whole file at the cut-off.
func CheckItem(it Item) error {
	_, _, _, err := item(0, it)
	return err
}

func item(n int, it Item) (scheme, to string, inv *node, err error) {
	if it.Doc == nil {
		return "", "", nil, &Error{Item: n, Rule: RuleBatch, Msg: "no document"}
	}
	scheme, to, rerr := ParseRecipient(it.Recipient)
	if rerr != nil {
		return "", "", nil, &Error{Item: n, Invoice: it.Doc.Label(), Rule: RuleRecipient, Msg: rerr.Error()}
	}
	if err := check(it.Doc); err != nil {
		err.Item, err.Invoice = n, it.Doc.Label()
		return "", "", nil, err
	}
	return scheme, to, invoice(it.Doc, to), nil
}
