package store

import (
	"time"
	"unicode/utf8"

	"github.com/multikanal/multikanal/gateway/errkind"
)

// What retention and erasure need from the store. A document past its
// payload time keeps only its summary (Doc.Summarise): what it was, where
// it went, what was sent (its hash) and when. Everything else it held is
// payload: its parsed body, its event history and its delivery records.
// The indexes (file hashes, invoice numbers, collection references, the
// registry, and whatever other buckets a later version adds) are not
// payload and are never touched by a retention step.

// ErrNotFinal is returned when a document still has work ahead: it is not
// in an end state, its collection is queued, or a delivery is pending.
var ErrNotFinal = errkind.New(errkind.Conflict, "the document is not final")

// Removed counts what a retention step or an erasure removed from the store.
type Removed struct {
	Bodies     int   `json:"bodies"`
	Events     int   `json:"events"`
	Deliveries int   `json:"deliveries"`
	Bytes      int64 `json:"bytes"` // of the values removed
}

// Add adds o to r.
func (r *Removed) Add(o Removed) {
	r.Bodies += o.Bodies
	r.Events += o.Events
	r.Deliveries += o.Deliveries
	r.Bytes += o.Bytes
}

// UpkeepTx is what a transaction offers retention and erasure, and no
// one else: the removals. What removal may touch is the payload; the
// indexes (file hashes, invoice numbers, collection references, the
// registry, and whatever other index a later version adds) are never
// touched by a retention step.
type UpkeepTx interface {
	// RemovePayload deletes a final document's body, event history and
	// delivery records. It does not change d: the caller summarises it
	// (Doc.Summarise) and puts it. A document not final is refused with
	// ErrNotFinal and nothing is removed.
	RemovePayload(d *Doc) (Removed, error)
	// DropFileHash forgets a file's content hash, so the same bytes sent
	// again are taken as new (the file was refused for a reason of the
	// gateway's, not of its content: File.Refused keeps PutFile from
	// indexing it again).
	DropFileHash(f *File) error
	// RemoveRegistration deletes a registry entry with its index entries.
	RemoveRegistration(r *Registration) error
	// RemoveCollectionRefs deletes the collection references of payer
	// (as PutCollectionRef was given it) that name docID.
	RemoveCollectionRefs(tenant, payer, docID string) (int, error)
}

// UpkeepStore is what the store offers retention, erasure and compaction.
type UpkeepStore interface {
	// HashKey is a recipient key's pseudonym: a keyed hash, so a document
	// summary can be found by its recipient's key after its body is gone
	// without holding the key itself. The hash key lives in the store.
	HashKey(k RecipientKey) string
	// Compact copies the store into a new file without its free space and
	// swaps it in, online.
	Compact() (CompactStats, error)
	// FreeBytes is what a compaction would give back to the disk.
	FreeBytes() int64
}

// CompactStats is what one compaction did.
type CompactStats struct {
	BytesBefore int64         `json:"bytes_before"`
	BytesAfter  int64         `json:"bytes_after"`
	Took        time.Duration `json:"took_ns"`
	// WritesPaused is how long the committer ran no write: the longest
	// any Update waited because of the compaction.
	WritesPaused time.Duration `json:"writes_paused_ns"`
}

// ErrNoSpace is returned by Compact when the disk cannot hold the copy:
// unavailable until some disk is freed.
var ErrNoSpace = errkind.New(errkind.Unavailable, "not enough free disk for the compacted copy")

// maxSummaryReason bounds the reason a summary keeps: the whole story of a
// delivery is in the history, which goes with the payload.
const maxSummaryReason = 200

// Summarise reduces the document record to its summary, once its payload is
// removed: who it was to (name, address, route with its addresses) and the
// validation problems go; what it was (number, kind, amount, due date),
// where it ended (state, channel, output reference, hash of what was sent),
// when, the collection and the recipient key pseudonyms stay.
//
// A delivered document's reason only repeats its output reference; other
// reasons (why it was rejected, held or dead) are cut short; an open
// payment with nothing paid goes (the payment state stays open); a payment
// with something paid or collected stays, its reason cut short. Times are
// kept to the second: a summary is kept for years, by the million.
func (d *Doc) Summarise(now time.Time) {
	d.Buyer, d.Address, d.Route, d.Problems, d.Tried = "", "", nil, nil, 0
	d.Reason = cut(d.Reason, maxSummaryReason)
	if d.State == DocDelivered {
		d.Reason = ""
	}
	if c := d.Collection; c != nil && c.State == PaymentOpen && c.Paid == 0 && len(c.Payments) == 0 {
		// Nothing was paid or collected: only the log said why. The
		// payment state reads open without it, as before.
		d.Collection = nil
	} else if c != nil {
		c.Reason, c.At = cut(c.Reason, maxSummaryReason/2), c.At.Truncate(time.Second)
	}
	d.Created, d.Updated = d.Created.Truncate(time.Second), d.Updated.Truncate(time.Second)
	d.Summarised = now.Truncate(time.Second)
}

// Anonymise removes what is left in a summary that could point at a
// person: the key pseudonyms, the payer number and the reason. What stays
// is the invoice as a bookkeeping fact: number, amount, dates, state,
// channel and the hash of what was sent.
func (d *Doc) Anonymise(now time.Time) {
	d.Summarise(now)
	d.Keys, d.Reason, d.Source = nil, "", ""
	if d.Collection != nil {
		d.Collection.Payer, d.Collection.Reason = "", ""
	}
	d.Anonymised = now.Truncate(time.Second)
}

// cut shortens s to at most n bytes on a character boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
