package avtalegiro

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every *Error, so callers can tell a broken file
// (permanent: ask the sender for a new one) from an I/O failure.
var ErrInvalid = errors.New("invalid AvtaleGiro file")

// Rule names the check a file or a claim failed.
type Rule string

// The rules Parse and the writer check.
const (
	RuleKind     Rule = "AVG-KIND"     // no file of the OCR giro family (NY records), or one of a service we do not read
	RuleLength   Rule = "AVG-LENGTH"   // a record that is not 80 characters
	RuleEncoding Rule = "AVG-ENCODING" // not ISO-8859-1: UTF-8, a byte-order mark
	RuleRecord   Rule = "AVG-RECORD"   // a record type, service or transaction type this place does not allow
	RuleOrder    Rule = "AVG-ORDER"    // records in an order the specification does not allow
	RuleField    Rule = "AVG-FIELD"    // a field that is not what its position requires
	RuleCount    Rule = "AVG-COUNT"    // an end record's count differs from the records read
	RuleSum      Rule = "AVG-SUM"      // an end record's sum differs from the amounts read
	RuleSize     Rule = "AVG-SIZE"     // larger than any file we accept
	RuleWrite    Rule = "AVG-WRITE"    // a claim or header that cannot be written as the specification requires
)

// Error is one broken rule at one place in a file.
type Error struct {
	Line int  // physical line from 1 in the file read; 0 when not about one line
	Item int  // writer: the claim from 1 (within its assignment); 0 for the file's own fields
	Rule Rule // which check failed
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("avtalegiro: line %d: %s: %s", e.Line, e.Rule, e.Msg)
	case e.Item > 0:
		return fmt.Sprintf("avtalegiro: claim %d: %s: %s", e.Item, e.Rule, e.Msg)
	}
	return fmt.Sprintf("avtalegiro: %s: %s", e.Rule, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func errAt(line int, rule Rule, format string, args ...any) *Error {
	return &Error{Line: line, Rule: rule, Msg: fmt.Sprintf(format, args...)}
}
