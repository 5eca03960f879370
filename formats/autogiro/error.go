package autogiro

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every *Error, so callers can tell a broken file
// (permanent: ask the sender for a new one) from an I/O failure.
var ErrInvalid = errors.New("invalid AutoGiro file")

// Rule names the check a file failed, so a message can be looked up and a
// caller can branch on it.
type Rule string

// The rules Parse, the writers and the seal functions check.
const (
	RuleKind      Rule = "AG-KIND"     // the file is no AutoGiro file, or one in a layout we do not read
	RuleLength    Rule = "AG-LENGTH"   // a record is longer than 80 characters
	RuleChar      Rule = "AG-CHAR"     // a control character inside a record
	RuleEncoding  Rule = "AG-ENCODING" // not ISO-8859-1 with CR LF: UTF-8, a byte-order mark, CR-only line ends
	RuleCode      Rule = "AG-TK"       // a transaction code (TK) this file kind does not have
	RuleOrder     Rule = "AG-ORDER"    // records in an order the manual does not allow
	RuleField     Rule = "AG-FIELD"    // a field that is not what its position requires
	RuleBankgiro  Rule = "AG-BANKGIRO" // a record for another payee bankgiro than its section's
	RuleCount     Rule = "AG-COUNT"    // a closing or deposit record's count differs from the records read
	RuleSum       Rule = "AG-SUM"      // a closing or deposit record's amount differs from the records read
	RuleEmpty     Rule = "AG-EMPTY"    // no records where the manual requires some
	RuleSize      Rule = "AG-SIZE"     // the file is larger than any AutoGiro file we accept
	RuleSeal      Rule = "AG-SEAL"     // a seal that is missing, malformed or wrong
	RuleKey       Rule = "AG-KEY"      // a seal key that is not 32 hexadecimal digits, or not the one used
	RuleWriteData Rule = "AG-WRITE"    // an order that cannot be written as the manual requires
)

// Error is one broken rule at one place in a file.
type Error struct {
	Line int  // physical line from 1 in the file read; 0 when not about one line
	Item int  // writers: the order (payment, request) from 1; 0 for the file's own fields
	Rule Rule // which check failed
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("autogiro: line %d: %s: %s", e.Line, e.Rule, e.Msg)
	case e.Item > 0:
		return fmt.Sprintf("autogiro: order %d: %s: %s", e.Item, e.Rule, e.Msg)
	}
	return fmt.Sprintf("autogiro: %s: %s", e.Rule, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func errAt(line int, rule Rule, format string, args ...any) *Error {
	return &Error{Line: line, Rule: rule, Msg: fmt.Sprintf(format, args...)}
}
