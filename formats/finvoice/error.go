package finvoice

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every *Error: the document, batch or file breaks
// a rule, so sending (or reading) it again unchanged cannot succeed.
var ErrInvalid = errors.New("invalid Finvoice data")

// Rule names the check that failed, so a caller can branch on it and a
// biller can look it up in docs/channels/finvoice.md.
type Rule string

// The rules Check, WriteBatch and Read apply.
const (
	RuleBatch     Rule = "FV-BATCH"     // the batch itself: intermediator, time, items, unique message ids
	RuleAddress   Rule = "FV-ADDRESS"   // an e-invoice address or intermediator missing or malformed
	RuleNumber    Rule = "FV-NUMBER"    // invoice number missing or longer than Finvoice's 20 characters
	RuleDate      Rule = "FV-DATE"      // issue date or due date missing, or due before issue
	RuleCurrency  Rule = "FV-CURRENCY"  // not EUR: EpiDetails is a euro credit transfer
	RuleParty     Rule = "FV-PARTY"     // seller or buyer without the name or address parts the schema requires
	RuleLines     Rule = "FV-LINES"     // no invoice row, or a row the schema cannot hold
	RulePayment   Rule = "FV-PAYMENT"   // no IBAN, a bad IBAN or BIC, or a way to pay Finvoice cannot state
	RuleReference Rule = "FV-REFERENCE" // payment reference missing or not a valid Finnish or RF reference
	RuleText      Rule = "FV-TEXT"      // a text too long for its element, or a character ISO-8859-15 lacks
	RuleFile      Rule = "FV-FILE"      // a file Read cannot take apart
)

// Error is one broken rule, about one message of a batch or file (Item from
// 1) or about the whole (Item 0).
type Error struct {
	Item    int    // position in the batch or file, from 1; 0 for the whole
	Invoice string // the document's label ("invoice 2024-17"), when known
	Rule    Rule
	Msg     string
}

func (e *Error) Error() string {
	switch {
	case e.Invoice != "" && e.Item > 0:
		return fmt.Sprintf("Finvoice %s (message %d): %s: %s", e.Invoice, e.Item, e.Rule, e.Msg)
	case e.Invoice != "":
		return fmt.Sprintf("Finvoice %s: %s: %s", e.Invoice, e.Rule, e.Msg)
	case e.Item > 0:
		return fmt.Sprintf("Finvoice message %d: %s: %s", e.Item, e.Rule, e.Msg)
	}
	return fmt.Sprintf("Finvoice: %s: %s", e.Rule, e.Msg)
}

// Unwrap lets errors.Is(err, ErrInvalid) hold for every *Error.
func (e *Error) Unwrap() error { return ErrInvalid }

func fail(r Rule, format string, a ...any) *Error {
	return &Error{Rule: r, Msg: fmt.Sprintf(format, a...)}
}
