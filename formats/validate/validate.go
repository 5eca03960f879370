// Package validate holds every rule a document is checked against, in one
// place, each named by the rule id a biller's accountant can look up: the
// EN 16931 business rules (BR-...), the Peppol BIS Billing 3.0 rules
// (PEPPOL-EN16931-..., SE-R-...) and Multikanal's own delivery rules (MK-...).
//
// Document says whether a document may be delivered at all; Peppol says
// whether it may leave on the Peppol channel. A document failing Peppol is
// not rejected: routing goes on to the next channel with the rule as reason.
//
// Every message names the document (formats.Document.Label) and the value
// that breaks the rule, and says what the value should have been. The
// package does not parse, render or decide routes.
package validate

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Options are the per-tenant settings Document checks against.
type Options struct {
	// Now decides the century of a 10-digit personnummer; zero means the
	// current time.
	Now time.Time
	// Biller, when set, is the seller the tenant sends as and the accounts
	// it is paid to: a document from another seller (MK-SELLER) or payable
	// to another account (MK-ACCOUNT) is rejected.
	Biller *Biller
	// OCRLengthDigit requires OCR references to carry Bankgirot's length
	// digit (second to last digit = length mod 10).
	OCRLengthDigit bool
}

// Document checks what every document must satisfy before it is delivered
// on any channel: the EN 16931 rules delivery depends on and the Swedish
// payment and identity rules. It returns nil when nothing is wrong; a
// document with any problem of severity error must not be delivered.
func Document(doc *formats.Document, opt Options) formats.Problems {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	r := &report{doc: doc}
	if !doc.Kind.Billing() {
		r.other(opt)
		return r.ps
	}
	r.presence()
	r.lines()
	r.totals()
	r.vat()
	r.swedish(opt)
	r.norwegian()
	r.biller(opt.Biller)
	return r.ps
}

// report collects the problems of one document.
type report struct {
	doc *formats.Document
	ps  formats.Problems
}

func (r *report) add(sev formats.Severity, rule, format string, args ...any) {
	r.ps = append(r.ps, formats.Problem{
		Rule:     rule,
		Severity: sev,
		Message:  r.doc.Label() + ": " + fmt.Sprintf(format, args...),
	})
}

func (r *report) errorf(rule, format string, args ...any) {
	r.add(formats.SeverityError, rule, format, args...)
}

func (r *report) warnf(rule, format string, args ...any) {
	r.add(formats.SeverityWarning, rule, format, args...)
}

// lineName names a line in messages by its id, or by its position when it
// has none.
func lineName(i int, l formats.Line) string {
	if strings.TrimSpace(l.ID) != "" {
		return "line " + l.ID
	}
	return fmt.Sprintf("line %d (no id)", i+1)
}

// orZero returns an optional amount, zero when absent.
func orZero(a *formats.Amount) formats.Amount {
	if a == nil {
		return 0
	}
	return *a
}

// optString shows an optional amount in a message: "absent" or its value.
func optString(a *formats.Amount) string {
	if a == nil {
		return "absent"
	}
	return a.String()
}

// sumCharges adds up allowances (charge=false) or charges (charge=true).
func sumCharges(acs []formats.AllowanceCharge, charge bool) formats.Amount {
	var s formats.Amount
	for _, ac := range acs {
		if ac.Charge == charge {
			s += ac.Amount
		}
	}
	return s
}

func abs(a formats.Amount) formats.Amount {
	if a < 0 {
		return -a
	}
	return a
}

// rate shows a VAT rate in a message: "25 %" or "no rate".
func rate(d formats.Decimal) string {
	if d == "" {
		return "no rate"
	}
	return string(d) + " %"
}

// ratText shows an exact value with up to 6 decimals, trailing zeros cut.
func ratText(r *big.Rat) string {
	s := r.FloatString(6)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
