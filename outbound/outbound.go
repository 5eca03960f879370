// Package outbound defines what a delivery channel is: how it decides whether
// a recipient can be reached on it, how it renders a document (or a batch of
// them) into the bytes that leave, and how a transport sends those bytes,
// with every failure classified as temporary or permanent.
//
// Each channel lives in its own subpackage and describes itself there with a
// Descriptor; outbound/channels registers them. Each transport (spool,
// smtp, sftp, http APIs) is a subpackage too, or lives in the one channel
// that uses it. The gateway composes a channel with the transport its
// configuration names. This package does no I/O and knows nothing of the
// store.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Registry answers what the recipient registry knows about a recipient on one
// channel. The gateway implements it over its store; a channel asks it for
// registrations that the invoice itself does not carry (e-faktura, Kivra).
type Registry interface {
	// Lookup returns the address registered for the document's recipient on
	// the channel and where that registration came from, or ok=false.
	Lookup(doc *formats.Document, channel string) (address, source string, ok bool)
}

// NoRegistry is a Registry that knows nobody.
type NoRegistry struct{}

// Lookup always answers that nothing is registered.
func (NoRegistry) Lookup(*formats.Document, string) (string, string, bool) { return "", "", false }

// Eligibility is a channel's answer for one document: can it be delivered
// here, to which address, and why (the reason is recorded and shown to the
// biller either way).
type Eligibility struct {
	OK      bool
	Address string // e-mail address, E.164 number, participant id, postal block...
	Reason  string
}

// Channel is one way out. A channel is either per document (it implements
// DocumentRenderer) or batched (BatchRenderer): batched channels collect
// deliveries until a cut-off and send one file for all of them.
type Channel interface {
	Name() string
	Eligible(doc *formats.Document, reg Registry) Eligibility
}

// DocumentRenderer renders one document for one recipient.
type DocumentRenderer interface {
	Channel
	// Render returns what will be sent. key is the delivery's idempotency
	// key: stable across retries, so a receiver can recognise a repeat.
	Render(doc *formats.Document, to, key string) (Message, error)
}

// Biller is the tenant a batch is sent for, as batch files need it. A
// channel's own agreement with its receiver (AutoGiro's customer number
// and seal key, say) is not here: the channel gets the tenants'
// agreements from its descriptor's Agreement (Env.Agreements), by ID.
type Biller struct {
	ID       string
	Name     string
	Orgnr    string
	Bankgiro string
	Plusgiro string
}

// BatchItem is one document in a batch with the address routing chose.
type BatchItem struct {
	Key string
	To  string
	Doc *formats.Document
}

// Batch is the deliveries one cut-off collected for one biller and channel.
type Batch struct {
	Key     string    // names the batch; stable across retries
	Created time.Time // when the batch was cut; stable across retries
	Biller  Biller
	Items   []BatchItem
}

// BatchRenderer renders the documents collected up to a cut-off as one file.
type BatchRenderer interface {
	Channel
	// RenderBatch returns one message for the whole batch.
	RenderBatch(b Batch) (Message, error)
}

// Message is what a transport sends: a file for file transports (spool,
// SFTP), a request body or an e-mail for the others.
type Message struct {
	Key         string // idempotency key (delivery or batch id)
	Name        string // file name, unique per key: "F0000001-0000001.xml"
	ContentType string
	To          string // channel address; empty for batch files
	Body        []byte
	// Release, when set, hands Body's memory back to the channel that
	// rendered it, for a later message: an e-mail with its PDF is ~80 KB,
	// and allocating (and zeroing) one per message was a tenth of the
	// collector's work. The engine calls it once the body is sent and
	// hashed, and only on a transport that keeps no reference to it
	// (BodyFinisher); otherwise the body is left to the collector.
	Release func()
}

// BodyFinisher is a transport that is done with a message's body when its
// Send (or SendUnflushed) returns: it wrote the bytes out and keeps no
// reference, so the body may be reused (Message.Release). net/http, for
// one, may still read a request's body after the response came, so the
// HTTP transports are not.
type BodyFinisher interface {
	FinishesBody()
}

// Sent is a transport's proof of delivery: where the message went.
type Sent struct {
	Ref string // a path, a remote message id, a file name on the server
	// SHA256 is the hash of the message's body, set by the engine (not
	// the transport): the proof of what left, kept after the body goes.
	SHA256 string
}

// Transport moves a Message to its receiver.
type Transport interface {
	Send(ctx context.Context, m Message) (Sent, error)
}

// Flusher is a transport whose sends can be made durable together, as files
// on a local disk can: SendUnflushed puts the message where the receiver
// sees it whole, and Flush makes durable every message whose SendUnflushed
// returned before Flush was called. The engine sends a group of messages
// this way, flushes once, then records the group: one sync for the group
// instead of one per message. Until its Flush has succeeded a message
// counts as not sent; sent again, it replaces itself (same key, same name).
type Flusher interface {
	Transport
	SendUnflushed(ctx context.Context, m Message) (Sent, error)
	Flush() error
}

// Class says what a failed send means for the delivery.
type Class int

// Failure classes. A temporary failure is retried with backoff; a permanent
// one makes routing fall back to the next eligible channel.
const (
	ClassPermanent Class = iota
	ClassTemporary
)

func (c Class) String() string {
	if c == ClassTemporary {
		return "temporary"
	}
	return "permanent"
}

// Error is a classified send failure.
type Error struct {
	Class      Class
	RetryAfter time.Duration // a receiver's own hint (Retry-After), or 0
	Err        error
}

func (e *Error) Error() string { return e.Class.String() + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Temporary marks err as worth retrying later.
func Temporary(err error) error { return &Error{Class: ClassTemporary, Err: err} }

// Permanent marks err as final for this channel.
func Permanent(err error) error { return &Error{Class: ClassPermanent, Err: err} }

// Temporaryf formats a temporary error.
func Temporaryf(format string, a ...any) error { return Temporary(fmt.Errorf(format, a...)) }

// Permanentf formats a permanent error.
func Permanentf(format string, a ...any) error { return Permanent(fmt.Errorf(format, a...)) }

// ClassOf classifies any error: unclassified errors are temporary, because a
// retry is cheaper than a wrongly abandoned invoice; context cancellation is
// temporary too (the gateway is stopping).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ClassTemporary
}
