package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// A biller manages its AutoGiro mandates through the gateway: it asks for
// new mandates, answers the ones payers signed in their internet bank,
// cancels mandates and changes payer numbers. The orders come from the API
// (`multikanal mandates`) or as the biller's own mandate file dropped into
// the inbox; they are collected and sent as one sealed mandate file at the
// AutoGiro channel's cut-off, on its transport, beside the payment files.
// The registry changes only when Bankgirot's mandate advice says so.

// Mandate order actions, as the API names them.
const (
	MandateActionNew     = "new"     // a new mandate on the payer's bank account (or bankgiro)
	MandateActionApprove = "approve" // yes to a mandate the payer signed in the internet bank
	MandateActionReject  = "reject"  // no to it (TK04 with AV)
	MandateActionCancel  = "cancel"  // end a mandate (TK03)
	MandateActionChange  = "change"  // give the payer a new payer number (TK05)
)

// MandateOrderRequest is one order as the API receives it.
type MandateOrderRequest struct {
	Action     string `json:"action"`
	Payer      string `json:"payer"`
	Account    string `json:"account,omitempty"`     // new: clearing number and account number
	PersonalID string `json:"personal_id,omitempty"` // new: personnummer or organisationsnummer
	NewPayer   string `json:"new_payer,omitempty"`   // change
}

// MandateOrders is what the API lists for a tenant: its orders, the
// internet-bank mandates that wait for its answer, and the mandates under
// enquiry at the payer's bank, which wait for no answer from the biller.
type MandateOrders struct {
	Orders           []*store.MandateOrder `json:"orders"`
	AwaitingApproval []*store.Registration `json:"awaiting_approval"`
	UnderEnquiry     []*store.Registration `json:"under_enquiry"`
}

// mandateRequest turns an order into the record Bankgirot receives.
func mandateRequest(o *store.MandateOrder) ag.MandateRequest {
	r := ag.MandateRequest{PayerNumber: o.Payer}
	switch o.Action {
	case MandateActionNew:
		r.Type, r.Account, r.PersonalID = ag.MandateNew, o.Account, o.PersonalID
	case MandateActionApprove:
		r.Type = ag.MandateNew
	case MandateActionReject:
		r.Type, r.Reject = ag.MandateNew, true
	case MandateActionCancel:
		r.Type = ag.MandateCancel
	case MandateActionChange:
		r.Type, r.NewPayerNumber = ag.MandateChangePayerNumber, o.NewPayer
	}
	return r
}

// QueueMandateOrders checks the orders and records them for the next
// AutoGiro cut-off: all of them or, when one is wrong, none, with the
// order's number, payer and rule in the error. An order equal to one that
// is still waiting is not queued twice; the waiting one is returned.
func (d *Daemon) QueueMandateOrders(tenant, source string, reqs []MandateOrderRequest) ([]*store.MandateOrder, error) {
	return d.queueMandateOrders(tenant, source, reqs, true)
}

// queueMandateOrders queues orders. Strict is for orders typed into the
// API: an approval or rejection must answer an internet-bank mandate the
// registry knows, and a personal identity number must have its check
// digit. A biller's own file is taken as its word: it may answer requests
// it learnt of elsewhere (Bankgirot's own example does both), and
// Bankgirot's mandate advice will say what it refused.
func (d *Daemon) queueMandateOrders(tenant, source string, reqs []MandateOrderRequest, strict bool) ([]*store.MandateOrder, error) {
	t := d.tenant(tenant)
	if t == nil {
		return nil, fmt.Errorf("no tenant %s", tenant)
	}
	if t.cfg.AutoGiro == nil {
		return nil, fmt.Errorf("tenant %s has no AutoGiro agreement configured ([tenant.autogiro])", tenant)
	}
	if len(reqs) == 0 {
		return nil, errors.New("no mandate orders given")
	}
	now := time.Now().UTC()
	orders := make([]*store.MandateOrder, len(reqs))
	for i, rq := range reqs {
		o, err := newMandateOrder(tenant, source, rq, now, strict)
		if err != nil {
			return nil, fmt.Errorf("order %d (payer %s): %w", i+1, rq.Payer, err)
		}
		// The writer has the last word on every field.
		f := ag.MandateFile{WriteDate: ag.DateOf(now), CustomerNumber: t.cfg.AutoGiro.CustomerNumber,
			PayeeBankgiro: t.cfg.AutoGiro.Bankgiro, Requests: []ag.MandateRequest{mandateRequest(o)}}
		if _, err := f.WriteTo(io.Discard); err != nil {
			var agErr *ag.Error
			if errors.As(err, &agErr) {
				err = fmt.Errorf("%s: %s", agErr.Rule, agErr.Msg)
			}
			return nil, fmt.Errorf("order %d (payer %s): %w", i+1, rq.Payer, err)
		}
		orders[i] = o
	}
	err := d.store.Update(func(tx store.Tx) error {
		waiting := map[string]*store.MandateOrder{}
		if err := tx.ForEachMandateOrder(tenant, func(o *store.MandateOrder) error {
			if !o.State.End() {
				waiting[orderIdentity(o)] = o
			}
			return nil
		}); err != nil {
			return err
		}
		for i, o := range orders {
			if strict && (o.Action == MandateActionApprove || o.Action == MandateActionReject) {
				if ok, why := awaitsApproval(tx, tenant, o.Payer, now); !ok {
					return fmt.Errorf("order %d (payer %s): %s: %s", i+1, o.Payer, o.Action, why)
				}
			}
			if w, ok := waiting[orderIdentity(o)]; ok {
				orders[i] = w
				continue
			}
			o.ID = ""
			if err := tx.PutMandateOrder(o); err != nil {
				return err
			}
			waiting[orderIdentity(o)] = o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.log.Info("mandate orders queued", "tenant", tenant, "source", source, "orders", len(orders))
	d.engine.mandatesWaiting(tenant)
	return orders, nil
}

// newMandateOrder checks what the gateway can check beyond the record
// layout: the action, the fields it takes and, when strict, the personal
// identity number's check digit.
func newMandateOrder(tenant, source string, rq MandateOrderRequest, now time.Time, strict bool) (*store.MandateOrder, error) {
	o := &store.MandateOrder{Tenant: tenant, Action: strings.ToLower(strings.TrimSpace(rq.Action)), Payer: formats.OnlyDigits(rq.Payer),
		Source: source, State: store.MandateQueued, Created: now, Updated: now}
	if o.Payer == "" || o.Payer != strings.TrimSpace(rq.Payer) {
		return nil, fmt.Errorf("payer number %q: digits only, up to 16", rq.Payer)
	}
	extra := func(what, v string) error {
		if strings.TrimSpace(v) != "" {
			return fmt.Errorf("%s: %s is given only with a new mandate", o.Action, what)
		}
		return nil
	}
	switch o.Action {
	case MandateActionNew:
		acc, err := bankAccount(rq.Account)
		if err != nil {
			return nil, err
		}
		o.Account = acc
		if rq.PersonalID != "" {
			id := formats.OnlyDigits(rq.PersonalID)
			orgnr := rq.PersonalID
			if len(id) == 12 && strings.HasPrefix(id, "00") {
				orgnr = id[2:] // Bankgirot's form of an organisationsnummer
			}
			if pnr, err := formats.CheckPersonnummer(rq.PersonalID, now); err == nil {
				id = pnr
			} else if !strict && len(id) == 12 {
				// as written
			} else if org, oerr := formats.CheckOrgnr(orgnr); oerr == nil {
				id = "00" + org
			} else {
				return nil, fmt.Errorf("personal_id %q is neither a personnummer (%v) nor an organisationsnummer (%v)", rq.PersonalID, err, oerr)
			}
			o.PersonalID = id
		}
		if (o.Account == "") != (o.PersonalID == "") {
			return nil, errors.New("new: a mandate on a bank account needs both account and personal_id; one on the payer's bankgiro neither")
		}
	case MandateActionApprove, MandateActionReject, MandateActionCancel, MandateActionChange:
		if err := errors.Join(extra("account", rq.Account), extra("personal_id", rq.PersonalID)); err != nil {
			return nil, err
		}
		if o.Action == MandateActionChange {
			o.NewPayer = formats.OnlyDigits(rq.NewPayer)
			if o.NewPayer == "" || o.NewPayer != strings.TrimSpace(rq.NewPayer) {
				return nil, fmt.Errorf("change: new_payer %q: digits only, up to 16", rq.NewPayer)
			}
		} else if strings.TrimSpace(rq.NewPayer) != "" {
			return nil, fmt.Errorf("%s: new_payer is given only with change", o.Action)
		}
	default:
		return nil, fmt.Errorf("action %q: one of new, approve, reject, cancel, change", rq.Action)
	}
	return o, nil
}

// bankAccount writes an account as the mandate record holds it: the
// 4-digit clearing number, then the account number zero-filled to 12
// digits. People write "3300-1212121212" or "8327-9, 123 456 789-0"; a
// Swedbank clearing number of 5 digits keeps its first 4, as Bankgirot
// asks. Without a separator the first 4 digits are the clearing number.
func bankAccount(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	clearing, account := "", ""
	if m := accountPattern.FindStringSubmatch(s); m != nil {
		clearing, account = m[1], formats.OnlyDigits(m[3]) // a Swedbank check digit (m[2]) is left out
	} else if d := formats.OnlyDigits(s); len(d) == 16 && d == s {
		return d, nil
	} else if len(d) > 4 && d == s {
		clearing, account = d[:4], d[4:]
	}
	if len(clearing) != 4 || account == "" || len(account) > 12 {
		return "", fmt.Errorf("account %q: a 4-digit clearing number (Swedbank's 8xxx-x with its fifth digit) and an account number of up to 12 digits, like 3300-1212121212", s)
	}
	return clearing + strings.Repeat("0", 12-len(account)) + account, nil
}

// accountPattern is a clearing number, Swedbank's fifth digit, a separator
// and the account number.
var accountPattern = regexp.MustCompile(`^(\d{4})(-\d)?[\s,-]+(\d[\d\s-]*)$`)

// orderIdentity is what makes two orders the same order.
func orderIdentity(o *store.MandateOrder) string {
	return strings.Join([]string{o.Action, payerKey(o.Payer), o.Account, o.PersonalID, payerKey(o.NewPayer)}, "|")
}

// awaitsApproval reports whether the payer signed a mandate in an internet
// bank that the biller has not answered: only such a mandate (type 2 in the
// mandate register, manual 8.8; a TK52 of the file of new internet-bank
// mandates, 8.6) is the biller's to approve or reject. When there is none,
// it says why, naming a mandate under enquiry at the payer's bank (status
// 2 "under förfrågan") or an active one, which have nothing to answer.
func awaitsApproval(tx store.Tx, tenant, payer string, now time.Time) (bool, string) {
	regs, err := tx.Registrations(tenant, store.RecipientKey{Type: store.KeyCustomer, Value: payerKey(payer)})
	if err != nil {
		return false, err.Error()
	}
	why := "no mandate signed in an internet bank awaits an answer for this payer (Bankgirot's file of new internet-bank mandates brings them)"
	for _, r := range regs {
		if !r.Active(now) {
			continue
		}
		switch r.Channel {
		case autogiroRequest:
			return true, ""
		case autogiroEnquiry:
			why = fmt.Sprintf("the payer's mandate is under enquiry at the payer's bank (%s): the bank answers, not the biller; Bankgirot's mandate advice will say when it is active", r.Source)
		case autogiroChannel:
			why = fmt.Sprintf("the payer's mandate is already active (%s)", r.Source)
		}
	}
	return false, why
}

// ListMandateOrders returns the tenant's orders, newest first, the
// internet-bank mandates waiting for an answer and the mandates under
// enquiry at the payer's bank.
func (d *Daemon) ListMandateOrders(tenant string) (*MandateOrders, error) {
	if d.tenant(tenant) == nil {
		return nil, fmt.Errorf("no tenant %s", tenant)
	}
	out := &MandateOrders{Orders: []*store.MandateOrder{}, AwaitingApproval: []*store.Registration{}, UnderEnquiry: []*store.Registration{}}
	now := time.Now()
	err := d.store.View(func(tx store.Tx) error {
		if err := tx.ForEachMandateOrder(tenant, func(o *store.MandateOrder) error {
			out.Orders = append(out.Orders, o)
			return nil
		}); err != nil {
			return err
		}
		return tx.ForEachRegistration(tenant, func(r *store.Registration) error {
			switch {
			case !r.Active(now):
			case r.Channel == autogiroRequest:
				out.AwaitingApproval = append(out.AwaitingApproval, r)
			case r.Channel == autogiroEnquiry:
				out.UnderEnquiry = append(out.UnderEnquiry, r)
			}
			return nil
		})
	})
	sort.SliceStable(out.Orders, func(i, j int) bool { return out.Orders[i].ID > out.Orders[j].ID })
	return out, err
}

// queueMandateFile queues the orders of a mandate file the biller dropped
// into the inbox (its own medgivandeunderlag, sealed or not): they are sent
// again, sealed with the tenant's key, at the next cut-off.
func (d *Daemon) queueMandateFile(rec *store.File, f *ag.File) {
	var reqs []MandateOrderRequest
	for _, r := range f.Records {
		m, ok := r.(*ag.MandateRequest)
		if !ok {
			continue
		}
		rq := MandateOrderRequest{Payer: m.PayerNumber}
		switch {
		case m.Type == ag.MandateCancel:
			rq.Action = MandateActionCancel
		case m.Type == ag.MandateChangePayerNumber:
			rq.Action, rq.NewPayer = MandateActionChange, m.NewPayerNumber
		case m.Reject:
			rq.Action = MandateActionReject
		case m.Account != "" || m.PersonalID != "":
			rq.Action, rq.Account, rq.PersonalID = MandateActionNew, m.Account, m.PersonalID
		default:
			// A TK04 with only a payer number registers a mandate on the
			// payer's bankgiro or answers an internet-bank mandate yes.
			rq.Action = MandateActionApprove
			if err := d.store.View(func(tx store.Tx) error {
				if ok, _ := awaitsApproval(tx, rec.Tenant, m.PayerNumber, time.Now()); !ok {
					rq.Action = MandateActionNew
				}
				return nil
			}); err != nil {
				rq.Action = MandateActionNew
			}
		}
		reqs = append(reqs, rq)
	}
	if bg := strings.TrimLeft(d.tenant(rec.Tenant).cfg.AutoGiro.Bankgiro, "0"); f.PayeeBankgiro != "" && strings.TrimLeft(formats.OnlyDigits(bg), "0") != strings.TrimLeft(f.PayeeBankgiro, "0") {
		d.rejectFile(rec, rejectInvalid, fmt.Sprintf("AutoGiro mandate orders: nothing queued: the file is for payee bankgiro %s, not the tenant's %s", f.PayeeBankgiro, bg))
		return
	}
	orders, err := d.queueMandateOrders(rec.Tenant, "file "+rec.Name, reqs, false)
	if err != nil {
		d.rejectFile(rec, rejectInvalid, "AutoGiro mandate orders: nothing queued: "+err.Error())
		return
	}
	if err := d.setFile(rec.ID, func(file *store.File) {
		file.Format, file.State = "autogiro", store.FileApplied
		file.Reason = fmt.Sprintf("%d mandate orders queued for Bankgirot (%s); they go out sealed at the AutoGiro cut-off; see multikanal mandates list", len(orders), orderSummary(orders))
	}); err != nil {
		d.log.Error("recording a mandate file failed", "file", rec.ID, "err", err)
	}
	d.receipts.touch(rec.ID)
}

func orderSummary(orders []*store.MandateOrder) string {
	n := map[string]int{}
	for _, o := range orders {
		n[o.Action]++
	}
	var parts []string
	for _, a := range []string{MandateActionNew, MandateActionApprove, MandateActionReject, MandateActionCancel, MandateActionChange} {
		if n[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[a], a))
		}
	}
	return strings.Join(parts, ", ")
}

// mandatesWaiting notes that the tenant has orders for the next cut-off,
// and cuts at once when the AutoGiro channel cuts at the end of each input
// (an API call is its own input).
func (e *engine) mandatesWaiting(tenant string) {
	e.mu.Lock()
	e.mandates[tenant] = true
	e.mu.Unlock()
	if e.cutoffRule(autogiroChannel).EndOfFile {
		e.cutoff(tenant, func(ch string) bool { return ch == autogiroChannel })
	}
}

// cutMandates turns the tenant's queued mandate orders into one batch,
// recorded before it is sent, like a batch of deliveries.
func (e *engine) cutMandates(tenant string) {
	e.mu.Lock()
	waiting := e.mandates[tenant]
	delete(e.mandates, tenant)
	e.mu.Unlock()
	r := e.runners[autogiroChannel]
	if !waiting || r == nil {
		return
	}
	var b *store.Batch
	err := e.d.store.Update(func(tx store.Tx) error {
		b = nil
		var ids []string
		var queued []*store.MandateOrder
		if err := tx.ForEachMandateOrder(tenant, func(o *store.MandateOrder) error {
			if o.State == store.MandateQueued {
				ids, queued = append(ids, o.ID), append(queued, o)
			}
			return nil
		}); err != nil || len(ids) == 0 {
			return err
		}
		now := e.cutTime(tenant, autogiroChannel)
		b = &store.Batch{ID: fmt.Sprintf("mandates-%s-%s", tenant, ids[0]), Tenant: tenant, Channel: autogiroChannel, Kind: store.BatchMandates,
			Deliveries: ids, State: store.DeliveryQueued, Created: now, Updated: now}
		for _, o := range queued {
			o.State, o.Batch, o.Updated = store.MandateBatched, b.ID, now
			if err := tx.PutMandateOrder(o); err != nil {
				return err
			}
		}
		return tx.PutBatch(b)
	})
	if err != nil {
		e.d.log.Error("cut-off of mandate orders failed; they wait for the next one", "tenant", tenant, "err", err)
		e.mu.Lock()
		e.mandates[tenant] = true
		e.mu.Unlock()
		return
	}
	if b != nil {
		e.d.log.Info("batch cut", "tenant", tenant, "channel", autogiroChannel, "batch", b.ID, "mandate_orders", len(b.Deliveries))
		r.q.push(job{id: b.ID, batch: true})
	}
}

// mandateRenderer is the AutoGiro channel's second kind of file.
type mandateRenderer interface {
	RenderMandates(key string, created time.Time, bl outbound.Biller, orders []ag.MandateRequest) (outbound.Message, error)
}

// sendMandates sends a batch of mandate orders as one sealed file.
func (e *engine) sendMandates(ctx context.Context, r *runner, b *store.Batch) {
	var reqs []ag.MandateRequest
	err := e.d.store.View(func(tx store.Tx) error {
		for _, id := range b.Deliveries {
			o, err := tx.MandateOrder(b.Tenant, id)
			if err != nil {
				return err
			}
			reqs = append(reqs, mandateRequest(o))
		}
		return nil
	})
	if err != nil {
		e.d.log.Error("mandate batch cannot be loaded", "batch", b.ID, "err", err)
		return
	}
	l := r.l.get()
	biller, err := e.d.biller(b.Tenant)
	var msg outbound.Message
	if err == nil {
		if mr, ok := l.batch.(mandateRenderer); ok {
			msg, err = mr.RenderMandates(b.ID, b.Created, biller, reqs)
		} else {
			err = outbound.Permanentf("channel %s cannot write mandate files", b.Channel)
		}
	}
	if sent, err, ok := e.transmit(ctx, r, l, nil, msg, err); ok {
		e.recordMandates(b.ID, msg.Name, sent, err)
	}
}

// recordMandates applies the outcome of sending a mandate file to the batch
// and its orders, and schedules a retry of the same file when it failed
// for a while.
func (e *engine) recordMandates(batchID, name string, sent outbound.Sent, sendErr error) {
	now := time.Now().UTC()
	cfg := e.d.live.Load().Delivery
	var b *store.Batch
	err := e.d.store.Update(func(tx store.Tx) (err error) {
		if b, err = tx.Batch(batchID); err != nil {
			return err
		}
		b.Attempts++
		b.Updated = now
		var state store.MandateState
		reason := ""
		switch {
		case sendErr == nil:
			b.State, b.Ref, b.LastError = store.DeliveryDelivered, sent.Ref, ""
			state, reason = store.MandateSent, "sent to Bankgirot in file "+name
		case retryable(sendErr, b.Attempts, b.Created, cfg, now):
			b.State, b.LastError = store.DeliveryRetrying, sendErr.Error()
			b.NextAt = now.Add(backoff(b.Attempts, time.Duration(cfg.BackoffMin), time.Duration(cfg.BackoffMax), sendErr))
			state = store.MandateRetrying
			reason = fmt.Sprintf("file %s: attempt %d failed (%v); next try %s", name, b.Attempts, sendErr, b.NextAt.Format(time.RFC3339))
		default:
			b.State, b.LastError = store.DeliveryFailed, sendErr.Error()
			state, reason = store.MandateFailed, fmt.Sprintf("file %s could not be sent after %d attempts: %v", name, b.Attempts, sendErr)
		}
		for _, id := range b.Deliveries {
			o, err := tx.MandateOrder(b.Tenant, id)
			if err != nil {
				return err
			}
			o.State, o.FileName, o.Reason, o.Updated = state, name, reason, now
			if err := tx.PutMandateOrder(o); err != nil {
				return err
			}
		}
		return tx.PutBatch(b)
	})
	if err != nil {
		e.d.log.Error("recording a mandate file outcome failed", "batch", batchID, "err", err)
		return
	}
	e.d.metrics.deliveryAttempt(autogiroChannel)
	if sendErr != nil {
		e.d.metrics.deliveryError(autogiroChannel, outbound.ClassOf(sendErr).String())
		e.d.log.Warn("mandate file failed", "tenant", b.Tenant, "batch", batchID, "file", name, "state", b.State, "err", sendErr)
	} else {
		e.d.log.Info("mandate file sent", "tenant", b.Tenant, "batch", batchID, "file", name, "orders", len(b.Deliveries))
	}
	if b.State == store.DeliveryRetrying {
		e.schedule(job{id: batchID, batch: true}, autogiroChannel, b.NextAt)
	}
}
