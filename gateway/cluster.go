package gateway

// Several nodes on one PostgreSQL (docs/scale-out.md). Every node runs
// every part: the inboxes and SFTP server, the readers, the delivery
// workers, the HTTP listeners. What they share is the store: each node
// sends its own work, takes over the work of a node whose lease ran out,
// and writes every tenant's receipts into its own receipts folders, told
// by the others which files changed; the leader alone cuts the batches
// and runs the schedules: retention, reminders and the webhooks' posts.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/bolt"
	"github.com/multikanal/multikanal/gateway/store/postgres"
	"github.com/multikanal/multikanal/internal/durable"
)

// errFenced ends Run when another node took this node's work over: the
// service manager starts it again as a new incarnation.
var errFenced = errors.New("another node took this node's work over (its lease ran out); stopped, so that nothing is sent twice: start it again")

// node is the daemon's part in a cluster.
type node struct {
	c        store.Cluster
	lease    time.Duration
	once     sync.Once
	fenced   chan struct{}
	receipts *sharedReceipts
}

// openStore opens the configured store: bbolt in the data directory, or
// the PostgreSQL the nodes share.
func (d *Daemon) openStore() (store.Store, error) {
	c := d.cfg.Store
	if !c.Postgres() {
		return bolt.Open(filepath.Join(d.dataDir, "state.db"))
	}
	dsn, err := c.DSN()
	if err != nil {
		return nil, err
	}
	n := &node{lease: time.Duration(c.Lease), fenced: make(chan struct{})}
	st, err := postgres.Open(postgres.Options{DSN: dsn, Node: c.Node, Lease: n.lease, Migrate: c.Migrate, Log: d.log.With("component", "store"),
		OnFenced: func() { n.once.Do(func() { close(n.fenced) }) }})
	if err != nil {
		return nil, err
	}
	n.c = st
	d.node = n
	return st, nil
}

// receiptToucher is what the parts ask of the receipt writer.
type receiptToucher interface {
	Touch(fileID string)
	Path(f *store.File) string
}

// shared returns what the parts need where nodes share the store: the
// receipt writer that tells the other nodes, the payloads and the
// cluster; on one node, the writer itself and nils.
func (d *Daemon) shared(st store.Store) (receiptToucher, store.Payloads, store.Cluster) {
	if d.node == nil {
		return d.receipts, nil, nil
	}
	d.node.receipts = &sharedReceipts{Writer: d.receipts, wake: make(chan struct{}, 1), ids: map[string]bool{}}
	payloads, _ := st.(store.Payloads)
	return d.node.receipts, payloads, d.node.c
}

// fenced is closed when this node was taken over; never on one node.
func (d *Daemon) fenced() <-chan struct{} {
	if d.node == nil {
		return nil
	}
	return d.node.fenced
}

// resume resumes what the last run left: on one node, every open file;
// on a cluster, this node's own, while every open file's receipt is
// written (this node serves every tenant's receipts).
func (d *Daemon) resume() error {
	if d.node == nil {
		return d.intake.Resume()
	}
	mine, err := d.node.c.Mine()
	if err != nil {
		return err
	}
	d.catchUpReceipts()
	d.intake.ResumeFiles(mine.Files)
	return nil
}

// receiptsMark is the file in the data directory that says until when
// this node's receipts folders were up to date: written while it runs,
// read at its next start.
const receiptsMark = "receipts.synced"

// markEvery is how often the mark is written; a start catches up on what
// became final since the mark less markMargin.
const (
	markEvery  = 30 * time.Second
	markMargin = 2 * time.Minute
)

// catchUpReceipts marks the receipts this node's folders may lack: every
// open file's, and every file's that became final since the node last ran
// (all of them on a node's first start). While it runs, the other nodes'
// notices keep them up to date.
func (d *Daemon) catchUpReceipts() {
	var since time.Time
	if b, err := os.ReadFile(filepath.Join(d.dataDir, receiptsMark)); err == nil {
		since, _ = time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	}
	since = since.Add(-markMargin)
	n := 0
	err := d.store.View(func(tx store.Tx) error {
		return tx.ForEachFile(func(f *store.File) error {
			if !f.Final || f.ReceiptRemoved.IsZero() && f.FinalAt.After(since) {
				d.receipts.Touch(f.ID)
				n++
			}
			return nil
		})
	})
	if err != nil {
		d.log.Error("reading the files whose receipts changed while this node was down failed; they are written at their next change", "err", err)
		return
	}
	d.log.Info("receipts to catch up on", "files", n, "since", since)
}

// closeCheck is how often a node looks for files that became final.
const closeCheck = 2 * time.Second

// closedFiles rewrites the receipt of every file that became final since
// the last look, whichever node finished it: a notice can be lost (a
// listening connection that dropped between two looks of the listener,
// a notice sent by a node that died right after its commit), and a
// receipt that stays "not final" on one node while the others say final
// is the one thing a tenant must never see. The open files are an index,
// so a look reads only them.
func (d *Daemon) closedFiles(ctx context.Context) {
	t := time.NewTicker(closeCheck)
	defer t.Stop()
	var before map[string]bool
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		open := map[string]bool{}
		err := d.store.View(func(tx store.Tx) error {
			return tx.ForEachOpenFile(func(f *store.File) error { open[f.ID] = true; return nil })
		})
		if err != nil {
			continue
		}
		for id := range before {
			if !open[id] {
				d.receipts.Touch(id)
			}
		}
		before = open
	}
}

// markReceipts writes the mark every markEvery while the node runs (the
// first after a turn, when the catch-up at start is written).
func (d *Daemon) markReceipts(ctx context.Context) {
	t := time.NewTicker(markEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now().UTC().Format(time.RFC3339Nano)
		if err := durable.WriteFile(filepath.Join(d.dataDir, receiptsMark), []byte(now+"\n"), 0o640); err != nil {
			d.log.Warn("writing the receipts mark failed", "err", err)
		}
	}
}

// startNode starts the daemon's part in the cluster: taking over the work
// of nodes whose lease ran out, leading when it is its turn, and keeping
// every receipt up to date.
func (d *Daemon) startNode(ctx context.Context, wg *sync.WaitGroup) {
	n := d.node
	if n == nil {
		return
	}
	wg.Go(func() { d.takeOvers(ctx) })
	wg.Go(func() { d.markReceipts(ctx) })
	wg.Go(func() { d.closedFiles(ctx) })
	wg.Go(func() {
		n.c.Lead(ctx, func(lctx context.Context) {
			var lead sync.WaitGroup
			lead.Go(func() { d.engine.Lead(lctx) })
			lead.Go(func() { d.upkeep.Run(lctx) })
			// The reminders' timer and the webhooks run here alone, so a
			// reminder the schedule decides is made once and an event is
			// posted by one node (docs/scale-out.md#the-leader).
			lead.Go(func() { d.dunning.Run(lctx) })
			lead.Go(func() { d.hooks.Run(lctx) })
			lead.Wait()
		})
	})
	wg.Go(func() {
		n.c.Listen(ctx, func(ids []string) {
			if ids == nil {
				d.catchUpReceipts()
			}
			for _, id := range ids {
				d.receipts.Touch(id)
			}
		})
	})
	wg.Go(func() { n.receipts.notify(ctx, n.c, d.log) })
}

// takeOvers looks for nodes whose lease ran out every third of a lease,
// and queues their work here.
func (d *Daemon) takeOvers(ctx context.Context) {
	t := time.NewTicker(d.node.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			got, err := d.node.c.TakeOver()
			if err != nil {
				d.log.Error("taking over a node's work failed; tried again", "err", err)
			}
			if got == nil {
				break
			}
			d.intake.ResumeFiles(got.Files)
			d.engine.Adopt(got)
			for _, tenant := range orphanedCuts(got) {
				d.engine.CutoffEndOfFile(tenant)
			}
		}
	}
}

// orphanedCuts are the tenants whose batched deliveries a dead node left
// waiting for the cut it would have asked for at the end of their file:
// it died after recording the file and before asking, and no other file
// may come to ask (on one node, the leader's turn at start cuts them).
// A tenant with a file still to be read is cut too: that file may end
// without asking (a mandate file applied, a file rejected), and then the
// letters waited for ever (TestClusterSurvivesSIGKILL, 28 of them, with
// the mandate advice among the dead node's files). Should the file ask
// at its end, its tenant gets a second batch: a rare crash's cost.
func orphanedCuts(t *store.Takeover) []string {
	var out []string
	for _, dl := range t.Deliveries {
		if dl.Batched && dl.BatchID == "" && dl.State == store.DeliveryQueued && !slices.Contains(out, dl.Tenant) {
			out = append(out, dl.Tenant)
		}
	}
	slices.Sort(out)
	return out
}

// sharedReceipts is the receipt writer of a node: every file it touches
// is also told to the other nodes, a few times a second.
type sharedReceipts struct {
	*receipts.Writer
	mu   sync.Mutex
	ids  map[string]bool
	wake chan struct{}
}

func (r *sharedReceipts) Touch(fileID string) {
	r.Writer.Touch(fileID)
	r.mu.Lock()
	r.ids[fileID] = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// notifyPace gathers the touches of this long into one notice.
const notifyPace = 50 * time.Millisecond

func (r *sharedReceipts) notify(ctx context.Context, c store.Cluster, log interface {
	Warn(msg string, args ...any)
}) {
	for {
		select {
		case <-ctx.Done():
			r.send(c, log) // what the last turn of the workers touched
			return
		case <-r.wake:
		}
		select {
		case <-ctx.Done():
		case <-time.After(notifyPace):
		}
		r.send(c, log)
	}
}

func (r *sharedReceipts) send(c store.Cluster, log interface{ Warn(string, ...any) }) {
	r.mu.Lock()
	ids := make([]string, 0, len(r.ids))
	for id := range r.ids {
		ids = append(ids, id)
	}
	clear(r.ids)
	r.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	if err := c.Notify(ids); err != nil {
		// The other nodes write these receipts at their next change, or
		// after they notice a lost notice.
		log.Warn("telling the other nodes which receipts changed failed", "files", len(ids), "err", err)
	}
}

// Migrate brings the schema of the PostgreSQL the configuration names up
// to date (multikanal migrate): it returns what it applied, as lines, and
// the version reached.
func Migrate(ctx context.Context, cfg *config.Config) ([]string, int, error) {
	if !cfg.Store.Postgres() {
		return nil, 0, fmt.Errorf("%s: [store] driver is %q; only driver = \"postgres\" has a schema to migrate (bbolt needs none)", cfg.Source, cfg.Store.Driver)
	}
	dsn, err := cfg.Store.DSN()
	if err != nil {
		return nil, 0, err
	}
	done, v, err := postgres.MigrateDSN(ctx, dsn)
	var lines []string
	for _, m := range done {
		lines = append(lines, fmt.Sprintf("%s (%s)", m.Name, m.Took.Round(time.Millisecond)))
	}
	return lines, v, err
}
