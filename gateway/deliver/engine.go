// Package deliver sends what routing decided: one lane per channel (the
// channel with the transport its configuration chose), a queue and workers
// per lane, a scheduler for retries and confirmations, the cut-offs that
// turn a batch channel's waiting deliveries into one batch, and the record
// of every outcome, with the fall-back to the next channel (route.Next)
// after a permanent failure. All its state is in the store; its memory is
// only a cache of what is due, rebuilt from the store at start.
//
// It also carries the operators' actions on a document's delivery (Retry,
// Ack, Resend), and the batches of other work a batch channel sends in
// files of its own (BatchSource: the biller's AutoGiro mandate orders).
//
// It does not decide where a document goes (package route), read input
// (package intake) or write receipts: it tells the receipt writer which
// files changed (Receipts).
package deliver

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/store"
)

// Store is what the delivery part reads and writes: deliveries, batches,
// documents and their bodies, in transactions of its own.
type Store interface {
	View(fn func(store.Tx) error) error
	Update(fn func(store.Tx) error) error
}

// Receipts is told which input files' receipts a change made out of date.
type Receipts interface{ Touch(fileID string) }

// Metrics counts what the delivery part does, after each commit.
type Metrics interface {
	DocumentState(channel string, state store.DocState)
	DeliveryAttempt(channel string)
	// DeliveryError counts a failed send; class is "temporary" or
	// "permanent".
	DeliveryError(channel, class string)
	// EndToEnd is the time from a file's arrival to a document's delivery.
	EndToEnd(channel string, d time.Duration)
}

// Options are the engine's dependencies.
type Options struct {
	Store Store
	Lanes Lanes
	// Config is the configuration in force, read at every use so that a
	// reload applies at once.
	Config func() *config.Config
	// Tenant is a configured tenant's configuration; ok is false for one
	// that is not configured (any more).
	Tenant   func(id string) (config.Tenant, bool)
	Receipts Receipts
	Metrics  Metrics
	// Letters gives each rendering the biller's design, language, message
	// and link (letters.go); nil renders plain.
	Letters Letters
	Log     *slog.Logger
	// Cluster, where nodes share the store, makes the engine one of
	// several: it loads only its own work, and leaves the cut-offs to the
	// leader (cluster.go). nil with one node.
	Cluster store.Cluster
}

// Engine delivers: one runner per channel with its workers, a scheduler for
// retries, and the cut-off that turns a batch channel's waiting deliveries
// into one batch.
type Engine struct {
	Options
	runners map[string]*runner
	sched   *scheduler
	sources map[string]BatchSource // by kind

	mu        sync.Mutex
	unbatched map[string]map[string][]string // tenant -> channel -> delivery ids
	waiting   map[string]map[string]bool     // source kind -> tenants with work for the next cut-off
	// lastCut is the creation time of the latest batch per tenant and
	// channel. Bank file names carry the time to the second (AutoGiro's
	// BFEP.IAGAG.K0nnnnnn.DYYMMDD.THHMMSS), so two batches of one tenant and
	// channel must be at least a second apart, or the second file would
	// overwrite the first at the bank.
	lastCut map[string]time.Time
}

// job is a delivery id, or a batch id for batch channels.
type job struct {
	id      string
	batch   bool
	confirm bool // check that a delivered message was confirmed in time
}

type runner struct {
	l *Lane
	q *jobQueue

	// The channel's rate limit (sends per second, all its workers
	// together): each send takes the next free slot.
	rateMu   sync.Mutex
	nextSlot time.Time
}

// wait blocks until the channel's rate limit allows the next send, or ctx
// ends. It is called just before the transport's Send, after rendering, so
// the limit spaces what the receiver sees. A limit of 0 is no limit; the
// current limit is read at every send, so a reload applies at once.
func (r *runner) wait(ctx context.Context) bool {
	limit := r.l.Get().Config.RateLimit
	if limit <= 0 {
		return true
	}
	gap := time.Duration(float64(time.Second) / limit)
	r.rateMu.Lock()
	now := time.Now()
	slot := r.nextSlot
	if slot.Before(now) {
		slot = now
	}
	r.nextSlot = slot.Add(gap)
	r.rateMu.Unlock()
	select {
	case <-time.After(time.Until(slot)):
		return true
	case <-ctx.Done():
		return false
	}
}

// New prepares the engine over the lanes; Start starts it.
func New(o Options) *Engine {
	e := &Engine{Options: o, runners: map[string]*runner{}, sched: newScheduler(), sources: map[string]BatchSource{},
		unbatched: map[string]map[string][]string{}, waiting: map[string]map[string]bool{}, lastCut: map[string]time.Time{}}
	for name, l := range o.Lanes {
		e.runners[name] = &runner{l: l, q: newJobQueue()}
	}
	return e
}

// AddSource lets the engine cut and send src's batches. Call it before
// Start.
func (e *Engine) AddSource(src BatchSource) {
	e.sources[src.Kind()] = src
	e.waiting[src.Kind()] = map[string]bool{}
}

// Start loads unfinished work from the store and starts the workers. The
// workers stop when ctx ends, each after finishing (and recording) the send
// it is in; wg waits for them.
func (e *Engine) Start(ctx context.Context, wg *sync.WaitGroup) error {
	if e.Cluster != nil {
		return e.startNode(ctx, wg)
	}
	var dls []*store.Delivery
	var batches []*store.Batch
	err := e.Store.View(func(tx store.Tx) error {
		if err := tx.ForEachDelivery(func(dl *store.Delivery) error { dls = append(dls, dl); return nil }); err != nil {
			return err
		}
		return tx.ForEachBatch(func(b *store.Batch) error {
			if k := b.Tenant + "\x00" + b.Channel; b.Created.After(e.lastCut[k]) {
				e.lastCut[k] = b.Created
			}
			if b.State != store.DeliveryDelivered && b.State != store.DeliveryFailed {
				batches = append(batches, b)
			}
			return nil
		})
	})
	for kind, src := range e.sources {
		if err != nil {
			break
		}
		err = e.Store.View(func(tx store.Tx) error {
			tenants, err := src.Waiting(tx)
			e.mu.Lock()
			for t := range tenants {
				e.waiting[kind][t] = true
			}
			e.mu.Unlock()
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("loading unfinished deliveries: %w", err)
	}
	e.load(dls, batches)
	e.startWorkers(ctx, wg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.scheduledCutoffs(ctx)
	}()
	// Deliveries left waiting for an end-of-file cut-off when the daemon
	// stopped; scheduled channels wait for their next time.
	for tenant := range e.unbatchedTenants() {
		e.CutoffEndOfFile(tenant)
	}
	return nil
}

// load hands unfinished deliveries and batches to their queues.
func (e *Engine) load(dls []*store.Delivery, batches []*store.Batch) {
	for _, dl := range dls {
		switch {
		case dl.AwaitsConfirmation():
			e.schedule(job{id: dl.ID, confirm: true}, dl.Channel, dl.Deadline())
		case dl.BatchID == "":
			e.Enqueue(dl)
		}
	}
	for _, b := range batches {
		e.schedule(job{id: b.ID, batch: true}, b.Channel, b.NextAt)
	}
}

// startWorkers starts each lane's workers and the scheduler.
func (e *Engine) startWorkers(ctx context.Context, wg *sync.WaitGroup) {
	for _, r := range e.runners {
		n := e.workers(r)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.work(ctx, r)
			}()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.sched.run(ctx, func(j job, channel string) { e.runners[channel].q.push(j) })
	}()
}

// Enqueue hands a recorded delivery to its channel: a batch channel keeps
// it until the next cut-off, others schedule it.
func (e *Engine) Enqueue(dl *store.Delivery) {
	if dl.Batched && e.Cluster != nil {
		return // the leader finds it in the store at the cut-off
	}
	if dl.Batched {
		e.mu.Lock()
		if e.unbatched[dl.Tenant] == nil {
			e.unbatched[dl.Tenant] = map[string][]string{}
		}
		e.unbatched[dl.Tenant][dl.Channel] = append(e.unbatched[dl.Tenant][dl.Channel], dl.ID)
		waiting := len(e.unbatched[dl.Tenant][dl.Channel])
		e.mu.Unlock()
		if max := e.cutoffRule(dl.Channel).MaxCount; max > 0 && waiting >= max {
			e.Cutoff(dl.Tenant, func(ch string) bool { return ch == dl.Channel })
		}
		return
	}
	e.schedule(job{id: dl.ID}, dl.Channel, dl.NextAt)
}

func (e *Engine) schedule(j job, channel string, at time.Time) {
	r := e.runners[channel]
	if r == nil {
		e.Log.Error("delivery for a channel that is not configured", "channel", channel, "id", j.id)
		return
	}
	if at.IsZero() || !at.After(time.Now()) {
		r.q.push(j)
		return
	}
	e.sched.add(j, channel, at)
}

func (e *Engine) work(ctx context.Context, r *runner) {
	for {
		j, ok := r.q.pop(ctx)
		if !ok {
			return
		}
		if j.confirm {
			e.checkConfirmation(j.id)
			continue
		}
		switch {
		case j.batch:
			e.sendBatch(ctx, r, j.id)
		case r.groups():
			e.sendGroup(ctx, r, append([]string{j.id}, r.q.popPlain(MaxSendGroup-1, e.workers(r))...))
		default:
			e.sendGroup(ctx, r, []string{j.id})
		}
	}
}

// workers is how many workers the channel runs: its own setting, else
// [delivery] workers, else one.
func (e *Engine) workers(r *runner) int {
	n := r.l.Get().Config.Workers
	if n <= 0 {
		n = e.Config().Delivery.Workers
	}
	return max(n, 1)
}

// Queues are the lengths of the channels' in-memory queues (what waits for
// a worker), and how many jobs wait in the scheduler for their time.
func (e *Engine) Queues() (ready map[string]int, scheduled int) {
	ready = map[string]int{}
	for name, r := range e.runners {
		ready[name] = r.q.len()
	}
	return ready, e.sched.len()
}

// logDoc is the logger for lines about one document.
func (e *Engine) logDoc(doc *store.Doc) *slog.Logger {
	return e.Log.With("tenant", doc.Tenant, "file", doc.FileID, "doc", doc.ID, "number", doc.Number)
}
