package efaktura

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every *Error: the batch or report breaks a rule,
// so sending it again unchanged cannot succeed.
var ErrInvalid = errors.New("invalid e-faktura data")

// Rule names the check that failed, so a caller can branch on it and a
// biller can look it up in docs/channels/efaktura.md.
type Rule string

// The rules WriteBatch and ParseReport check.
const (
	RuleBatch     Rule = "EF-BATCH"     // the batch itself: id, time, sender bankgiro, at least one invoice
	RuleRecipient Rule = "EF-RECIPIENT" // the consumer's registration (personnummer or customer number)
	RuleNumber    Rule = "EF-NUMBER"    // invoice number (Svefaktura ID) missing
	RuleDate      Rule = "EF-DATE"      // issue date or due date missing or before the issue date
	RuleCurrency  Rule = "EF-CURRENCY"  // not SEK: internet banks pay Swedish kronor only
	RuleParty     Rule = "EF-PARTY"     // seller or buyer without the name the schema requires
	RuleLines     Rule = "EF-LINES"     // no invoice line
	RulePayment   Rule = "EF-PAYMENT"   // no bankgiro / plusgiro, bad OCR, or an amount the bank cannot pay
	RuleCredit    Rule = "EF-CREDIT"    // credit note without the invoice it credits
	RuleTotals    Rule = "EF-TOTALS"    // totals Svefaktura 1.0 cannot express
	RuleReport    Rule = "EF-REPORT"    // a report that is not the documented layout
)

// Error is one broken rule, about one invoice of a batch (Item from 1) or
// about the batch or report as a whole (Item 0).
type Error struct {
	Item    int    // position in the batch or report, from 1; 0 for the whole
	Invoice string // the document's label ("invoice 2024-17"), when known
	Rule    Rule
	Msg     string
}

func (e *Error) Error() string {
	switch {
	case e.Invoice != "":
		return fmt.Sprintf("e-faktura %s (item %d): %s: %s", e.Invoice, e.Item, e.Rule, e.Msg)
	case e.Item > 0:
		return fmt.Sprintf("e-faktura item %d: %s: %s", e.Item, e.Rule, e.Msg)
	}
	return fmt.Sprintf("e-faktura: %s: %s", e.Rule, e.Msg)
}

// Unwrap lets errors.Is(err, ErrInvalid) hold for every *Error.
func (e *Error) Unwrap() error { return ErrInvalid }
