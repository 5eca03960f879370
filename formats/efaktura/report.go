package efaktura

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Status is what the bank did with one invoice.
type Status string

// The statuses a report gives.
const (
	Accepted Status = "accepted" // the bank took the invoice; it will reach the internet bank
	Rejected Status = "rejected" // the bank refused it; Reason says why
)

// Report is the bank's answer to one batch file. Its layout is the
// stand-in documented in docs/channels/efaktura.md: Bankgirot's report
// layouts (Bilaga 3's rejection codes, BGC Invoice's status reports) could
// not be read where this was written.
type Report struct {
	BatchID string    // the batch the report answers (the envelope's BatchID)
	Created time.Time // when the bank wrote it; zero when it does not say
	Results []Result  // one per invoice, in the report's order
}

// Result is the bank's verdict on one invoice.
type Result struct {
	Invoice   string // invoice number, as written in the batch (Svefaktura ID)
	Recipient string // the registration it was addressed to, when the report repeats it
	Status    Status
	Code      string // the bank's error code, for rejections
	Reason    string // the bank's text, for rejections
}

// maxReport bounds what ParseReport reads. A report lists one short entry
// per invoice; 64 MiB is far beyond any real one and keeps a runaway file
// from exhausting memory.
const maxReport = 64 << 20

// reportXML is the wire form of the stand-in report.
type reportXML struct {
	XMLName  xml.Name `xml:"urn:multikanal:efaktura:report:1 InvoiceBatchReport"`
	BatchID  string   `xml:"urn:multikanal:efaktura:report:1 BatchID"`
	Created  string   `xml:"urn:multikanal:efaktura:report:1 Created"`
	Invoices []struct {
		Status    string `xml:"status,attr"`
		ID        string `xml:"urn:multikanal:efaktura:report:1 ID"`
		Recipient string `xml:"urn:multikanal:efaktura:report:1 Recipient"`
		Reason    *struct {
			Code string `xml:"code,attr"`
			Text string `xml:",chardata"`
		} `xml:"urn:multikanal:efaktura:report:1 Reason"`
	} `xml:"urn:multikanal:efaktura:report:1 Invoice"`
}

// ParseReport reads a whole report and returns it, or an *Error naming the
// entry and rule it broke (an I/O error is returned as it is). Nothing is
// half-read: a caller applies a report all or nothing.
func ParseReport(r io.Reader) (*Report, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxReport+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxReport {
		return nil, &Error{Rule: RuleReport, Msg: fmt.Sprintf("the report is larger than %d MiB", maxReport>>20)}
	}
	if !SniffReport(b) {
		return nil, &Error{Rule: RuleReport, Msg: "not an e-faktura report: the root element must be InvoiceBatchReport in namespace " + NamespaceReport}
	}
	var x reportXML
	if err := xml.Unmarshal(b, &x); err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, &Error{Rule: RuleReport, Msg: fmt.Sprintf("line %d: %s", se.Line, se.Msg)}
		}
		return nil, &Error{Rule: RuleReport, Msg: err.Error()}
	}
	rep := &Report{BatchID: strings.TrimSpace(x.BatchID)}
	if rep.BatchID == "" {
		return nil, &Error{Rule: RuleReport, Msg: "the report names no BatchID, so it cannot be matched to a file we sent"}
	}
	if c := strings.TrimSpace(x.Created); c != "" {
		t, err := time.Parse(time.RFC3339, c)
		if err != nil {
			return nil, &Error{Rule: RuleReport, Msg: fmt.Sprintf("Created %q is not a time like 2024-04-29T06:00:00Z", c)}
		}
		rep.Created = t
	}
	seen := make(map[[2]string]int, len(x.Invoices))
	for i, inv := range x.Invoices {
		res := Result{Invoice: strings.TrimSpace(inv.ID), Recipient: strings.TrimSpace(inv.Recipient), Status: Status(strings.TrimSpace(inv.Status))}
		fail := func(format string, a ...any) error {
			return &Error{Item: i + 1, Invoice: res.Invoice, Rule: RuleReport, Msg: fmt.Sprintf(format, a...)}
		}
		if res.Invoice == "" {
			return nil, fail("an Invoice entry without ID")
		}
		key := [2]string{res.Invoice, res.Recipient}
		if first, dup := seen[key]; dup {
			return nil, fail("reported twice (first as entry %d); which verdict holds is unclear", first)
		}
		seen[key] = i + 1
		switch res.Status {
		case Accepted:
		case Rejected:
			if inv.Reason == nil || strings.TrimSpace(inv.Reason.Text) == "" && strings.TrimSpace(inv.Reason.Code) == "" {
				return nil, fail("rejected without a Reason; the biller needs to know what to fix")
			}
		default:
			return nil, fail("status %q is neither %q nor %q", res.Status, Accepted, Rejected)
		}
		if inv.Reason != nil {
			res.Code, res.Reason = strings.TrimSpace(inv.Reason.Code), strings.TrimSpace(inv.Reason.Text)
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// SniffReport reports whether head (the start of a file) is an e-faktura
// report: its first element is InvoiceBatchReport in the report namespace.
func SniffReport(head []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(head))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "InvoiceBatchReport" {
				return false
			}
			// RawToken leaves the prefix in Space: the namespace is the
			// value of the xmlns attribute that declares that prefix.
			prefix := se.Name.Space
			for _, a := range se.Attr {
				if prefix == "" && a.Name.Space == "" && a.Name.Local == "xmlns" ||
					prefix != "" && a.Name.Space == "xmlns" && a.Name.Local == prefix {
					return a.Value == NamespaceReport
				}
			}
			return false
		}
	}
}
