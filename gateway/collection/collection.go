package collection

import (
	"io"
	"log/slog"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
)

// Store is what collection reads and writes, in transactions of its own.
type Store interface {
	View(fn func(store.Tx) error) error
	Update(fn func(store.Tx) error) error
}

// Delivery is what collection asks of the delivery part: to queue the
// deliveries a report made (a fall-back to the next channel), and to cut
// the mandate orders it queued.
type Delivery interface {
	Requeue(dls ...*store.Delivery)
	Waiting(kind, tenant string)
}

// Channels are the gateway's channels: for the fall-back after a failure
// a receiver reports, and to find the channels that take reports.
type Channels interface {
	route.Channels
	// Names are the channels the gateway runs.
	Names() []string
}

// Receipts is told which input files' receipts a change made out of date.
type Receipts interface{ Touch(fileID string) }

// An Applier applies a kind of file that is not invoices, dropped into a
// tenant's inbox: Sniff tells it by its first bytes; Apply applies it whole
// and records the file applied in the same transaction, or applies nothing
// and says why (intake rejects the file with that reason).
type Applier interface {
	Sniff(head []byte) bool
	Apply(rec *store.File, r io.ReaderAt) error
}

// Options are collection's dependencies.
type Options struct {
	Store    Store
	Channels Channels
	// Tenant is a configured tenant's configuration; ok is false for one
	// that is not configured.
	Tenant   func(id string) (config.Tenant, bool)
	Delivery Delivery
	Receipts Receipts
	Log      *slog.Logger
}

// Collection is payment collection and the receivers' reports.
type Collection struct {
	Options
}

// New is collection with its dependencies.
func New(o Options) *Collection { return &Collection{Options: o} }
