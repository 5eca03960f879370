package collection

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	agchannel "github.com/multikanal/multikanal/outbound/autogiro"
)

// A biller manages its AutoGiro mandates through the gateway: it asks for
// new mandates, answers the ones payers signed in their internet bank,
// cancels mandates and changes payer numbers. The orders come from the API
// (`multikanal mandates`) or as the biller's own mandate file dropped into
// the inbox; they are collected and sent as one sealed mandate file at the
// AutoGiro channel's cut-off, on its transport, beside the payment files.
// The registry changes only when Bankgirot's mandate advice says so.
// This file is AutoGiro's own: the orders, their API and their files are
// Bankgirot's protocol (manual 7.2), which no other collection channel
// shares.

// The registry channels of AutoGiro's mandates that wait: internet-bank
// mandates the biller answers, and mandates under enquiry at the payer's
// bank (see requestChannel).
var (
	autogiroRequest = requestChannel(agchannel.Name)
	autogiroEnquiry = enquiryChannel(agchannel.Name)
)

// agreementOf is the tenant's AutoGiro agreement, or nil.
func agreementOf(t config.Tenant) *agchannel.Agreement {
	a, _ := t.Agreements[agchannel.Name].(*agchannel.Agreement)
	return a
}

// The actions of mandate orders are the API's (api.actionNew...):
// an order is what the biller asks for, in its words.
const (
	actionNew     = api.MandateActionNew
	actionApprove = api.MandateActionApprove
	actionReject  = api.MandateActionReject
	actionCancel  = api.MandateActionCancel
	actionChange  = api.MandateActionChange
)

// Orders is what a tenant has of mandates in the works: its orders, the
// internet-bank mandates that wait for its answer, and the mandates under
// enquiry at the payer's bank, which wait for no answer from the biller.
type Orders struct {
	Orders           []*store.MandateOrder
	AwaitingApproval []*store.Registration
	UnderEnquiry     []*store.Registration
}

// mandateRequest turns an order into the record Bankgirot receives.
func mandateRequest(o *store.MandateOrder) ag.MandateRequest {
	r := ag.MandateRequest{PayerNumber: o.Payer}
	switch o.Action {
	case actionNew:
		r.Type, r.Account, r.PersonalID = ag.MandateNew, o.Account, o.PersonalID
	case actionApprove:
		r.Type = ag.MandateNew
	case actionReject:
		r.Type, r.Reject = ag.MandateNew, true
	case actionCancel:
		r.Type = ag.MandateCancel
	case actionChange:
		r.Type, r.NewPayerNumber = ag.MandateChangePayerNumber, o.NewPayer
	}
	return r
}

// QueueOrders checks the orders and records them for the next
// AutoGiro cut-off: all of them or, when one is wrong, none, with the
// order's number, payer and rule in the error. An order equal to one that
// is still waiting is not queued twice; the waiting one is returned.
func (c *Collection) QueueOrders(tenant, source string, reqs []api.MandateOrderRequest) ([]*store.MandateOrder, error) {
	return c.queueOrders(tenant, source, reqs, true)
}

// queueOrders queues orders. Strict is for orders typed into the
// API: an approval or rejection must answer an internet-bank mandate the
// registry knows, and a personal identity number must have its check
// digit. A biller's own file is taken as its word: it may answer requests
// it learnt of elsewhere (Bankgirot's own example does both), and
// Bankgirot's mandate advice will say what it refused.
func (c *Collection) queueOrders(tenant, source string, reqs []api.MandateOrderRequest, strict bool) ([]*store.MandateOrder, error) {
	t, ok := c.Tenant(tenant)
	if !ok {
		return nil, errkind.New(errkind.NotFound, "no tenant %s", tenant)
	}
	a := agreementOf(t)
	if a == nil {
		return nil, errkind.New(errkind.Conflict, "tenant %s has no AutoGiro agreement configured ([tenant.autogiro])", tenant)
	}
	if len(reqs) == 0 {
		return nil, errkind.New(errkind.Invalid, "no mandate orders given")
	}
	now := time.Now().UTC()
	orders := make([]*store.MandateOrder, len(reqs))
	for i, rq := range reqs {
		o, err := newMandateOrder(tenant, source, rq, now, strict)
		if err != nil {
			return nil, errkind.New(errkind.Invalid, "order %d (payer %s): %w", i+1, rq.Payer, err)
		}
		// The writer has the last word on every field.
		f := ag.MandateFile{WriteDate: ag.DateOf(now), CustomerNumber: a.CustomerNumber,
			PayeeBankgiro: a.Bankgiro, Requests: []ag.MandateRequest{mandateRequest(o)}}
		if _, err := f.WriteTo(io.Discard); err != nil {
			var agErr *ag.Error
			if errors.As(err, &agErr) {
				err = fmt.Errorf("%s: %s", agErr.Rule, agErr.Msg)
			}
			return nil, errkind.New(errkind.Invalid, "order %d (payer %s): %w", i+1, rq.Payer, err)
		}
		orders[i] = o
	}
	err := c.Store.Update(func(tx store.Tx) error {
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
			if strict && (o.Action == actionApprove || o.Action == actionReject) {
				if ok, why := awaitsApproval(tx, tenant, o.Payer, now); !ok {
					return errkind.New(errkind.Invalid, "order %d (payer %s): %s: %s", i+1, o.Payer, o.Action, why)
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
	c.Log.Info("mandate orders queued", "tenant", tenant, "source", source, "orders", len(orders))
	c.Delivery.Waiting(store.BatchMandates, tenant)
	return orders, nil
}

// newMandateOrder checks what the gateway can check beyond the record
// layout: the action, the fields it takes and, when strict, the personal
// identity number's check digit.
func newMandateOrder(tenant, source string, rq api.MandateOrderRequest, now time.Time, strict bool) (*store.MandateOrder, error) {
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
	case actionNew:
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
	case actionApprove, actionReject, actionCancel, actionChange:
		if err := errors.Join(extra("account", rq.Account), extra("personal_id", rq.PersonalID)); err != nil {
			return nil, err
		}
		if o.Action == actionChange {
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
	return strings.Join([]string{o.Action, route.PayerKey(o.Payer), o.Account, o.PersonalID, route.PayerKey(o.NewPayer)}, "|")
}

// awaitsApproval reports whether the payer signed a mandate in an internet
// bank that the biller has not answered: only such a mandate (type 2 in the
// mandate register, manual 8.8; a TK52 of the file of new internet-bank
// mandates, 8.6) is the biller's to approve or reject. When there is none,
// it says why, naming a mandate under enquiry at the payer's bank (status
// 2 "under förfrågan") or an active one, which have nothing to answer.
func awaitsApproval(tx store.Tx, tenant, payer string, now time.Time) (bool, string) {
	regs, err := tx.Registrations(tenant, store.RecipientKey{Type: store.KeyCustomer, Value: route.PayerKey(payer)})
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
		case agchannel.Name:
			why = fmt.Sprintf("the payer's mandate is already active (%s)", r.Source)
		}
	}
	return false, why
}

// ListOrders returns the tenant's orders, newest first, the internet-bank
// mandates waiting for an answer and the mandates under enquiry at the
// payer's bank.
func (c *Collection) ListOrders(tenant string) (*Orders, error) {
	if _, ok := c.Tenant(tenant); !ok {
		return nil, errkind.New(errkind.NotFound, "no tenant %s", tenant)
	}
	out := &Orders{Orders: []*store.MandateOrder{}, AwaitingApproval: []*store.Registration{}, UnderEnquiry: []*store.Registration{}}
	now := time.Now()
	err := c.Store.View(func(tx store.Tx) error {
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

// OrderFiles are the biller's own AutoGiro order files to Bankgirot dropped
// into the inbox, as intake applies them (before the clearing houses'
// files, BankFiles, which they resemble): the orders of a mandate file are
// queued for Bankgirot; a payment or amendment order file is refused, as
// the gateway writes payment files from the invoices it sends.
func (c *Collection) OrderFiles() Applier { return orderFiles{c} }

type orderFiles struct{ c *Collection }

func (orderFiles) Sniff(head []byte) bool { return ag.SniffOrders(head) }

func (o orderFiles) Apply(rec *store.File, r io.ReaderAt) error {
	f, err := ag.Parse(io.NewSectionReader(r, 0, rec.Size))
	if err != nil {
		return fmt.Errorf("AutoGiro file: %w", err)
	}
	t, known := o.c.Tenant(rec.Tenant)
	a := agreementOf(t)
	if !known || a == nil {
		return fmt.Errorf("AutoGiro file (%s): the tenant has no AutoGiro agreement configured ([tenant.autogiro])", f.Kind.Swedish())
	}
	if f.Kind != ag.KindMandateOrders {
		return fmt.Errorf("AutoGiro file (%s): a file to Bankgirot; the gateway writes payment files from the invoices it sends and forwards only mandate orders", f.Kind.Swedish())
	}
	return o.c.queueMandateFile(rec, a, f)
}

// queueMandateFile queues the orders of a mandate file the biller dropped
// into the inbox (its own medgivandeunderlag, sealed or not): they are sent
// again, sealed with the tenant's key, at the next cut-off.
func (c *Collection) queueMandateFile(rec *store.File, a *agchannel.Agreement, f *ag.File) error {
	var reqs []api.MandateOrderRequest
	for _, r := range f.Records {
		m, ok := r.(*ag.MandateRequest)
		if !ok {
			continue
		}
		rq := api.MandateOrderRequest{Payer: m.PayerNumber}
		switch {
		case m.Type == ag.MandateCancel:
			rq.Action = actionCancel
		case m.Type == ag.MandateChangePayerNumber:
			rq.Action, rq.NewPayer = actionChange, m.NewPayerNumber
		case m.Reject:
			rq.Action = actionReject
		case m.Account != "" || m.PersonalID != "":
			rq.Action, rq.Account, rq.PersonalID = actionNew, m.Account, m.PersonalID
		default:
			// A TK04 with only a payer number registers a mandate on the
			// payer's bankgiro or answers an internet-bank mandate yes.
			rq.Action = actionApprove
			if err := c.Store.View(func(tx store.Tx) error {
				if ok, _ := awaitsApproval(tx, rec.Tenant, m.PayerNumber, time.Now()); !ok {
					rq.Action = actionNew
				}
				return nil
			}); err != nil {
				rq.Action = actionNew
			}
		}
		reqs = append(reqs, rq)
	}
	if bg := strings.TrimLeft(a.Bankgiro, "0"); f.PayeeBankgiro != "" && strings.TrimLeft(formats.OnlyDigits(bg), "0") != strings.TrimLeft(f.PayeeBankgiro, "0") {
		return fmt.Errorf("AutoGiro mandate orders: nothing queued: the file is for payee bankgiro %s, not the tenant's %s", f.PayeeBankgiro, bg)
	}
	orders, err := c.queueOrders(rec.Tenant, "file "+rec.Name, reqs, false)
	if err != nil {
		return fmt.Errorf("AutoGiro mandate orders: nothing queued: %w", err)
	}
	err = c.Store.Update(func(tx store.Tx) error {
		file, err := tx.File(rec.ID)
		if err != nil {
			return err
		}
		file.Format, file.State = agchannel.Name, store.FileApplied
		file.Reason = fmt.Sprintf("%d mandate orders queued for Bankgirot (%s); they go out sealed at the AutoGiro cut-off; see multikanal mandates list", len(orders), orderSummary(orders))
		return tx.PutFile(file)
	})
	if err != nil {
		c.Log.Error("recording a mandate file failed", "file", rec.ID, "err", err)
	}
	return nil
}

func orderSummary(orders []*store.MandateOrder) string {
	n := map[string]int{}
	for _, o := range orders {
		n[o.Action]++
	}
	var parts []string
	for _, a := range []string{actionNew, actionApprove, actionReject, actionCancel, actionChange} {
		if n[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[a], a))
		}
	}
	return strings.Join(parts, ", ")
}

// Mandates are the biller's mandate orders as batches of the AutoGiro
// channel (a deliver.BatchSource): cut at its cut-offs, sent as one sealed
// mandate file on its transport beside the payment files, retried like
// them.
func (c *Collection) Mandates() deliver.BatchSource { return mandateBatches{} }

type mandateBatches struct{}

func (mandateBatches) Kind() string    { return store.BatchMandates }
func (mandateBatches) Channel() string { return agchannel.Name }

// Waiting returns the tenants with orders queued for the next cut-off.
func (mandateBatches) Waiting(tx store.Tx) (map[string]bool, error) {
	tenants := map[string]bool{}
	err := tx.ForEachMandateOrder("", func(o *store.MandateOrder) error {
		if o.State == store.MandateQueued {
			tenants[o.Tenant] = true
		}
		return nil
	})
	return tenants, err
}

// Cut turns the tenant's queued mandate orders into one batch.
func (mandateBatches) Cut(tx store.Tx, tenant string, now time.Time) (*store.Batch, error) {
	var ids []string
	var queued []*store.MandateOrder
	if err := tx.ForEachMandateOrder(tenant, func(o *store.MandateOrder) error {
		if o.State == store.MandateQueued {
			ids, queued = append(ids, o.ID), append(queued, o)
		}
		return nil
	}); err != nil || len(ids) == 0 {
		return nil, err
	}
	b := &store.Batch{ID: fmt.Sprintf("mandates-%s-%s", tenant, ids[0]), Tenant: tenant, Channel: agchannel.Name, Kind: store.BatchMandates,
		Deliveries: ids, State: store.DeliveryQueued, Created: now, Updated: now}
	for _, o := range queued {
		o.State, o.Batch, o.Updated = store.MandateBatched, b.ID, now
		if err := tx.PutMandateOrder(o); err != nil {
			return nil, err
		}
	}
	return b, tx.PutBatch(b)
}

// mandateRenderer is the AutoGiro channel's second kind of file.
type mandateRenderer interface {
	RenderMandates(key string, created time.Time, bl outbound.Biller, orders []ag.MandateRequest) (outbound.Message, error)
}

// Load reads the batch's orders; its file is one sealed mandate file.
func (mandateBatches) Load(tx store.Tx, b *store.Batch) (deliver.RenderFunc, error) {
	var reqs []ag.MandateRequest
	for _, id := range b.Deliveries {
		o, err := tx.MandateOrder(b.Tenant, id)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, mandateRequest(o))
	}
	return func(r outbound.BatchRenderer, biller outbound.Biller) (outbound.Message, error) {
		mr, ok := r.(mandateRenderer)
		if !ok {
			return outbound.Message{}, outbound.Permanentf("channel %s cannot write mandate files", b.Channel)
		}
		return mr.RenderMandates(b.ID, b.Created, biller, reqs)
	}, nil
}

// Record applies the outcome of sending a mandate file to its orders.
func (mandateBatches) Record(tx store.Tx, b *store.Batch, name string, sendErr error) error {
	var state store.MandateState
	var reason string
	switch b.State {
	case store.DeliveryDelivered:
		state, reason = store.MandateSent, "sent to Bankgirot in file "+name
	case store.DeliveryRetrying:
		state = store.MandateRetrying
		reason = fmt.Sprintf("file %s: attempt %d failed (%v); next try %s", name, b.Attempts, sendErr, b.NextAt.Format(time.RFC3339))
	default:
		state, reason = store.MandateFailed, fmt.Sprintf("file %s could not be sent after %d attempts: %v", name, b.Attempts, sendErr)
	}
	for _, id := range b.Deliveries {
		o, err := tx.MandateOrder(b.Tenant, id)
		if err != nil {
			return err
		}
		o.State, o.FileName, o.Reason, o.Updated = state, name, reason, b.Updated
		if err := tx.PutMandateOrder(o); err != nil {
			return err
		}
	}
	return nil
}
