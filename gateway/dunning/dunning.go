// Package dunning reminds customers of invoices not paid on time and
// hands the ones still unpaid to debt collection: each day, at the time
// the tenant's [tenant.reminders] says, it finds the tenant's delivered
// invoices whose due date (or last reminder's) is far enough past, and
// makes a reminder (a document of its own, kind reminder, routed and
// delivered like any other) or marks the invoice collection_agency.
//
// An invoice paid, partly paid in full, collected by a direct debit,
// credited or disputed is never reminded: the store's dunning index holds
// only the invoices that may be (store.Doc.DunningDate), and each is
// checked again in the transaction that reminds it.
//
// The day's work is one function, Remind, which the daemon's timer
// (Run, Tick) calls; where several nodes share a store, Tick is what the
// leader alone is to call. It is not the receipts (package receipts
// writes the reminders' receipt) and it does not send (package deliver).
package dunning

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
)

// Delivery is told of the reminders' first deliveries.
type Delivery interface {
	Enqueue(dl *store.Delivery)
	CutoffEndOfFile(tenant string)
}

// Receipts is told which files' receipts changed.
type Receipts interface{ Touch(fileID string) }

// Options are what the part needs.
type Options struct {
	Store    store.Store
	Channels route.Channels
	Tenant   func(id string) (config.Tenant, bool)
	// Tenants are the tenants in force, for the timer.
	Tenants  func() []config.Tenant
	Delivery Delivery
	Receipts Receipts
	Log      *slog.Logger
	// Now is the clock; nil for time.Now.
	Now func() time.Time
}

// Dunning is the part.
type Dunning struct {
	Options
	// mu lets one day's work of a tenant run at a time: the timer's and
	// an operator's `multikanal reminders` would otherwise both make it.
	mu sync.Mutex
}

// New makes the part.
func New(o Options) *Dunning {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Dunning{Options: o}
}

// checkEvery is how often the timer looks whether a tenant's time of day
// has come.
const checkEvery = time.Minute

// Run calls Tick at start and every minute until ctx ends.
func (d *Dunning) Run(ctx context.Context) {
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		d.Tick(d.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick makes the day's reminders of every tenant whose time of day has
// come (its reminders.at, local time) and whose reminders of the day are
// not made yet: a daemon that was down at that time makes them when it
// starts.
func (d *Dunning) Tick(now time.Time) {
	local := now.Local()
	day := formats.DateOf(local)
	for _, t := range d.Tenants() {
		p := t.Reminders
		if p == nil {
			continue
		}
		h, m := p.ReminderTime()
		if local.Hour()*60+local.Minute() < h*60+m {
			continue
		}
		var last formats.Date
		if err := d.Store.View(func(tx store.Tx) (err error) { last, err = tx.DunningRun(t.ID); return }); err != nil {
			d.Log.Error("reminders: reading the last day's run failed", "tenant", t.ID, "err", err)
			continue
		}
		if !last.Before(day) {
			continue
		}
		plan, err := d.Remind(t.ID, day, false)
		if err != nil {
			d.Log.Error("reminders failed; tried again in a minute", "tenant", t.ID, "err", err)
			continue
		}
		d.Log.Info("reminders made", "tenant", t.ID, "day", day, "steps", len(plan.Steps), "file", plan.File)
	}
}

// ErrNoPolicy is returned for a tenant without [tenant.reminders].
var ErrNoPolicy = errkind.New(errkind.Conflict, "the tenant has no [tenant.reminders] table")

// Remind makes (or with dryRun only shows) the tenant's reminders and
// hand-offs to debt collection of day.
func (d *Dunning) Remind(tenant string, day formats.Date, dryRun bool) (*api.ReminderPlan, error) {
	t, ok := d.Tenant(tenant)
	if !ok {
		return nil, errkind.New(errkind.NotFound, "tenant %q is not configured", tenant)
	}
	if t.Reminders == nil {
		return nil, fmt.Errorf("tenant %s: %w: add one to send reminders (docs/reminders.md)", tenant, ErrNoPolicy)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	plan := &api.ReminderPlan{Tenant: tenant, Day: day, DryRun: dryRun, Steps: []api.ReminderStep{}}
	var due []candidate
	err := d.Store.View(func(tx store.Tx) error {
		return tx.ForEachDunning(tenant, formats.DateOf(day.Time().Add(-24*time.Hour)), func(id string, at formats.Date) error {
			due = append(due, candidate{id, at})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if dryRun {
		err := d.Store.View(func(tx store.Tx) error {
			for _, c := range due {
				step, err := d.decide(tx, t, c, day, nil)
				if err != nil {
					return err
				}
				if step != nil {
					plan.Steps = append(plan.Steps, *step)
				}
			}
			return nil
		})
		return plan, err
	}
	return plan, d.apply(t, plan, due, day)
}

type candidate struct {
	id  string
	due formats.Date
}

// chunk is how many invoices are reminded per transaction.
const chunk = 256

// apply makes the plan's reminders and hand-offs, chunk by chunk, under
// one input file the reminders' receipt is written for.
func (d *Dunning) apply(t config.Tenant, plan *api.ReminderPlan, due []candidate, day formats.Date) error {
	var file *store.File
	touched := map[string]bool{}
	for start := 0; start < len(due); start += chunk {
		part := due[start:min(start+chunk, len(due))]
		var queued []*store.Delivery
		var steps []api.ReminderStep
		var fileNow *store.File
		err := d.Store.Update(func(tx store.Tx) error {
			queued, steps, fileNow = queued[:0], steps[:0], nil
			if file != nil {
				f := *file
				fileNow = &f
			}
			for _, c := range part {
				step, err := d.decide(tx, t, c, day, &making{file: &fileNow, queued: &queued})
				if err != nil {
					return err
				}
				if step != nil {
					steps = append(steps, *step)
				}
			}
			if fileNow != nil {
				return tx.PutFile(fileNow)
			}
			return nil
		})
		if err != nil {
			return err
		}
		file = fileNow
		plan.Steps = append(plan.Steps, steps...)
		for _, s := range steps {
			if s.Action != api.ActionSkip {
				touched[fileOfDoc(s.Invoice)] = true
			}
		}
		for _, dl := range queued {
			d.Delivery.Enqueue(dl)
		}
	}
	if err := d.Store.Update(func(tx store.Tx) error { return tx.SetDunningRun(t.ID, day) }); err != nil {
		return err
	}
	if file != nil {
		plan.File = file.ID
		d.Delivery.CutoffEndOfFile(t.ID)
		d.Receipts.Touch(file.ID)
	}
	for id := range touched {
		d.Receipts.Touch(id)
	}
	return nil
}

// fileOfDoc is the file id a document id starts with.
func fileOfDoc(docID string) string {
	for i := 0; i < len(docID); i++ {
		if docID[i] == '-' {
			return docID[:i]
		}
	}
	return docID
}

// making is what decide needs to make reminders, not only plan them: the
// reminders' file (made with the first) and the deliveries to queue.
type making struct {
	file   **store.File
	queued *[]*store.Delivery
}

// decide says what becomes of one invoice of the index on day, and with
// m makes it so in tx: a reminder, the hand-off to debt collection, or
// nothing (nil when the invoice is not due for anything yet).
func (d *Dunning) decide(tx store.Tx, t config.Tenant, c candidate, day formats.Date, m *making) (*api.ReminderStep, error) {
	p := t.Reminders
	inv, err := tx.Doc(c.id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The index is a way in: what it found is checked against the
	// invoice as it is now.
	stepDue, ok := inv.DunningDate()
	if !ok || stepDue != c.due {
		return nil, nil
	}
	step := &api.ReminderStep{Invoice: inv.ID, Number: inv.Number, Buyer: inv.Buyer, Due: stepDue, Currency: inv.Currency}
	n := inv.Reminded()
	after := func(d config.Duration) bool {
		return !day.Before(formats.DateOf(stepDue.Time().Add(time.Duration(d))))
	}
	switch {
	case n >= p.Max && p.CollectionAgency > 0 && after(p.CollectionAgency):
		step.Action = api.ActionCollectionAgency
		step.Reason = fmt.Sprintf("%d reminder(s) sent, the last due %s, and %s unpaid %s later: handed to debt collection", n, stepDue, inv.Payment().State, config.Days(p.CollectionAgency))
		if m != nil {
			return step, d.handOver(tx, inv, step.Reason)
		}
		return step, nil
	case n >= p.Max, !after(p.After):
		return nil, nil
	}
	body, err := tx.Body(inv.ID)
	if errors.Is(err, store.ErrNotFound) {
		step.Action, step.Reason = api.ActionSkip, "the invoice's content was removed by retention (retention.payloads): remind it from the ERP"
		return step, nil
	}
	if err != nil {
		return nil, err
	}
	outstanding := inv.Amount
	if pay := inv.Payment(); pay != nil {
		outstanding -= pay.Paid
	}
	terms := TermsOf(p, inv.Currency, inv.DueDate, day, outstanding, n+1)
	rem := Build(body, p, terms, day, t.OCRLengthDigit)
	if pay := inv.Payment(); pay != nil && pay.Dropped() {
		rem.Notes = append(rem.Notes, DroppedDebitNote(pay.Method, rem.Language == "en"))
	}
	step.Action, step.Sequence = api.ActionRemind, terms.Sequence
	step.Outstanding, step.Fee, step.Interest, step.Total = terms.Outstanding, terms.Fee, terms.Interest, terms.Total()
	if m == nil {
		reg := route.Lookup(tx, d.Channels, t.ID, d.Now())
		for _, s := range route.Decide(t.Priority, d.Channels, reg, rem) {
			if s.Eligible {
				step.Channel = s.Channel
				step.Reason = s.Channel + ": " + s.Reason
				break
			}
		}
		if step.Channel == "" {
			step.Reason = "no channel can reach the recipient: " + route.Summary(route.Decide(t.Priority, d.Channels, reg, rem))
		}
		return step, nil
	}
	return step, d.make(tx, t, inv, rem, step, m)
}

// make records the reminder rem of invoice inv under the reminders' file,
// routes it, and records on the invoice that it was reminded (only when
// the reminder found a channel: a reminder nobody gets is no reminder).
func (d *Dunning) make(tx store.Tx, t config.Tenant, inv *store.Doc, rem *formats.Document, step *api.ReminderStep, m *making) error {
	now := d.Now().UTC()
	f := *m.file
	if f == nil {
		id, err := tx.NextFileID()
		if err != nil {
			return err
		}
		f = &store.File{ID: id, Tenant: t.ID, Name: "reminders-" + formats.DateOf(now.Local()).String(), SHA256: "reminders:" + id,
			ReceivedAt: now, State: store.FileParsed, Format: "reminders"}
		*m.file = f
	}
	doc := &store.Doc{ID: fmt.Sprintf("%s-%07d", f.ID, f.Docs), FileID: f.ID, Tenant: t.ID, Index: f.Docs, Source: rem.Source,
		State: store.DocReceived, Created: now, Updated: now, Kind: rem.Kind, Number: rem.Number, Buyer: rem.Buyer.DisplayName(),
		Currency: rem.Currency, Amount: rem.Totals.Payable, DueDate: rem.DueDate, Reminds: inv.ID, Keys: inv.Keys}
	f.Docs++
	for _, st := range []store.DocState{store.DocReceived, store.DocParsed} {
		if err := tx.AppendEvent(doc, store.Event{At: now, State: st}); err != nil {
			return err
		}
	}
	dl, _, err := route.Route(tx, d.Channels, t, doc, rem, now)
	if err != nil {
		return err
	}
	if err := tx.PutBody(doc.ID, rem); err != nil {
		return err
	}
	if err := tx.PutDoc(doc); err != nil {
		return err
	}
	step.Reminder = doc.ID
	if dl == nil {
		step.Action, step.Reason = api.ActionSkip, "the reminder was not sent: "+doc.Reason
		return tx.AppendEvent(inv, store.Event{At: now, State: inv.State, Reason: "reminder " + rem.Number + " (" + doc.ID + ") was not sent: " + doc.Reason})
	}
	*m.queued = append(*m.queued, dl)
	step.Channel, step.Reason = dl.Channel, doc.Reason
	if t.Reminders.OCR == "own" {
		if ref := rem.PaymentReference(); ref != "" {
			if err := tx.PutPaymentRef(t.ID, route.PaymentRefKey(ref), inv.ID); err != nil {
				return err
			}
		}
	}
	if inv.Dunning == nil {
		inv.Dunning = &store.Dunning{}
	}
	r := rem.Reminder
	inv.Dunning.Reminders = append(inv.Dunning.Reminders, store.SentReminder{Doc: doc.ID, Number: rem.Number, At: now, Due: rem.DueDate,
		Fee: r.Fee, Interest: r.Interest, Source: "schedule"})
	inv.Updated = now
	why := fmt.Sprintf("%sreminder %d, %s (%s), by %s: %s %s to pay by %s (%s left, fee %s, interest %s)", store.ReasonReminded, r.Sequence, rem.Number,
		doc.ID, dl.Channel, r.Total(), rem.Currency, rem.DueDate, r.Outstanding, r.Fee, r.Interest)
	if err := tx.AppendEvent(inv, store.Event{At: now, State: inv.State, Channel: dl.Channel, Reason: why}); err != nil {
		return err
	}
	return tx.PutDoc(inv)
}

// handOver marks the invoice handed to debt collection.
func (d *Dunning) handOver(tx store.Tx, inv *store.Doc, why string) error {
	now := d.Now().UTC()
	if inv.Dunning == nil {
		inv.Dunning = &store.Dunning{}
	}
	inv.Dunning.Agency, inv.Updated = now, now
	if err := tx.AppendEvent(inv, store.Event{At: now, State: inv.State, Reason: store.ReasonCollectionAgency + why}); err != nil {
		return err
	}
	return tx.PutDoc(inv)
}

// Dispute marks an invoice disputed by its customer (who and why), which
// stops its reminders, or with clear takes the mark away.
func (d *Dunning) Dispute(id, by, why string, clear bool) (*store.Doc, error) {
	if !clear && (by == "" || why == "") {
		return nil, errkind.New(errkind.Invalid, "say who marks the invoice disputed and why: {\"by\": \"...\", \"why\": \"...\"}")
	}
	var doc *store.Doc
	err := d.Store.Update(func(tx store.Tx) (err error) {
		if doc, err = tx.Doc(id); err != nil {
			return err
		}
		if doc.Kind != formats.KindInvoice {
			return errkind.New(errkind.Conflict, "%s is a %s: only an invoice can be disputed", id, doc.Kind)
		}
		now := d.Now().UTC()
		reason := "disputed by the customer (" + by + "): " + why + "; no reminder goes out"
		doc.Disputed = &store.Ack{At: now, By: by, Why: why}
		if clear {
			doc.Disputed, reason = nil, "dispute cleared: reminders may go out again"
		}
		doc.Updated = now
		if err := tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Reason: reason}); err != nil {
			return err
		}
		return tx.PutDoc(doc)
	})
	if err == nil {
		d.Receipts.Touch(doc.FileID)
	}
	return doc, err
}
