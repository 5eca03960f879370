package gateway

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// engine delivers: one runner per channel with its workers, a scheduler for
// retries, and the cut-off that turns a batch channel's waiting deliveries
// into one batch. All state is in the store; the engine's memory is only a
// cache of what is due, rebuilt from the store at start.
type engine struct {
	d       *Daemon
	runners map[string]*runner
	sched   *scheduler

	mu        sync.Mutex
	unbatched map[string]map[string][]string // tenant -> channel -> delivery ids
	mandates  map[string]bool                // tenants with mandate orders for the next AutoGiro cut-off
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
	l *lane
	q *jobQueue

	// The channel's rate limit (sends per second, all its workers
	// together): each send takes the next free slot.
	rateMu   sync.Mutex
	nextSlot time.Time
}

// wait blocks until the channel's rate limit allows the next send, or ctx
// ends. It is called just before the transport's Send, after rendering, so
// the limit spaces what the receiver sees. A limit of 0 is no limit; the current limit is read at every send,
// so a reload applies at once.
func (r *runner) wait(ctx context.Context) bool {
	limit := r.l.get().cfg.RateLimit
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

func newEngine(d *Daemon) *engine {
	e := &engine{d: d, runners: map[string]*runner{}, sched: newScheduler(), unbatched: map[string]map[string][]string{},
		mandates: map[string]bool{}, lastCut: map[string]time.Time{}}
	for name, l := range d.lanes {
		e.runners[name] = &runner{l: l, q: newJobQueue()}
	}
	return e
}

// start loads unfinished work from the store and starts the workers. The
// workers stop when ctx ends, each after finishing (and recording) the send
// it is in.
func (e *engine) start(ctx context.Context, wg *sync.WaitGroup) error {
	var dls []*store.Delivery
	var batches []*store.Batch
	err := e.d.store.View(func(tx store.Tx) error {
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
	if err == nil {
		err = e.d.store.View(func(tx store.Tx) error {
			return tx.ForEachMandateOrder("", func(o *store.MandateOrder) error {
				if o.State == store.MandateQueued {
					e.mu.Lock()
					e.mandates[o.Tenant] = true
					e.mu.Unlock()
				}
				return nil
			})
		})
	}
	if err != nil {
		return fmt.Errorf("loading unfinished deliveries: %w", err)
	}
	for _, dl := range dls {
		switch {
		case dl.AwaitsConfirmation():
			e.schedule(job{id: dl.ID, confirm: true}, dl.Channel, dl.ConfirmBy)
		case dl.BatchID == "":
			e.enqueue(dl)
		}
	}
	for _, b := range batches {
		e.schedule(job{id: b.ID, batch: true}, b.Channel, b.NextAt)
	}
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.scheduledCutoffs(ctx)
	}()
	// Deliveries left waiting for an end-of-file cut-off when the daemon
	// stopped; scheduled channels wait for their next time.
	for tenant := range e.unbatchedTenants() {
		e.cutoffEndOfFile(tenant)
	}
	return nil
}

// enqueue hands a recorded delivery to its channel: a batch channel keeps it
// until the next cut-off, others schedule it.
func (e *engine) enqueue(dl *store.Delivery) {
	if dl.Batched {
		e.mu.Lock()
		if e.unbatched[dl.Tenant] == nil {
			e.unbatched[dl.Tenant] = map[string][]string{}
		}
		e.unbatched[dl.Tenant][dl.Channel] = append(e.unbatched[dl.Tenant][dl.Channel], dl.ID)
		waiting := len(e.unbatched[dl.Tenant][dl.Channel])
		e.mu.Unlock()
		if max := e.cutoffRule(dl.Channel).MaxCount; max > 0 && waiting >= max {
			e.cutoff(dl.Tenant, func(ch string) bool { return ch == dl.Channel })
		}
		return
	}
	e.schedule(job{id: dl.ID}, dl.Channel, dl.NextAt)
}

func (e *engine) schedule(j job, channel string, at time.Time) {
	r := e.runners[channel]
	if r == nil {
		e.d.log.Error("delivery for a channel that is not configured", "channel", channel, "id", j.id)
		return
	}
	if at.IsZero() || !at.After(time.Now()) {
		r.q.push(j)
		return
	}
	e.sched.add(j, channel, at)
}

func (e *engine) unbatchedTenants() map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]bool{}
	for t := range e.unbatched {
		out[t] = true
	}
	for t := range e.mandates {
		out[t] = true
	}
	return out
}

// cutoffRule is a batch channel's configured cut-off.
func (e *engine) cutoffRule(channel string) config.Cutoff {
	if cc := e.d.live.Load().ChannelConfig(channel); cc != nil {
		return cc.Cutoff
	}
	return config.Cutoff{EndOfFile: true}
}

// cutoffEndOfFile cuts the tenant's batches on channels whose cut-off is the
// end of each input file (and, since a fallback or a restart brings
// deliveries outside any file, on those too).
func (e *engine) cutoffEndOfFile(tenant string) {
	e.cutoff(tenant, func(ch string) bool { return e.cutoffRule(ch).EndOfFile })
}

// scheduledCutoffs cuts, at each configured time of day (local time), every
// tenant's waiting deliveries on channels with a cut-off schedule.
func (e *engine) scheduledCutoffs(ctx context.Context) {
	for {
		next, channels := e.nextScheduledCutoff(time.Now())
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
		for tenant := range e.unbatchedTenants() {
			e.cutoff(tenant, func(ch string) bool { return channels[ch] })
		}
	}
}

// nextScheduledCutoff finds the next configured cut-off time after now and
// the channels that cut then.
func (e *engine) nextScheduledCutoff(now time.Time) (time.Time, map[string]bool) {
	var next time.Time
	channels := map[string]bool{}
	cfg := e.d.live.Load()
	for name := range e.runners {
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

// cutoff turns the waiting deliveries of the tenant on the chosen batch
// channels into one batch each, recorded before it is sent, so a crash can
// only resend the same batch under the same name.
func (e *engine) cutoff(tenant string, which func(channel string) bool) {
	if which(autogiroChannel) {
		e.cutMandates(tenant)
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
		err := e.d.store.Update(func(tx store.Tx) error {
			// A delivery that ended while it waited (an AutoGiro withdrawal
			// whose mandate a bank file cancelled) stays out of the batch.
			var dls []*store.Delivery
			for _, id := range ids {
				dl, err := tx.Delivery(id)
				if err != nil {
					return err
				}
				if dl.State != store.DeliveryDelivered && dl.State != store.DeliveryFailed {
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
			e.d.log.Error("cut-off failed; the deliveries wait for the next one", "tenant", tenant, "channel", ch, "err", err)
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
		e.d.log.Info("batch cut", "tenant", tenant, "channel", ch, "batch", b.ID, "deliveries", len(b.Deliveries))
		e.runners[ch].q.push(job{id: b.ID, batch: true})
	}
}

// cutTime is the creation time of a new batch: now, or a second after the
// tenant's previous batch on the channel when that was within this second.
func (e *engine) cutTime(tenant, channel string) time.Time {
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

func (e *engine) work(ctx context.Context, r *runner) {
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
			e.sendGroup(ctx, r, append([]string{j.id}, r.q.popPlain(maxSendGroup-1, e.workers(r))...))
		default:
			e.sendGroup(ctx, r, []string{j.id})
		}
	}
}

// maxSendGroup bounds how many deliveries a worker sends before one flush
// and one record. A group of 64 e-mails with their PDFs is ~60 ms of
// drawing, which is also what the last message of a group waits to count
// as sent.
const maxSendGroup = 64

// workers is how many workers the channel runs: its own setting, else
// [delivery] workers, else one.
func (e *engine) workers(r *runner) int {
	n := r.l.get().cfg.Workers
	if n <= 0 {
		n = e.d.live.Load().Delivery.Workers
	}
	return max(n, 1)
}

// groups reports whether the channel's transport can make a group of sends
// durable at once (outbound.Flusher, as the spool can). Other transports
// (HTTP, SMTP, SFTP) send and record one message at a time, so a crash
// repeats at most the one send in flight.
func (r *runner) groups() bool {
	_, ok := r.l.get().transport.(outbound.Flusher)
	return ok
}

// sendTimeout bounds one send: a large print batch to a slow print house
// may take minutes, a stuck peer must not hold a worker forever.
const sendTimeout = 10 * time.Minute

// sendCtx is the context of one send. A stop request does not cancel it at
// once: a send in flight at SIGTERM gets the stop timeout to finish and be
// recorded (so it is not repeated after the restart), then it is cancelled.
func (e *engine) sendCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	grace := time.Duration(e.d.live.Load().Delivery.StopTimeout)
	if grace <= 0 {
		grace = 20 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(sctx, func() { t.Stop() })
	})
	return sctx, func() { stop(); cancel() }
}

// sendGroup sends deliveries of one channel, one after the other, and
// records their outcomes in one transaction. On a Flusher transport the
// messages are put in place unflushed and made durable by one Flush before
// they are recorded; a failed flush fails them all, temporarily.
func (e *engine) sendGroup(ctx context.Context, r *runner, ids []string) {
	type item struct {
		dl   *store.Delivery
		body *formats.Document
	}
	items := make([]item, 0, len(ids))
	e.d.store.View(func(tx store.Tx) error {
		for _, id := range ids {
			dl, err := tx.Delivery(id)
			var body *formats.Document
			if err == nil {
				body, err = tx.Body(dl.DocID)
			}
			switch {
			case err != nil:
				// It stays as it is in the store; a restart loads it again.
				e.d.log.Error("delivery cannot be loaded", "delivery", id, "err", err)
			case dl.State != store.DeliveryDelivered && dl.State != store.DeliveryFailed:
				items = append(items, item{dl, body})
			}
		}
		return nil
	})
	l := r.l.get()
	flusher, _ := l.transport.(outbound.Flusher)
	outcomes := make([]outcome, 0, len(items))
	flushed := 0 // outcomes that wait for the flush
	for _, it := range items {
		msg, err := l.doc.Render(it.body, it.dl.To, it.dl.ID)
		sent, err, ok := e.transmit(ctx, r, l, flusher, msg, err)
		if !ok {
			break // stopping: what was not sent stays pending in the store
		}
		outcomes = append(outcomes, outcome{ids: []string{it.dl.ID}, sent: sent, err: err})
		if err == nil && flusher != nil {
			flushed++
		}
	}
	if flushed > 0 {
		if err := flusher.Flush(); err != nil {
			for i := range outcomes {
				if outcomes[i].err == nil {
					outcomes[i].sent, outcomes[i].err = outbound.Sent{}, err
				}
			}
		}
	}
	e.record(outcomes...)
}

// transmit sends a rendered message within the channel's rate limit (with
// unflushed set, by its SendUnflushed, the caller flushing after); a
// rendering error is permanent (the same input renders the same way). ok is
// false when the daemon stopped while waiting for a slot: the work is still
// pending in the store and is sent after the next start.
func (e *engine) transmit(ctx context.Context, r *runner, l *laneParts, unflushed outbound.Flusher, msg outbound.Message, renderErr error) (sent outbound.Sent, err error, ok bool) {
	if renderErr != nil {
		return sent, outbound.Permanent(fmt.Errorf("rendering: %w", renderErr)), true
	}
	if !r.wait(ctx) {
		return sent, nil, false
	}
	sctx, cancel := e.sendCtx(ctx)
	defer cancel()
	if unflushed != nil {
		sent, err = unflushed.SendUnflushed(sctx, msg)
	} else {
		sent, err = l.transport.Send(sctx, msg)
	}
	if err == nil {
		sent.SHA256 = sha256Hex(msg.Body)
	}
	return sent, err, true
}

func (e *engine) sendBatch(ctx context.Context, r *runner, id string) {
	var b *store.Batch
	var items []outbound.BatchItem
	err := e.d.store.View(func(tx store.Tx) (err error) {
		if b, err = tx.Batch(id); err != nil || b.Kind == store.BatchMandates {
			return err
		}
		for _, did := range b.Deliveries {
			dl, err := tx.Delivery(did)
			if err != nil {
				return err
			}
			body, err := tx.Body(dl.DocID)
			if err != nil {
				return err
			}
			items = append(items, outbound.BatchItem{Key: dl.ID, To: dl.To, Doc: body})
		}
		return nil
	})
	if err != nil {
		e.d.log.Error("batch cannot be loaded", "batch", id, "err", err)
		return
	}
	if b.State == store.DeliveryDelivered || b.State == store.DeliveryFailed {
		return
	}
	if b.Kind == store.BatchMandates {
		e.sendMandates(ctx, r, b)
		return
	}
	l := r.l.get()
	biller, err := e.d.biller(b.Tenant)
	var msg outbound.Message
	if err == nil {
		msg, err = l.batch.RenderBatch(outbound.Batch{Key: b.ID, Created: b.Created, Biller: biller, Items: items})
	}
	if sent, err, ok := e.transmit(ctx, r, l, nil, msg, err); ok {
		e.record(outcome{ids: b.Deliveries, batch: b.ID, sent: sent, err: err})
	}
}

// outcome is the result of one send: of a delivery, or of a batch and its
// deliveries.
type outcome struct {
	ids   []string
	batch string // batch id, or "" for a single delivery
	sent  outbound.Sent
	err   error
}

// record applies the outcomes of sends to their deliveries, batches and
// documents in one transaction.
func (e *engine) record(outcomes ...outcome) {
	if len(outcomes) == 0 {
		return
	}
	now := time.Now().UTC()
	cfg := e.d.live.Load().Delivery
	var next []*store.Delivery
	retryAt := make([]time.Time, len(outcomes))
	var channel string
	files := map[string]bool{}
	var states []docState
	var latencies []time.Duration
	var changed []store.Doc
	var confirms []*store.Delivery
	err := e.d.store.Update(func(tx store.Tx) error {
		next, states, latencies, changed, confirms = next[:0], states[:0], latencies[:0], changed[:0], confirms[:0]
		clear(retryAt)
		// The receipt's latency figure needs each file's arrival once.
		received := map[string]time.Time{}
		for i, o := range outcomes {
			var b *store.Batch
			if o.batch != "" {
				var err error
				if b, err = tx.Batch(o.batch); err != nil {
					return err
				}
				b.Attempts++
				b.Updated = now
			}
			class := outbound.ClassOf(o.err)
			for _, id := range o.ids {
				dl, err := tx.Delivery(id)
				if err != nil {
					return err
				}
				doc, err := tx.Doc(dl.DocID)
				if err != nil {
					return err
				}
				channel = dl.Channel
				files[doc.FileID] = true
				dl.Attempts++
				dl.Updated = now
				retry := retryable(o.err, dl.Attempts, dl.Created, cfg, now)
				why := ""
				switch {
				case o.err == nil:
					dl.State, dl.Ref, dl.LastError = store.DeliveryDelivered, o.sent.Ref, ""
					if within := time.Duration(e.d.live.Load().ChannelConfig(dl.Channel).ConfirmWithin); within > 0 && !dl.Collection {
						dl.ConfirmBy = now.Add(within)
						confirms = append(confirms, dl)
					}
				case retry:
					dl.State, dl.LastError = store.DeliveryRetrying, o.err.Error()
					dl.NextAt = now.Add(backoff(dl.Attempts, time.Duration(cfg.BackoffMin), time.Duration(cfg.BackoffMax), o.err))
					retryAt[i] = dl.NextAt
					why = fmt.Sprintf("attempt %d failed (%v); next try %s", dl.Attempts, o.err, dl.NextAt.Format(time.RFC3339))
				default:
					why = o.err.Error()
					if class == outbound.ClassTemporary {
						why = fmt.Sprintf("gave up after %d attempts: %v", dl.Attempts, o.err)
					}
					dl.State, dl.LastError = store.DeliveryFailed, why
				}
				if dl.Collection {
					err = recordCollection(tx, doc, dl, o.sent, why, now)
				} else {
					var nd *store.Delivery
					nd, err = e.d.recordDistribution(tx, doc, dl, o.sent, why, now)
					if nd != nil {
						next = append(next, nd)
					}
				}
				if err != nil {
					return err
				}
				if err := tx.PutDelivery(dl); err != nil {
					return err
				}
				if err := tx.PutDoc(doc); err != nil {
					return err
				}
				states = append(states, docState{doc.Channel, doc.State})
				changed = append(changed, *doc)
				if dl.State == store.DeliveryDelivered && !dl.Collection {
					at, ok := received[doc.FileID]
					if !ok {
						if f, err := tx.File(doc.FileID); err == nil {
							at, ok = f.ReceivedAt, true
							received[doc.FileID] = at
						}
					}
					if ok {
						latencies = append(latencies, now.Sub(at))
					}
				}
			}
			if b != nil {
				switch {
				case o.err == nil:
					b.State, b.Ref, b.LastError = store.DeliveryDelivered, o.sent.Ref, ""
				case !retryAt[i].IsZero():
					b.State, b.NextAt, b.LastError = store.DeliveryRetrying, retryAt[i], o.err.Error()
				default:
					b.State, b.LastError = store.DeliveryFailed, o.err.Error()
				}
				if err := tx.PutBatch(b); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		// The outcome is not recorded; the work stays pending in the store
		// and is retried after a restart. Sends are idempotent by key.
		e.d.log.Error("recording delivery outcomes failed", "sends", len(outcomes), "batch", outcomes[0].batch, "err", err)
		return
	}
	for i := range changed {
		doc := &changed[i]
		level := slog.LevelDebug
		if doc.State != store.DocDelivered {
			level = slog.LevelWarn
		}
		e.d.logDoc(doc).Log(context.Background(), level, "document "+string(doc.State), "channel", doc.Channel, "reason", doc.Reason)
	}
	for _, dl := range confirms {
		e.schedule(job{id: dl.ID, confirm: true}, dl.Channel, dl.ConfirmBy)
	}
	e.d.metrics.documentStates(states)
	for _, l := range latencies {
		e.d.metrics.endToEnd(channel, l)
	}
	for i, o := range outcomes {
		e.d.metrics.deliveryAttempt(channel)
		if o.err != nil {
			class := outbound.ClassOf(o.err).String()
			e.d.metrics.deliveryError(channel, class)
			e.d.log.Warn("delivery failed", "channel", channel, "batch", o.batch, "deliveries", len(o.ids), "class", class, "err", o.err)
		}
		if !retryAt[i].IsZero() {
			if o.batch != "" {
				e.schedule(job{id: o.batch, batch: true}, channel, retryAt[i])
			} else {
				e.schedule(job{id: o.ids[0]}, channel, retryAt[i])
			}
		}
	}
	e.requeue(next...)
	for f := range files {
		e.d.receipts.touch(f)
	}
}

// retryable reports whether a failed send is tried again: a temporary
// failure, within the attempts and the age the configuration allows.
func retryable(err error, attempts int, created time.Time, cfg config.Delivery, now time.Time) bool {
	return err != nil && outbound.ClassOf(err) == outbound.ClassTemporary &&
		attempts < cfg.MaxAttempts && now.Sub(created) < time.Duration(cfg.MaxAge)
}

// backoff is exponential with full jitter between min and max; a receiver's
// Retry-After wins when it is longer.
func backoff(attempt int, lo, hi time.Duration, err error) time.Duration {
	if lo <= 0 {
		lo = 5 * time.Second
	}
	if hi < lo {
		hi = lo
	}
	d := lo << min(attempt-1, 20)
	if d > hi || d <= 0 {
		d = hi
	}
	d = d/2 + rand.N(d/2+1)
	var oe *outbound.Error
	if errors.As(err, &oe) && oe.RetryAfter > d {
		d = oe.RetryAfter
	}
	return d
}

// jobQueue is an unbounded FIFO: enqueueing never blocks, so a worker that
// falls back to another channel cannot deadlock with that channel's workers.
type jobQueue struct {
	mu     sync.Mutex
	items  []job
	signal chan struct{}
}

func newJobQueue() *jobQueue { return &jobQueue{signal: make(chan struct{}, 1)} }

func (q *jobQueue) push(j job) {
	q.mu.Lock()
	q.items = append(q.items, j)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *jobQueue) pop(ctx context.Context) (job, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			j := q.items[0]
			q.items[0] = job{}
			q.items = q.items[1:]
			more := len(q.items) > 0
			q.mu.Unlock()
			if more {
				select {
				case q.signal <- struct{}{}:
				default:
				}
			}
			return j, true
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-ctx.Done():
			return job{}, false
		}
	}
}

// popPlain takes more delivery jobs from the front of the queue without
// waiting, stopping at the first batch or confirmation job: up to n, and no
// more than a fair share of the queue among the channel's workers, so that
// a short queue is rendered on every core rather than by one worker.
func (q *jobQueue) popPlain(n, workers int) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, (len(q.items)+workers-1)/max(workers, 1))
	var ids []string
	for len(ids) < n && len(q.items) > 0 && !q.items[0].batch && !q.items[0].confirm {
		ids = append(ids, q.items[0].id)
		q.items[0] = job{}
		q.items = q.items[1:]
	}
	return ids
}

func (q *jobQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// scheduler holds jobs until their time.
type scheduler struct {
	mu   sync.Mutex
	h    timedJobs
	wake chan struct{}
}

type timedJob struct {
	at      time.Time
	j       job
	channel string
}

type timedJobs []timedJob

func (h timedJobs) Len() int           { return len(h) }
func (h timedJobs) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timedJobs) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timedJobs) Push(x any)        { *h = append(*h, x.(timedJob)) }
func (h *timedJobs) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newScheduler() *scheduler { return &scheduler{wake: make(chan struct{}, 1)} }

func (s *scheduler) add(j job, channel string, at time.Time) {
	s.mu.Lock()
	heap.Push(&s.h, timedJob{at, j, channel})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}

func (s *scheduler) run(ctx context.Context, due func(job, string)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		for len(s.h) > 0 && !s.h[0].at.After(now) {
			t := heap.Pop(&s.h).(timedJob)
			s.mu.Unlock()
			due(t.j, t.channel)
			s.mu.Lock()
		}
		wait := time.Hour
		if len(s.h) > 0 {
			wait = time.Until(s.h[0].at)
		}
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// recordDistribution applies a send outcome to the document's distribution:
// delivered, retrying, or failed and on to the next eligible channel.
func (d *Daemon) recordDistribution(tx store.Tx, doc *store.Doc, dl *store.Delivery, sent outbound.Sent, why string, now time.Time) (*store.Delivery, error) {
	doc.Updated = now
	switch dl.State {
	case store.DeliveryDelivered:
		prior := doc.Reason
		doc.State, doc.Output, doc.SentSHA256 = store.DocDelivered, sent.Ref, sent.SHA256
		doc.Reason = dl.Channel + ": delivered to " + sent.Ref
		// Keep the fallback story in the final word: the receipt says why
		// the invoice did not go by the first channel.
		if i := strings.Index(prior, "; next: "); i > 0 {
			doc.Reason += " (after " + prior[:i] + ")"
		}
		return nil, tx.AppendEvent(doc, store.Event{At: now, State: store.DocDelivered, Channel: dl.Channel, Reason: "delivered: " + sent.Ref})
	case store.DeliveryRetrying:
		doc.State, doc.Reason = store.DocRetrying, dl.Channel+": "+why
		return nil, tx.AppendEvent(doc, store.Event{At: now, State: store.DocRetrying, Channel: dl.Channel, Reason: doc.Reason})
	}
	doc.State = store.DocFailed
	if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocFailed, Channel: dl.Channel, Reason: why}); err != nil {
		return nil, err
	}
	return d.nextDelivery(tx, doc, now, dl.Channel+" failed: "+why)
}

// recordCollection applies a payment file's outcome to the invoice's
// collection; distribution is untouched and there is no fallback.
func recordCollection(tx store.Tx, doc *store.Doc, dl *store.Delivery, sent outbound.Sent, why string, now time.Time) error {
	c := doc.Collection
	if c == nil {
		c = &store.Collection{Method: autogiroChannel, Payer: dl.To}
		doc.Collection = c
	}
	c.At = now
	switch dl.State {
	case store.DeliveryDelivered:
		c.State, c.AtBank, c.File = store.PaymentScheduled, true, filepath.Base(sent.Ref)
		c.Reason = "collected by AutoGiro in file " + c.File
		if doc.Kind == formats.KindCreditNote {
			c.Reason = "paid back by AutoGiro deposit in file " + c.File
		}
	case store.DeliveryRetrying:
		c.Reason = "payment file: " + why
	default:
		c.State, c.Reason = store.PaymentFailed, "payment file could not be delivered: "+why
	}
	doc.Updated = now
	return tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: dl.Channel, Reason: "collection: " + c.Reason})
}

// checkConfirmation fails a delivered message whose receiver did not confirm
// it in time (an SMS without a delivery report): the invoice falls back to
// its next channel, as if the send had failed permanently.
func (e *engine) checkConfirmation(id string) {
	now := time.Now().UTC()
	var next *store.Delivery
	var fileID string
	err := e.d.store.Update(func(tx store.Tx) error {
		next = nil
		dl, err := tx.Delivery(id)
		if err != nil || !dl.AwaitsConfirmation() {
			return err
		}
		doc, err := tx.Doc(dl.DocID)
		if err != nil {
			return err
		}
		fileID = doc.FileID
		why := fmt.Sprintf("no delivery report confirmed it within %s", dl.ConfirmBy.Sub(dl.Updated).Round(time.Second))
		next, err = e.d.failDelivered(tx, dl, doc, why, now)
		return err
	})
	if err != nil {
		e.d.log.Error("checking a confirmation failed", "delivery", id, "err", err)
		return
	}
	e.requeue(next)
	if fileID != "" {
		e.d.receipts.touch(fileID)
	}
}

// requeue hands deliveries made outside an input file (fallbacks, retries,
// reports) to their channels; batch channels whose cut-off is the end of
// each file cut at once, since no file end is coming for them.
func (e *engine) requeue(dls ...*store.Delivery) {
	tenants := map[string]bool{}
	for _, dl := range dls {
		if dl == nil {
			continue
		}
		e.enqueue(dl)
		if dl.Batched {
			tenants[dl.Tenant] = true
		}
	}
	for t := range tenants {
		e.cutoffEndOfFile(t)
	}
}

// failDelivered fails, after the fact, a delivery the transport had taken:
// the receiver reports it did not arrive (an SMS report, the bank's
// e-faktura report) or never confirmed it. When the document still rests on
// that delivery, it moves on to its next eligible channel, whose delivery is
// returned for requeue; a repeated report finds it moved on and does nothing.
func (d *Daemon) failDelivered(tx store.Tx, dl *store.Delivery, doc *store.Doc, why string, now time.Time) (*store.Delivery, error) {
	if dl.State != store.DeliveryDelivered || dl.ID != doc.DeliveryID(doc.Channel) {
		return nil, nil
	}
	dl.State, dl.LastError, dl.Updated = store.DeliveryFailed, why, now
	if err := tx.PutDelivery(dl); err != nil {
		return nil, err
	}
	doc.State, doc.Updated = store.DocFailed, now
	if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocFailed, Channel: dl.Channel, Reason: why}); err != nil {
		return nil, err
	}
	next, err := d.nextDelivery(tx, doc, now, dl.Channel+" failed: "+why)
	if err != nil {
		return nil, err
	}
	return next, tx.PutDoc(doc)
}
