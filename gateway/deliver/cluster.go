package deliver

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/multikanal/multikanal/gateway/store"
)

// Where nodes share the store (Options.Cluster), each node's engine sends
// its own work: what it recorded, what its last run left, and what it
// took over from a node whose lease ran out (Adopt). The cut-offs are the
// leader's alone (Lead), so that a tenant's batch on a channel is cut once
// and two batch files are a second apart, as on one node: the other nodes
// ask for a cut at the end of a file (cutNow), and the leader finds the
// waiting deliveries and mandate orders in the store (refresh).

// cutPoll is how often the leader looks for cut requests, and refreshEvery
// how often it counts what waits for a channel cut by count (MaxCount).
const (
	cutPoll      = 200 * time.Millisecond
	refreshEvery = 5 * time.Second
)

// startNode loads this node's own unfinished work and starts the workers.
func (e *Engine) startNode(ctx context.Context, wg *sync.WaitGroup) error {
	mine, err := e.Cluster.Mine()
	if err != nil {
		return fmt.Errorf("loading this node's unfinished deliveries: %w", err)
	}
	e.load(mine.Deliveries, mine.Batches)
	e.startWorkers(ctx, wg)
	return nil
}

// Adopt queues the deliveries and batches taken over from another node.
func (e *Engine) Adopt(t *store.Takeover) { e.load(t.Deliveries, t.Batches) }

// cutNow cuts the tenant's batches on the chosen channels: at once on one
// node; where nodes share the store, the leader is asked to.
func (e *Engine) cutNow(tenant string, which func(channel string) bool) {
	if e.Cluster == nil {
		e.Cutoff(tenant, which)
		return
	}
	if err := e.Cluster.RequestCut(tenant); err != nil {
		e.Log.Error("asking the leader for a cut-off failed; the deliveries wait for the next one", "tenant", tenant, "err", err)
	}
}

// refresh reads what waits for a cut-off from the store: the deliveries
// of every node, and the batch sources' work. Only the leader cuts, so
// what it reads is what no cut took yet.
func (e *Engine) refresh() {
	if e.Cluster == nil {
		return
	}
	fresh := map[string]map[string][]string{}
	err := e.Cluster.ForEachUnbatched(func(dl *store.Delivery) error {
		if fresh[dl.Tenant] == nil {
			fresh[dl.Tenant] = map[string][]string{}
		}
		fresh[dl.Tenant][dl.Channel] = append(fresh[dl.Tenant][dl.Channel], dl.ID)
		return nil
	})
	waiting := map[string]map[string]bool{}
	for kind, src := range e.sources {
		if err != nil {
			break
		}
		err = e.Store.View(func(tx store.Tx) (err error) {
			waiting[kind], err = src.Waiting(tx)
			return err
		})
	}
	if err != nil {
		e.Log.Error("reading what waits for a cut-off failed; read again at the next turn", "err", err)
		return
	}
	e.mu.Lock()
	e.unbatched = fresh
	for kind, tenants := range waiting {
		e.waiting[kind] = tenants
	}
	e.mu.Unlock()
}

// loadLastCuts reads when each tenant's last batch on each channel was
// cut, so that the next is a second later whichever node cut the last.
func (e *Engine) loadLastCuts() error {
	last := map[string]time.Time{}
	err := e.Store.View(func(tx store.Tx) error {
		return tx.ForEachBatch(func(b *store.Batch) error {
			if k := b.Tenant + "\x00" + b.Channel; b.Created.After(last[k]) {
				last[k] = b.Created
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	for k, t := range last {
		if t.After(e.lastCut[k]) {
			e.lastCut[k] = t
		}
	}
	e.mu.Unlock()
	return nil
}

// Lead cuts every tenant's batches while this node leads the cluster
// (until ctx ends): what waited when it became the leader, what the
// nodes ask for at the end of their files, what a count fills, and the
// scheduled cut-offs.
func (e *Engine) Lead(ctx context.Context) {
	if err := e.loadLastCuts(); err != nil {
		e.Log.Error("reading the last batches failed; cutting waits for the next leader's turn", "err", err)
		return
	}
	endOfFile := func(ch string) bool { return e.cutoffRule(ch).EndOfFile }
	e.refresh()
	for tenant := range e.unbatchedTenants() {
		e.Cutoff(tenant, endOfFile)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { e.scheduledCutoffs(ctx) })
	tick := time.NewTicker(cutPoll)
	defer tick.Stop()
	refreshed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		tenants, err := e.Cluster.TakeCutRequests()
		if err != nil {
			e.Log.Error("reading the cut requests failed", "err", err)
			continue
		}
		full := time.Since(refreshed) > refreshEvery
		if len(tenants) == 0 && !full {
			continue
		}
		e.refresh()
		refreshed = time.Now()
		for _, tenant := range tenants {
			e.Cutoff(tenant, endOfFile)
		}
		for tenant, channels := range e.fullChannels() {
			e.Cutoff(tenant, func(ch string) bool { return channels[ch] })
		}
	}
}

// fullChannels are the tenants' channels whose waiting deliveries reach
// the channel's MaxCount.
func (e *Engine) fullChannels() map[string]map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]map[string]bool{}
	for tenant, byCh := range e.unbatched {
		for ch, ids := range byCh {
			if max := e.cutoffRule(ch).MaxCount; max > 0 && len(ids) >= max {
				if out[tenant] == nil {
					out[tenant] = map[string]bool{}
				}
				out[tenant][ch] = true
			}
		}
	}
	return out
}
