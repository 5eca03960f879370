package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

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
func (e *Engine) record(outcomes ...outcome) {
	if len(outcomes) == 0 {
		return
	}
	now := time.Now().UTC()
	cfg := e.Config().Delivery
	var next []*store.Delivery
	retryAt := make([]time.Time, len(outcomes))
	var channel string
	files := map[string]bool{}
	var states []docState
	var latencies []time.Duration
	var changed []store.Doc
	var confirms []*store.Delivery
	err := e.Store.Update(func(tx store.Tx) error {
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
					if within := time.Duration(e.Config().ChannelConfig(dl.Channel).ConfirmWithin); within > 0 && !dl.Collection {
						dl.ConfirmBy = now.Add(within)
					}
					// Only an invoice or credit note carries the page's link.
					if within := e.openWithin(dl); within > 0 && doc.Kind.Billing() {
						dl.OpenBy = now.Add(within)
					}
					if dl.AwaitsConfirmation() {
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
					err = recordCollection(tx, e.Lanes, doc, dl, o.sent, why, now)
				} else {
					var nd *store.Delivery
					nd, err = recordDistribution(tx, e.Lanes, doc, dl, o.sent, why, now)
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
		e.Log.Error("recording delivery outcomes failed", "sends", len(outcomes), "batch", outcomes[0].batch, "err", err)
		return
	}
	for i := range changed {
		doc := &changed[i]
		level := slog.LevelDebug
		if doc.State != store.DocDelivered {
			level = slog.LevelWarn
		}
		e.logDoc(doc).Log(context.Background(), level, "document "+string(doc.State), "channel", doc.Channel, "reason", doc.Reason)
	}
	for _, dl := range confirms {
		e.schedule(job{id: dl.ID, confirm: true}, dl.Channel, dl.Deadline())
	}
	for _, st := range states {
		e.Metrics.DocumentState(st.channel, st.state)
	}
	for _, l := range latencies {
		e.Metrics.EndToEnd(channel, l)
	}
	for i, o := range outcomes {
		e.Metrics.DeliveryAttempt(channel)
		if o.err != nil {
			class := outbound.ClassOf(o.err).String()
			e.Metrics.DeliveryError(channel, class)
			e.Log.Warn("delivery failed", "channel", channel, "batch", o.batch, "deliveries", len(o.ids), "class", class, "err", o.err)
		}
		if !retryAt[i].IsZero() {
			if o.batch != "" {
				e.schedule(job{id: o.batch, batch: true}, channel, retryAt[i])
			} else {
				e.schedule(job{id: o.ids[0]}, channel, retryAt[i])
			}
		}
	}
	e.Requeue(next...)
	for f := range files {
		e.Receipts.Touch(f)
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

// recordDistribution applies a send outcome to the document's distribution:
// delivered, retrying, or failed and on to the next eligible channel.
func recordDistribution(tx store.Tx, lanes Lanes, doc *store.Doc, dl *store.Delivery, sent outbound.Sent, why string, now time.Time) (*store.Delivery, error) {
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
	return route.Next(tx, lanes, doc, now, dl.Channel+" failed: "+why)
}

// recordCollection applies the outcome of a collection channel's file
// (AutoGiro's payment file, AvtaleGiro's claim file) to the invoice's
// collection; distribution is untouched and there is no fallback.
func recordCollection(tx store.Tx, lanes Lanes, doc *store.Doc, dl *store.Delivery, sent outbound.Sent, why string, now time.Time) error {
	c := doc.Collection
	if c == nil {
		c = &store.Collection{Method: dl.Channel, Payer: dl.To}
		doc.Collection = c
	}
	terms := outbound.CollectionTerms{Title: dl.Channel, File: "file"}
	if ch, _, _ := lanes.Channel(dl.Channel); ch != nil {
		if col, ok := ch.(outbound.Collector); ok {
			terms = col.Terms()
		}
	}
	c.At = now
	switch dl.State {
	case store.DeliveryDelivered:
		c.State, c.AtBank, c.File = store.PaymentScheduled, true, filepath.Base(sent.Ref)
		c.Reason = "collected by " + terms.Title + " in file " + c.File
		if doc.Kind == formats.KindCreditNote {
			c.Reason = "paid back by " + terms.Title + " deposit in file " + c.File
		}
	case store.DeliveryRetrying:
		c.Reason = terms.File + ": " + why
	default:
		c.State, c.Reason = store.PaymentFailed, terms.File+" could not be delivered: "+why
	}
	doc.Updated = now
	return tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: dl.Channel, Reason: "collection: " + c.Reason})
}

// checkConfirmation fails a delivered message whose receiver did not confirm
// it in time (an SMS without a delivery report), or whose invoice page its
// recipient did not open in time (page.not_opened): the invoice falls back
// to its next channel, as if the send had failed permanently. A message
// with a later deadline still to come is checked again then.
func (e *Engine) checkConfirmation(id string) {
	now := time.Now().UTC()
	var next *store.Delivery
	var fileID, channel string
	var later time.Time
	err := e.Store.Update(func(tx store.Tx) error {
		next, later = nil, time.Time{}
		dl, err := tx.Delivery(id)
		if err != nil || !dl.AwaitsConfirmation() {
			return err
		}
		channel = dl.Channel
		var why string
		switch {
		case !dl.ConfirmBy.IsZero() && !dl.Confirmed && !now.Before(dl.ConfirmBy):
			why = fmt.Sprintf("no delivery report confirmed it within %s", dl.ConfirmBy.Sub(dl.Updated).Round(time.Second))
		case dl.AwaitsOpening() && !now.Before(dl.OpenBy):
			why = "not opened: the recipient did not open the invoice page by " + dl.OpenBy.Format(time.RFC3339) + " (page.not_opened)"
			if within := e.openWithin(dl); within > 0 {
				why = fmt.Sprintf("not opened: the recipient did not open the invoice page within %s of the send (page.not_opened)", within)
			}
		default:
			later = dl.Deadline()
			return nil
		}
		doc, err := tx.Doc(dl.DocID)
		if err != nil {
			return err
		}
		fileID = doc.FileID
		next, err = route.FailDelivered(tx, e.Lanes, dl, doc, why, now)
		return err
	})
	if err != nil {
		e.Log.Error("checking a confirmation failed", "delivery", id, "err", err)
		return
	}
	if !later.IsZero() {
		e.schedule(job{id: id, confirm: true}, channel, later)
	}
	e.Requeue(next)
	if fileID != "" {
		e.Receipts.Touch(fileID)
	}
}

// Requeue hands deliveries made outside an input file (fallbacks, retries,
// reports) to their channels; batch channels whose cut-off is the end of
// each file cut at once, since no file end is coming for them. nil ones
// are passed over.
func (e *Engine) Requeue(dls ...*store.Delivery) {
	tenants := map[string]bool{}
	for _, dl := range dls {
		if dl == nil {
			continue
		}
		e.Enqueue(dl)
		if dl.Batched {
			tenants[dl.Tenant] = true
		}
	}
	for t := range tenants {
		e.CutoffEndOfFile(t)
	}
}

// docState is one document's state after a committed change, for the
// transition counter (counted after the commit: a grouped transaction may
// run twice).
type docState struct {
	channel string
	state   store.DocState
}

// recordSource applies the outcome of sending a batch source's file to
// the batch and, through the source, to its work, and schedules a retry of
// the same file when it failed for a while.
func (e *Engine) recordSource(src BatchSource, batchID, name string, sent outbound.Sent, sendErr error) {
	now := time.Now().UTC()
	cfg := e.Config().Delivery
	var b *store.Batch
	err := e.Store.Update(func(tx store.Tx) (err error) {
		if b, err = tx.Batch(batchID); err != nil {
			return err
		}
		b.Attempts++
		b.Updated = now
		switch {
		case sendErr == nil:
			b.State, b.Ref, b.LastError = store.DeliveryDelivered, sent.Ref, ""
		case retryable(sendErr, b.Attempts, b.Created, cfg, now):
			b.State, b.LastError = store.DeliveryRetrying, sendErr.Error()
			b.NextAt = now.Add(backoff(b.Attempts, time.Duration(cfg.BackoffMin), time.Duration(cfg.BackoffMax), sendErr))
		default:
			b.State, b.LastError = store.DeliveryFailed, sendErr.Error()
		}
		if err := src.Record(tx, b, name, sendErr); err != nil {
			return err
		}
		return tx.PutBatch(b)
	})
	if err != nil {
		e.Log.Error("recording a batch file's outcome failed", "batch", batchID, "kind", src.Kind(), "err", err)
		return
	}
	e.Metrics.DeliveryAttempt(src.Channel())
	if sendErr != nil {
		e.Metrics.DeliveryError(src.Channel(), outbound.ClassOf(sendErr).String())
		e.Log.Warn("batch file failed", "tenant", b.Tenant, "batch", batchID, "kind", src.Kind(), "file", name, "state", b.State, "err", sendErr)
	} else {
		e.Log.Info("batch file sent", "tenant", b.Tenant, "batch", batchID, "kind", src.Kind(), "file", name, "items", len(b.Deliveries))
	}
	if b.State == store.DeliveryRetrying {
		e.schedule(job{id: batchID, batch: true}, src.Channel(), b.NextAt)
	}
}
