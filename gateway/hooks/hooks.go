// Package hooks tells each tenant's ERP what became of its documents:
// it posts every event of the tenant's log (store.EventLogTx: delivered,
// failed, opened, paid, reminded, handed to debt collection, credited, a
// registration changed) to the tenant's webhook, one signed POST per
// event, in order, retried with backoff, every attempt recorded on the
// event; and it pages through the log for the API, where an ERP can read
// what it missed and have its webhook replay it.
//
// The log itself is the store's: the store appends to it in the
// transaction that made each change. This package only reads it, posts
// and records.
package hooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// Options are what the part needs.
type Options struct {
	Store   store.Store
	Tenant  func(id string) (config.Tenant, bool)
	Tenants func() []config.Tenant
	// Retention is how long a tenant's events are kept.
	Retention func(tenant string) time.Duration
	// Client posts; nil for one with each webhook's timeout.
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
}

// Hooks is the part.
type Hooks struct {
	Options
	mu sync.Mutex
	// next is when a tenant's webhook is tried again after a failure.
	next map[string]time.Time
	wake chan struct{}
}

// New makes the part.
func New(o Options) *Hooks {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Hooks{Options: o, next: map[string]time.Time{}, wake: make(chan struct{}, 1)}
}

// Signature header: "t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>"
// (docs/security.md#webhooks).
const (
	HeaderSignature = "Multikanal-Signature"
	HeaderEvent     = "Multikanal-Event"
	HeaderDelivery  = "Multikanal-Delivery"
)

// Sign is the signature header's value for body sent at t with key.
func Sign(key, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// poll is how often the log is read for new events; batch how many
// events a turn posts per tenant before it records them.
const (
	poll  = time.Second
	batch = 100
	// prune is how often old events are removed.
	prune = time.Hour
)

// Run posts the tenants' events until ctx ends.
func (h *Hooks) Run(ctx context.Context) {
	t := time.NewTicker(poll)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		for _, tn := range h.Tenants() {
			if tn.Webhook != nil {
				h.Post(ctx, tn)
			}
		}
		if now := h.Now(); now.Sub(lastPrune) >= prune {
			h.prune(now)
			lastPrune = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.wake:
		}
	}
}

// Post posts the tenant's events after its cursor, in order, until one
// fails (it is tried again with backoff: 1 s doubling to 1 h) or is given
// up after the webhook's max_age (recorded on it: replay posts it again).
func (h *Hooks) Post(ctx context.Context, t config.Tenant) {
	w := t.Webhook
	h.mu.Lock()
	wait := h.next[t.ID]
	h.mu.Unlock()
	if h.Now().Before(wait) {
		return
	}
	key, err := config.ReadSecret(w.SecretFile)
	if err != nil {
		h.Log.Error("webhook: cannot read its key; no event is posted until it can", "tenant", t.ID, "err", err)
		return
	}
	for ctx.Err() == nil {
		var cursor uint64
		var events []*store.ERPEvent
		err := h.Store.View(func(tx store.Tx) (err error) {
			if cursor, err = tx.HookCursor(t.ID); err != nil {
				return err
			}
			events, err = tx.ERPEvents(t.ID, cursor, batch)
			return err
		})
		if err != nil || len(events) == 0 {
			return
		}
		done, failed := h.postAll(ctx, w, key, events)
		if err := h.record(t.ID, done, failed); err != nil {
			h.Log.Error("webhook: recording the posts failed; they are posted again", "tenant", t.ID, "err", err)
			return
		}
		if failed != nil {
			h.backoff(t.ID, failed)
			return
		}
	}
}

// postAll posts events in order and returns those done with (posted,
// not wanted, or given up) and the one that failed, if any.
func (h *Hooks) postAll(ctx context.Context, w *config.Webhook, key []byte, events []*store.ERPEvent) (done []*store.ERPEvent, failed *store.ERPEvent) {
	for _, e := range events {
		if !w.Posts(e.Type) {
			done = append(done, e)
			continue
		}
		now := h.Now()
		if e.Hook == nil {
			e.Hook = &store.HookAttempts{}
		}
		e.Hook.Attempts++
		e.Hook.Last = now
		status, err := h.post(ctx, w, key, e)
		e.Hook.Status = status
		if err == nil {
			e.Hook.Error, e.Hook.Delivered = "", now
			done = append(done, e)
			continue
		}
		e.Hook.Error = err.Error()
		if now.Sub(e.At) > time.Duration(w.MaxAge) {
			e.Hook.Error = fmt.Sprintf("given up after %d attempts over %s (webhook.max_age); replay it with POST /api/v1/tenants/%s/events/replay: %v",
				e.Hook.Attempts, time.Duration(w.MaxAge), e.Tenant, err)
			h.Log.Warn("webhook: event given up", "tenant", e.Tenant, "seq", e.Seq, "type", e.Type, "err", err)
			done = append(done, e)
			continue
		}
		return done, e
	}
	return done, nil
}

// post sends one event.
func (h *Hooks) post(ctx context.Context, w *config.Webhook, key []byte, e *store.ERPEvent) (int, error) {
	body, err := json.Marshal(View(e, false))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(w.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "multikanal-webhook")
	req.Header.Set(HeaderEvent, e.Type)
	req.Header.Set(HeaderDelivery, e.Tenant+"-"+strconv.FormatUint(e.Seq, 10))
	req.Header.Set(HeaderSignature, Sign(key, body, h.Now()))
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: time.Duration(w.Timeout)}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("the webhook answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// record writes what the posts did and moves the cursor past the events
// done with, in one transaction.
func (h *Hooks) record(tenant string, done []*store.ERPEvent, failed *store.ERPEvent) error {
	return h.Store.Update(func(tx store.Tx) error {
		for _, e := range append(done, failed) {
			if e == nil || e.Hook == nil {
				continue
			}
			if err := tx.PutERPEvent(e); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if len(done) > 0 {
			return tx.SetHookCursor(tenant, done[len(done)-1].Seq)
		}
		return nil
	})
}

// backoff sets when the tenant's webhook is tried again after e failed.
func (h *Hooks) backoff(tenant string, e *store.ERPEvent) {
	d := time.Second << min(e.Hook.Attempts-1, 12)
	d = min(d, time.Hour)
	h.mu.Lock()
	h.next[tenant] = h.Now().Add(d)
	h.mu.Unlock()
	h.Log.Warn("webhook: post failed; tried again later", "tenant", tenant, "seq", e.Seq, "type", e.Type, "attempts", e.Hook.Attempts, "in", d, "err", e.Hook.Error)
}

// Page is up to limit of the tenant's events after the cursor after.
func (h *Hooks) Page(tenant string, after uint64, limit int) (*api.EventPage, error) {
	if _, ok := h.Tenant(tenant); !ok {
		return nil, errkind.New(errkind.NotFound, "tenant %q is not configured", tenant)
	}
	page := &api.EventPage{Events: []*api.ERPEvent{}, Next: after}
	err := h.Store.View(func(tx store.Tx) error {
		events, err := tx.ERPEvents(tenant, after, limit)
		if err != nil {
			return err
		}
		for _, e := range events {
			page.Events = append(page.Events, View(e, true))
			page.Next = e.Seq
		}
		page.Hook, err = tx.HookCursor(tenant)
		return err
	})
	return page, err
}

// Replay moves the tenant's webhook back so that it posts again every
// event after the cursor after, and wakes it.
func (h *Hooks) Replay(tenant string, after uint64) error {
	t, ok := h.Tenant(tenant)
	switch {
	case !ok:
		return errkind.New(errkind.NotFound, "tenant %q is not configured", tenant)
	case t.Webhook == nil:
		return errkind.New(errkind.Conflict, "tenant %s has no [tenant.webhook]: nothing to replay to; read the log with GET /api/v1/tenants/%s/events", tenant, tenant)
	}
	err := h.Store.Update(func(tx store.Tx) error { return tx.SetHookCursor(tenant, after) })
	if err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.next, tenant)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return nil
}

// prune removes each tenant's events older than its retention.
func (h *Hooks) prune(now time.Time) {
	for _, t := range h.Tenants() {
		keep := h.Retention(t.ID)
		if keep <= 0 {
			continue
		}
		for {
			var n int
			err := h.Store.Update(func(tx store.Tx) (err error) { n, err = tx.PruneERPEvents(t.ID, now.Add(-keep), 2000); return })
			if err != nil {
				h.Log.Error("pruning the event log failed", "tenant", t.ID, "err", err)
			}
			if err != nil || n < 2000 {
				break
			}
		}
	}
}

// View is the API's form of an event; withHook adds the webhook's record.
func View(e *store.ERPEvent, withHook bool) *api.ERPEvent {
	out := &api.ERPEvent{Seq: e.Seq, Tenant: e.Tenant, Type: e.Type, At: e.At, Doc: e.Doc, File: e.File, Kind: e.Kind, Number: e.Number,
		Channel: e.Channel, State: e.State, Reason: receipts.TenantText(e.Reason), Registration: e.Registration, Keys: e.Keys}
	if h := e.Hook; h != nil && withHook {
		out.Hook = &api.HookAttempts{Attempts: h.Attempts, Last: h.Last, Status: h.Status, Error: h.Error, Delivered: h.Delivered}
	}
	return out
}
