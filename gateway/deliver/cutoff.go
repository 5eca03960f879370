package deliver

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// A BatchSource is work other than documents that a batch channel sends in
// files of its own, cut and sent like a batch of deliveries: the biller's
// AutoGiro mandate orders (package collection). The engine records its
// batches (store.Batch of the source's Kind), cuts them at the channel's
// cut-offs, sends them on the channel's lane, retries them and records the
// outcome; the source says what waits, what goes in a batch, how its file
// is rendered and what the outcome does to its work.
type BatchSource interface {
	// Kind is the store.Batch.Kind of its batches.
	Kind() string
	// Channel is the lane its files go by.
	Channel() string
	// Waiting returns the tenants with work for the next cut-off; the
	// engine reads it once, at start.
	Waiting(tx store.Tx) (map[string]bool, error)
	// Cut records, in the engine's transaction, the tenant's waiting work
	// as one batch created at created (of its Kind, Channel and Tenant,
	// queued, its work's ids in Deliveries) and marks the work as in it;
	// nil when nothing waits. It may run twice (store.Update).
	Cut(tx store.Tx, tenant string, created time.Time) (*store.Batch, error)
	// Load reads the batch's work in the engine's read transaction and
	// returns how its file is rendered; an error leaves the batch as it
	// is, to be sent after the next start.
	Load(tx store.Tx, b *store.Batch) (RenderFunc, error)
	// Record applies the outcome of a send to the batch's work, in the
	// engine's transaction: b is updated already (its State delivered,
	// retrying with NextAt, or failed; Attempts), name is the file's name
	// and err the send's error. It may run twice.
	Record(tx store.Tx, b *store.Batch, name string, err error) error
}

// RenderFunc renders a batch source's file with the lane's batch renderer,
// for the tenant as the channel needs it; an error is the send's permanent
// failure (the same work renders the same way).
type RenderFunc func(r outbound.BatchRenderer, biller outbound.Biller) (outbound.Message, error)

// Waiting notes that the tenant has work of the source kind for the next
// cut-off, and cuts at once when the source's channel cuts at the end of
// each input (an API call is its own input).
func (e *Engine) Waiting(kind, tenant string) {
	src := e.sources[kind]
	if src == nil {
		e.Log.Error("work for a batch source the engine does not have", "kind", kind, "tenant", tenant)
		return
	}
	e.mu.Lock()
	e.waiting[kind][tenant] = true
	e.mu.Unlock()
	if e.cutoffRule(src.Channel()).EndOfFile {
		e.cutNow(tenant, func(ch string) bool { return ch == src.Channel() })
	}
}

func (e *Engine) unbatchedTenants() map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]bool{}
	for t := range e.unbatched {
		out[t] = true
	}
	for _, tenants := range e.waiting {
		for t := range tenants {
			out[t] = true
		}
	}
	return out
}

// cutoffRule is a batch channel's configured cut-off.
func (e *Engine) cutoffRule(channel string) config.Cutoff {
	if cc := e.Config().ChannelConfig(channel); cc != nil {
		return cc.Cutoff
	}
	return config.Cutoff{EndOfFile: true}
}

// CutoffEndOfFile cuts the tenant's batches on channels whose cut-off is
// the end of each input file (and, since a fallback or a restart brings
// deliveries outside any file, on those too).
func (e *Engine) CutoffEndOfFile(tenant string) {
	e.cutNow(tenant, func(ch string) bool { return e.cutoffRule(ch).EndOfFile })
}

// scheduledCutoffs cuts, at each configured time of day (local time), every
// tenant's waiting deliveries on channels with a cut-off schedule.
func (e *Engine) scheduledCutoffs(ctx context.Context) {
	for {
		next, channels := nextScheduledCutoff(e.Config(), e.Lanes, time.Now())
		if next.IsZero() {
			// Nothing is scheduled; look again after a reload might have
			// added a schedule.
			next = time.Now().Add(time.Minute)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		e.refresh()
		for tenant := range e.unbatchedTenants() {
			e.Cutoff(tenant, func(ch string) bool { return channels[ch] })
		}
	}
}

// nextScheduledCutoff finds the next cut-off time cfg sets for one of the
// lanes after now, and the channels that cut then.
func nextScheduledCutoff(cfg *config.Config, lanes Lanes, now time.Time) (time.Time, map[string]bool) {
	var next time.Time
	channels := map[string]bool{}
	for name := range lanes {
		cc := cfg.ChannelConfig(name)
		if cc == nil {
			continue
		}
		for _, hm := range cc.Cutoff.Times {
			t, err := time.ParseInLocation("15:04", hm, time.Local)
			if err != nil {
				continue
			}
			at := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.Local)
			if !at.After(now) {
				at = at.AddDate(0, 0, 1)
			}
			switch {
			case next.IsZero() || at.Before(next):
				next, channels = at, map[string]bool{name: true}
			case at.Equal(next):
				channels[name] = true
			}
		}
	}
	return next, channels
}

// Cutoff turns the waiting deliveries of the tenant on the chosen batch
// channels into one batch each, recorded before it is sent, so a crash can
// only resend the same batch under the same name; and the batch sources'
// waiting work on those channels likewise.
func (e *Engine) Cutoff(tenant string, which func(channel string) bool) {
	kinds := make([]string, 0, len(e.sources))
	for kind, src := range e.sources {
		if which(src.Channel()) {
			kinds = append(kinds, kind)
		}
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		e.cutSource(e.sources[kind], tenant)
	}
	e.mu.Lock()
	waiting := map[string][]string{}
	for ch, ids := range e.unbatched[tenant] {
		if which(ch) {
			waiting[ch] = ids
			delete(e.unbatched[tenant], ch)
		}
	}
	e.mu.Unlock()
	channels := make([]string, 0, len(waiting))
	for ch := range waiting {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	for _, ch := range channels {
		ids := waiting[ch]
		if len(ids) == 0 {
			continue
		}
		sort.Strings(ids)
		now := e.cutTime(tenant, ch)
		var b *store.Batch
		err := e.Store.Update(func(tx store.Tx) error {
			// A delivery that ended while it waited (an AutoGiro withdrawal
			// whose mandate a bank file cancelled) stays out of the batch.
			var dls []*store.Delivery
			for _, id := range ids {
				dl, err := tx.Delivery(id)
				if err != nil {
					return err
				}
				// One another cut took (a leader before this one, on
				// another node) stays in its batch.
				if dl.State != store.DeliveryDelivered && dl.State != store.DeliveryFailed && dl.BatchID == "" {
					dls = append(dls, dl)
				}
			}
			if b = nil; len(dls) == 0 {
				return nil
			}
			b = &store.Batch{ID: fmt.Sprintf("%s-%s-%s", ch, tenant, strings.TrimSuffix(dls[0].ID, "."+ch)), Tenant: tenant, Channel: ch,
				State: store.DeliveryQueued, Created: now, Updated: now}
			for _, dl := range dls {
				dl.BatchID, dl.State, dl.Updated = b.ID, store.DeliveryBatched, now
				b.Deliveries = append(b.Deliveries, dl.ID)
				if err := tx.PutDelivery(dl); err != nil {
					return err
				}
			}
			return tx.PutBatch(b)
		})
		if err != nil {
			e.Log.Error("cut-off failed; the deliveries wait for the next one", "tenant", tenant, "channel", ch, "err", err)
			e.mu.Lock()
			if e.unbatched[tenant] == nil {
				e.unbatched[tenant] = map[string][]string{}
			}
			e.unbatched[tenant][ch] = append(e.unbatched[tenant][ch], ids...)
			e.mu.Unlock()
			continue
		}
		if b == nil {
			continue
		}
		e.Log.Info("batch cut", "tenant", tenant, "channel", ch, "batch", b.ID, "deliveries", len(b.Deliveries))
		e.runners[ch].q.push(job{id: b.ID, batch: true})
	}
}

// cutTime is the creation time of a new batch: now, or a second after the
// tenant's previous batch on the channel when that was within this second.
func (e *Engine) cutTime(tenant, channel string) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := tenant + "\x00" + channel
	now := time.Now().UTC()
	if last := e.lastCut[k]; now.Truncate(time.Second).Compare(last.Truncate(time.Second)) <= 0 {
		now = last.Truncate(time.Second).Add(time.Second)
	}
	e.lastCut[k] = now
	return now
}

// cutSource turns the tenant's waiting work of src into one batch,
// recorded before it is sent, like a batch of deliveries.
func (e *Engine) cutSource(src BatchSource, tenant string) {
	kind, ch := src.Kind(), src.Channel()
	e.mu.Lock()
	waiting := e.waiting[kind][tenant]
	delete(e.waiting[kind], tenant)
	e.mu.Unlock()
	r := e.runners[ch]
	if !waiting || r == nil {
		return
	}
	// The time is taken before the transaction, which may run twice.
	now := e.cutTime(tenant, ch)
	var b *store.Batch
	err := e.Store.Update(func(tx store.Tx) (err error) {
		b, err = src.Cut(tx, tenant, now)
		return err
	})
	if err != nil {
		e.Log.Error("cut-off failed; the work waits for the next one", "tenant", tenant, "channel", ch, "kind", kind, "err", err)
		e.mu.Lock()
		e.waiting[kind][tenant] = true
		e.mu.Unlock()
		return
	}
	if b != nil {
		e.Log.Info("batch cut", "tenant", tenant, "channel", ch, "batch", b.ID, "kind", kind, "items", len(b.Deliveries))
		r.q.push(job{id: b.ID, batch: true})
	}
}
