package deliver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// MaxSendGroup bounds how many deliveries a worker sends before one flush
// and one record. A group of 64 e-mails with their PDFs is ~60 ms of
// drawing, which is also what the last message of a group waits to count
// as sent.
const MaxSendGroup = 64

// groups reports whether the channel's transport can make a group of sends
// durable at once (outbound.Flusher, as the spool can). Other transports
// (HTTP, SMTP, SFTP) send and record one message at a time, so a crash
// repeats at most the one send in flight.
func (r *runner) groups() bool {
	_, ok := r.l.Get().Transport.(outbound.Flusher)
	return ok
}

// sendTimeout bounds one send: a large print batch to a slow print house
// may take minutes, a stuck peer must not hold a worker forever.
const sendTimeout = 10 * time.Minute

// sendCtx is the context of one send. A stop request does not cancel it at
// once: a send in flight at SIGTERM gets the stop timeout to finish and be
// recorded (so it is not repeated after the restart), then it is cancelled.
func (e *Engine) sendCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	grace := time.Duration(e.Config().Delivery.StopTimeout)
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
func (e *Engine) sendGroup(ctx context.Context, r *runner, ids []string) {
	type item struct {
		dl   *store.Delivery
		body *formats.Document
	}
	items := make([]item, 0, len(ids))
	err := e.Store.View(func(tx store.Tx) error {
		for _, id := range ids {
			dl, err := tx.Delivery(id)
			var body *formats.Document
			if err == nil {
				body, err = tx.Body(dl.DocID)
			}
			switch {
			case err != nil:
				// It stays as it is in the store; a restart loads it again.
				e.Log.Error("delivery cannot be loaded", "delivery", id, "err", err)
			case dl.State != store.DeliveryDelivered && dl.State != store.DeliveryFailed:
				items = append(items, item{dl, body})
			}
		}
		return nil
	})
	if err != nil {
		// They stay pending in the store; a restart loads them again.
		e.Log.Error("deliveries cannot be loaded", "deliveries", len(ids), "err", err)
		return
	}
	l := r.l.Get()
	flusher, _ := l.Transport.(outbound.Flusher)
	outcomes := make([]outcome, 0, len(items))
	flushed := 0 // outcomes that wait for the flush
	for _, it := range items {
		e.stamp(it.dl, it.body)
		msg, err := l.Doc.Render(it.body, it.dl.To, it.dl.ID)
		sent, err, ok := e.transmit(ctx, r, l, flusher, msg, err)
		releaseBody(l.Transport, msg)
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
func (e *Engine) transmit(ctx context.Context, r *runner, l *Parts, unflushed outbound.Flusher, msg outbound.Message, renderErr error) (sent outbound.Sent, err error, ok bool) {
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
		sent, err = l.Transport.Send(sctx, msg)
	}
	if err == nil {
		sent.SHA256 = sha256Hex(msg.Body)
	}
	return sent, err, true
}

func (e *Engine) sendBatch(ctx context.Context, r *runner, id string) {
	var b *store.Batch
	var items []outbound.BatchItem
	var render RenderFunc
	var src BatchSource
	err := e.Store.View(func(tx store.Tx) (err error) {
		if b, err = tx.Batch(id); err != nil {
			return err
		}
		if b.Kind != "" {
			if src = e.sources[b.Kind]; src == nil {
				return fmt.Errorf("a batch of kind %q, which nothing here sends", b.Kind)
			}
			render, err = src.Load(tx, b)
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
			e.stamp(dl, body)
			items = append(items, outbound.BatchItem{Key: dl.ID, To: dl.To, Doc: body})
		}
		return nil
	})
	if err != nil {
		e.Log.Error("batch cannot be loaded", "batch", id, "err", err)
		return
	}
	if b.State == store.DeliveryDelivered || b.State == store.DeliveryFailed {
		return
	}
	if src != nil {
		e.sendSource(ctx, r, src, b, render)
		return
	}
	l := r.l.Get()
	biller, err := e.biller(b.Tenant)
	var msg outbound.Message
	if err == nil {
		msg, err = l.Batch.RenderBatch(outbound.Batch{Key: b.ID, Created: b.Created, Biller: biller, Items: items})
	}
	sent, err, ok := e.transmit(ctx, r, l, nil, msg, err)
	releaseBody(l.Transport, msg)
	if ok {
		e.record(outcome{ids: b.Deliveries, batch: b.ID, sent: sent, err: err})
	}
}

// sendSource sends a batch of a batch source's work as one file.
func (e *Engine) sendSource(ctx context.Context, r *runner, src BatchSource, b *store.Batch, render RenderFunc) {
	l := r.l.Get()
	biller, err := e.biller(b.Tenant)
	var msg outbound.Message
	if err == nil {
		msg, err = render(l.Batch, biller)
	}
	sent, err, ok := e.transmit(ctx, r, l, nil, msg, err)
	releaseBody(l.Transport, msg)
	if ok {
		e.recordSource(src, b.ID, msg.Name, sent, err)
	}
}

// releaseBody gives a sent message's body back to its channel when the
// transport is done with it (outbound.BodyFinisher); transmit has hashed
// it by then.
func releaseBody(t outbound.Transport, msg outbound.Message) {
	if msg.Release == nil {
		return
	}
	if _, done := t.(outbound.BodyFinisher); done {
		msg.Release()
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
