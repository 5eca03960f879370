// Package errkind is the gateway's one vocabulary of what went wrong, so
// that a caller branches on meaning, not on text: not found, invalid,
// conflict, unavailable, internal. The parts of the daemon mark their
// errors with a kind where a caller branches; the HTTP API maps the kinds
// to status codes in one place (httpapi's statusOf). An error nobody
// marked is internal.
//
//	return errkind.New(errkind.Conflict, "document %s is %s; only dead documents are acknowledged", id, state)
//	return fmt.Errorf("%w: no tenant %q", errkind.NotFound, t)
//	if errors.Is(err, errkind.NotFound) { ... }
//	code := statusOf(errkind.Of(err))
//
// It is not a replacement for wrapping: errors keep their %w chains and
// messages that say what to do next; the kind only classifies them.
package errkind

import (
	"errors"
	"fmt"
)

// Kind classifies an error. A Kind is itself an error, so errors.Is(err,
// errkind.NotFound) finds it anywhere in err's chain.
type Kind int

// The kinds. Internal is the zero value: what nobody classified.
const (
	// Internal: the gateway failed (a store it cannot read, a bug); the
	// caller can do nothing about it but report it.
	Internal Kind = iota
	// NotFound: what the caller names does not exist (a document, a
	// tenant, a batch).
	NotFound
	// Invalid: the caller's input is wrong (a bad key, a missing reason,
	// a malformed order); sending it again unchanged fails again.
	Invalid
	// Conflict: the input is well formed but the state does not allow it
	// now (only a dead document can be acknowledged).
	Conflict
	// Unavailable: the gateway cannot do it at the moment (a backup is
	// being made, the disk is too full to compact); try again later.
	Unavailable
)

var names = [...]string{Internal: "internal", NotFound: "not found", Invalid: "invalid", Conflict: "conflict", Unavailable: "unavailable"}

func (k Kind) Error() string {
	if k < 0 || int(k) >= len(names) {
		return fmt.Sprintf("kind %d", int(k))
	}
	return names[k]
}

// String names the kind.
func (k Kind) String() string { return k.Error() }

// New is an error of kind k with the message format makes; %w in format
// wraps as fmt.Errorf does.
func New(k Kind, format string, args ...any) error {
	return &kindError{kind: k, err: fmt.Errorf(format, args...)}
}

// Wrap marks err with kind k, keeping its message and its chain; nil stays
// nil.
func Wrap(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: k, err: err}
}

// Of is the kind of err: the first kind in its chain, Internal when there
// is none, and Internal for nil too (callers ask only about errors).
func Of(err error) Kind {
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	return Internal
}

// kindError is an error marked with a kind.
type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// Is makes errors.Is(err, kind) true for the mark.
func (e *kindError) Is(target error) bool { k, ok := target.(Kind); return ok && k == e.kind }

// As gives errors.As(err, &kind) the mark, before any kind further down
// the chain: the outermost mark is what the error means to its caller.
func (e *kindError) As(target any) bool {
	if k, ok := target.(*Kind); ok {
		*k = e.kind
		return true
	}
	return false
}
