package store

import "context"

// Cluster is what a store shared by several nodes adds (store/postgres):
// each node holds a lease on its work, renewed while it lives; the work of
// a node whose lease ran out is taken over by another; one node at a time
// is the leader, which cuts the batches and runs the schedules; and the
// nodes tell one another which receipts changed, since each serves every
// tenant's receipts.
//
// Work belongs to a node this way: an input file to the node that claimed
// it (its bytes are on that node's disk until they are in the store's
// Payloads); a delivery or batch not at an end to the node that wrote it
// last, which is the one that holds it in its queue. A delivery sent again
// after a takeover carries its idempotency key, so a receiver recognises
// the repeat of a send the dead node made but could not record.
type Cluster interface {
	// Node is this node's name.
	Node() string
	// Mine is this node's own unfinished work: what its last run left
	// (its name owns it, whichever incarnation wrote it).
	Mine() (*Takeover, error)
	// TakeOver takes the work of one node whose lease ran out, if there is
	// one, and returns it (nil when none ran out): from then on every
	// transaction of that node's old incarnation fails (it is fenced).
	TakeOver() (*Takeover, error)
	// Lead calls fn whenever this node becomes the leader, with a context
	// that ends when it is no longer; it returns when ctx ends.
	Lead(ctx context.Context, fn func(context.Context))
	// RequestCut asks the leader to cut the tenant's batches that are cut
	// at the end of each input file.
	RequestCut(tenant string) error
	// TakeCutRequests returns the tenants whose batches were asked to be
	// cut, and forgets the requests.
	TakeCutRequests() ([]string, error)
	// ForEachUnbatched visits the deliveries that wait for a batch
	// channel's cut-off.
	ForEachUnbatched(fn func(*Delivery) error) error
	// Notify tells every node that these files' receipts changed.
	Notify(fileIDs []string) error
	// Listen calls fn with the files whose receipts another node changed,
	// and with nil when notices may have been missed (a lost connection),
	// until ctx ends.
	Listen(ctx context.Context, fn func(fileIDs []string))
}

// Takeover is the work a node took over from another: files not yet read
// to the end, deliveries and batches not at an end.
type Takeover struct {
	From       string
	Files      []*File
	Deliveries []*Delivery
	Batches    []*Batch
}
