package gateway

// What the daemon hands its parts beyond their own: the sources of the
// gauges /metrics reads at scrape time, and the question routing asks of
// the receivers that can say whom they reach before a chunk of documents
// is routed.

import (
	"context"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/metrics"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// documentCounts is the store's document counters as setSources wants them.
func (d *Daemon) documentCounts() (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	err := d.store.View(func(tx store.Tx) error {
		counts, err := tx.Counts()
		for state, byCh := range counts {
			out[string(state)] = byCh
		}
		return err
	})
	return out, err
}

// queueSamples reads every channel's unfinished deliveries from the store's
// pending index. The in-memory queues are only a cache and do not see
// deliveries waiting for a batch cut-off, so the store is the truth here.
// The scan is as long as the backlog, which is what a scrape should see.
// Every configured channel is present, idle ones with zeros, so an alert on
// the age has a series to watch.
func (d *Daemon) queueSamples() (map[string]metrics.QueueSample, error) {
	out := map[string]metrics.QueueSample{}
	for name := range d.lanes {
		out[name] = metrics.QueueSample{Depth: map[store.DeliveryState]int{
			store.DeliveryQueued: 0, store.DeliveryRetrying: 0, store.DeliveryBatched: 0}}
	}
	err := d.store.View(func(tx store.Tx) error {
		return tx.ForEachDelivery(func(dl *store.Delivery) error {
			s, ok := out[dl.Channel]
			if !ok {
				s = metrics.QueueSample{Depth: map[store.DeliveryState]int{}}
			}
			s.Depth[dl.State]++
			if s.Oldest.IsZero() || dl.Created.Before(s.Oldest) {
				s.Oldest = dl.Created
			}
			out[dl.Channel] = s
			return nil
		})
	})
	return out, err
}

// prefetch asks each channel whose transport can say before routing
// which recipients it reaches (outbound.Matcher: Kivra's usermatch) about
// the documents of a chunk, before their routing transaction; the
// registry keeps the answers, where routing finds them.
func (d *Daemon) prefetch(ctx context.Context, tenant string, items []formats.Item) {
	for _, name := range d.lanes.Names() {
		p := d.lanes[name].Get()
		if m, ok := p.Transport.(outbound.Matcher); ok {
			d.registry.Match(ctx, tenant, p.Desc, m, items)
		}
	}
}
