// Package ubl reads and writes Peppol BIS Billing 3.0 documents: UBL 2.1
// Invoice and CreditNote, on their own, wrapped in a Standard Business
// Document Header, or many of them in a ZIP archive.
//
// Reading maps every business term of EN 16931 that the canonical model
// (package formats) holds; it checks only what the model needs to hold a
// value exactly (dates, numbers, at most two decimals on amounts, one
// currency). Business rules are the validator's job, not this package's.
// Writing produces a UBL document from the model that passes the EN 16931
// and Peppol BIS 3 validation artefacts when the model is valid.
package ubl

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// Format is the UBL input format. Its zero value is ready to use.
type Format struct{}

var _ formats.Reader = Format{}

// Name returns "ubl".
func (Format) Name() string { return "ubl" }

var (
	bom     = []byte("\xef\xbb\xbf")
	zipHead = []byte("PK\x03\x04")
)

// Sniff reports whether head starts a UBL Invoice or CreditNote, an SBDH
// wrapping one, or a ZIP archive (read as a batch of UBL files).
func (Format) Sniff(head []byte) bool {
	if bytes.HasPrefix(head, zipHead) {
		return true
	}
	return sniffXML(head)
}

// sniffXML looks at the root element by namespace and local name; any
// prolog, comments or doctype before it are passed over (a doctype is then
// refused by Read with a clear message rather than called an unknown format).
func sniffXML(head []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(head, bom)))
	// Any declared encoding is let through here: the root's name is ASCII,
	// and Read then says clearly which encodings it takes.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	sbdh := false
	for {
		tok, err := d.Token()
		if err != nil {
			// An SBDH header can be longer than the head; Peppol's names the
			// UBL namespace in DocumentIdentification/Standard.
			return sbdh && (bytes.Contains(head, []byte(nsInvoice)) || bytes.Contains(head, []byte(nsCreditNote)))
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case isUBLRoot(se.Name):
			return true
		case se.Name.Space == nsSBDH && se.Name.Local == "StandardBusinessDocument":
			sbdh = true
		case !sbdh:
			return false
		}
	}
}

func isUBLRoot(n xml.Name) bool {
	return n.Space == nsInvoice && n.Local == "Invoice" || n.Space == nsCreditNote && n.Local == "CreditNote"
}

// Read emits one item per document: one for a plain or SBDH-wrapped file,
// one per entry for a ZIP archive. A document that cannot be read becomes an
// item with Err; the rest of a batch goes on.
func (Format) Read(in formats.Input, emit func(formats.Item) error) error {
	var head [4]byte
	n, _ := in.R.ReadAt(head[:], 0)
	if bytes.HasPrefix(head[:n], zipHead) {
		return readZIP(in, emit)
	}
	doc, err := readDocument(in.Stream(), "")
	return emit(formats.Item{Index: 0, Doc: doc, Err: err})
}

// readDocument reads one XML file. source is set on the document and, when
// not empty, prefixes errors ("entry a.xml: ...").
func readDocument(r io.Reader, source string) (*formats.Document, error) {
	doc, err := readXML(r, source)
	if err != nil && source != "" {
		err = fmt.Errorf("%s: %w", source, err)
	}
	if err != nil {
		return nil, err
	}
	return doc, nil
}

func readXML(r io.Reader, source string) (*formats.Document, error) {
	br := newByteReader(r)
	defer br.release() // the tree holds copies of what it read
	head := br.peek(formats.SniffSize)
	if bytes.HasPrefix(head, zipHead) {
		return nil, fmt.Errorf("a ZIP archive inside a ZIP archive is not read: unpack it and send its files")
	}
	if !sniffXML(head) {
		return nil, fmt.Errorf("%s, not UBL (a Peppol BIS 3 Invoice or CreditNote)", formats.Describe(head))
	}
	if bytes.HasPrefix(head, bom) {
		br.skip(len(bom))
	}
	root, err := parseTree(br)
	ubl := unwrap(root)
	if err != nil {
		if number := ubl.val("cbc:ID"); number != "" {
			d := formats.Document{Kind: kindOf(ubl), Number: number}
			return nil, fmt.Errorf("%s: %w", d.Label(), err)
		}
		return nil, err
	}
	if ubl == nil {
		return nil, fmt.Errorf("the Standard Business Document does not wrap a UBL Invoice or CreditNote")
	}
	return mapDocument(ubl, source)
}

// unwrap returns the UBL root of a tree: the root itself, or the Invoice or
// CreditNote inside an SBDH envelope.
func unwrap(root *node) *node {
	if root == nil {
		return nil
	}
	switch root.name {
	case "{" + nsInvoice + "}Invoice", "{" + nsCreditNote + "}CreditNote":
		return root
	case "{" + nsSBDH + "}StandardBusinessDocument":
		for _, k := range root.kids {
			if k.name == "{"+nsInvoice+"}Invoice" || k.name == "{"+nsCreditNote+"}CreditNote" {
				k.parent = nil // error paths start below the UBL root
				return k
			}
		}
	}
	return nil
}

func kindOf(root *node) formats.Kind {
	if root != nil && root.name == "{"+nsCreditNote+"}CreditNote" {
		return formats.KindCreditNote
	}
	return formats.KindInvoice
}

// ForcedChannelNote is the prefix of the invoice note (BT-22) by which an
// ERP forces a delivery channel: "#multikanal:channel=print". The note is
// an instruction to the gateway, so it is taken out of the invoice's notes
// and does not reach the buyer.
const ForcedChannelNote = "#multikanal:channel="

// ResendNote is the invoice note (BT-22) by which an ERP marks a document
// it sends again on purpose: "#multikanal:resend=yes". Like the channel
// note it is an instruction to the gateway and never reaches the buyer.
// (UBL's cbc:CopyIndicator is not used for this: EN 16931 does not carry
// it, UBL-CR-004 warns about it, and a copy is a document "for your
// records", not one to deliver again.)
const ResendNote = "#multikanal:resend="

// resend reads the resend note: its value yes (or true, 1) asks for a
// resend; any other value is no.
func resend(note string) (yes, ok bool) {
	t := strings.TrimSpace(note)
	if !strings.HasPrefix(strings.ToLower(t), ResendNote) {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(t[len(ResendNote):])) {
	case "yes", "true", "1", "ja":
		return true, true
	}
	return false, true
}

func forcedChannel(note string) (string, bool) {
	t := strings.TrimSpace(note)
	if !strings.HasPrefix(strings.ToLower(t), ForcedChannelNote) {
		return "", false
	}
	return strings.ToLower(strings.TrimSpace(t[len(ForcedChannelNote):])), true
}
