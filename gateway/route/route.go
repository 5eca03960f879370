// Package route decides where a document goes and how it is paid: it
// validates the document against the tenant's rules, refuses duplicates,
// decides the payment (a direct debit by a collection channel beside
// distribution, or how the payer pays), asks each channel of the tenant's priority list whether
// it can reach the recipient, and moves a document to its next channel
// when one fails. Every decision is recorded with its reason on the
// document and in its history.
//
// It is pure: it does no I/O, starts nothing and keeps no state. It works
// inside the caller's transaction (store.Tx), over the channels the
// caller has (Channels), with the tenant's configuration; the caller
// records, queues and sends. That is what makes it testable without a
// daemon, and what `multikanal convert` runs offline.
//
// It is not the registry (package registry keeps who wants which
// channel; routing asks it) and it does not deliver (package deliver).
package route

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// Channels is what routing asks of the channels the gateway runs (the
// delivery part's lanes answer it).
type Channels interface {
	// Channel is the named channel and whether it sends in batches; ok is
	// false when the gateway has no such channel.
	Channel(name string) (ch outbound.Channel, batch, ok bool)
	// Descriptor is what the named channel says about itself; ok is
	// false when the gateway has no such channel.
	Descriptor(name string) (d outbound.Descriptor, ok bool)
	// Names are the channels the gateway runs.
	Names() []string
}

// Tx is what routing reads and writes in the caller's transaction: the
// documents, the delivery queue, the registry and payment collection's
// references, and the files (a duplicate is told by its first file).
type Tx interface {
	store.FileTx
	store.DocTx
	store.QueueTx
	store.RegistryTx
	store.CollectionTx
}

// Route validates a parsed document, decides its channel and creates its
// first delivery. It records every decision with its reason on doc and in
// its history. It returns the delivery to queue, or nil when the document
// ends here (rejected, held, or no channel reaches the recipient), and the
// payment collection delivery when there is one.
func Route(tx Tx, chans Channels, t config.Tenant, doc *store.Doc, body *formats.Document, now time.Time) (*store.Delivery, *store.Delivery, error) {
	return RouteValidated(tx, chans, t, doc, body, now, Validate(t, body, now))
}

// Validate completes a letter's seller from its tenant and validates the
// document as Route does. It needs no transaction, so intake does it
// before one, on every core.
func Validate(t config.Tenant, body *formats.Document, now time.Time) formats.Problems {
	fromTenant(t, body)
	return validate.Document(body, ValidateOptions(t, now))
}

// RouteValidated is Route for a document validated already (Validate).
func RouteValidated(tx Tx, chans Channels, t config.Tenant, doc *store.Doc, body *formats.Document, now time.Time, problems formats.Problems) (*store.Delivery, *store.Delivery, error) {
	event := func(state store.DocState, channel, reason string) error {
		doc.State, doc.Updated = state, now
		return tx.AppendEvent(doc, store.Event{At: now, State: state, Channel: channel, Reason: reason})
	}
	doc.Problems = problems
	if errs := problems.Errors(); len(errs) > 0 {
		doc.Reason = errs.Error()
		return nil, nil, event(store.DocRejected, "", doc.Reason)
	}
	if key, ok := Held(t, body); ok {
		doc.Reason = "held: recipient " + key + " is on the tenant's do-not-send list"
		return nil, nil, event(store.DocHeld, "", doc.Reason)
	}
	if refused, err := duplicate(tx, t, doc, body, now); refused || err != nil {
		return nil, nil, err
	}
	reminded, err := remindedInvoice(tx, doc, body)
	if p := (formats.Problem{}); errors.As(err, &p) {
		doc.Problems = append(doc.Problems, p)
		doc.Reason = p.Error()
		return nil, nil, event(store.DocRejected, "", doc.Reason)
	}
	if err != nil {
		return nil, nil, err
	}
	reg := Lookup(tx, chans, doc.Tenant, now)
	// How the customer pays is decided before the channels are asked:
	// what a channel can carry (Peppol's rules, e-faktura's) depends on it.
	collect, err := collection(tx, chans, t, reg, doc, body, now)
	if p := (formats.Problem{}); errors.As(err, &p) {
		doc.Problems = append(doc.Problems, p)
		doc.Reason = p.Error()
		return nil, nil, event(store.DocRejected, "", doc.Reason)
	}
	if err != nil {
		return nil, nil, err
	}
	// Deciding reads the registry only: each channel may ask for the same
	// recipient's registrations, read once (Memo).
	doc.Route = Decide(t.Priority, chans, reg.Memo(), body)
	if err := followInvoice(tx, doc, body); err != nil {
		return nil, nil, err
	}
	if err := markCredited(tx, doc, body, now); err != nil {
		return nil, nil, err
	}
	if body.Kind == formats.KindInvoice && body.Number != "" {
		if err := tx.PutNumberRef(doc.Tenant, body.Number, doc.ID); err != nil {
			return nil, nil, err
		}
	}
	if err := indexPaymentRefs(tx, chans, doc, body); err != nil {
		return nil, nil, err
	}
	doc.Tried = 0
	if err := event(store.DocRouted, "", Summary(doc.Route)); err != nil {
		return nil, nil, err
	}
	dl, err := Next(tx, chans, doc, now, "")
	if err == nil {
		err = linkReminder(tx, reminded, doc, body, dl, now)
	}
	return dl, collect, err
}

// followInvoice puts a credit note on the route of the invoice it credits:
// the buyer should find both in the same place. When that channel cannot
// reach the buyer now, the normal priority stands and the reason says so.
func followInvoice(tx store.DocTx, doc *store.Doc, body *formats.Document) error {
	if body.Kind != formats.KindCreditNote || len(body.Preceding) == 0 || len(doc.Route) == 0 {
		return nil
	}
	number := body.Preceding[0].Number
	id, err := tx.NumberRef(doc.Tenant, number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	inv, err := tx.Doc(id)
	if err != nil || inv.Channel == "" {
		return err
	}
	for i, step := range doc.Route {
		if step.Channel != inv.Channel {
			continue
		}
		if !step.Eligible {
			doc.Route[i].Reason += fmt.Sprintf(" (invoice %s went by %s, but this credit note cannot)", number, inv.Channel)
			return nil
		}
		step.Reason = fmt.Sprintf("credit note follows invoice %s (%s), sent by %s; %s", number, inv.ID, inv.Channel, step.Reason)
		doc.Route = append([]store.RouteStep{step}, append(doc.Route[:i:i], doc.Route[i+1:]...)...)
		return nil
	}
	return nil
}

// Lookup asks the tenant's registry in tx as of now, each channel's
// address key type as its descriptor says.
func Lookup(tx store.RegistryTx, chans Channels, tenant string, now time.Time) registry.Lookup {
	return registry.NewLookup(tx, tenant, now, func(channel string) string {
		d, _ := chans.Descriptor(channel)
		return d.Address
	})
}

// ChannelList answers Channels from channels made offline with their
// descriptors, each sending in batches when it renders batches: what
// `convert` has.
type ChannelList []Listed

// Listed is a channel of a ChannelList.
type Listed struct {
	Channel    outbound.Channel
	Descriptor outbound.Descriptor
}

func (cl ChannelList) find(name string) (Listed, bool) {
	for _, l := range cl {
		if l.Channel.Name() == name {
			return l, true
		}
	}
	return Listed{}, false
}

// Channel implements Channels.
func (cl ChannelList) Channel(name string) (outbound.Channel, bool, bool) {
	l, ok := cl.find(name)
	if !ok {
		return nil, false, false
	}
	_, batch := l.Channel.(outbound.BatchRenderer)
	return l.Channel, batch, true
}

// Descriptor implements Channels.
func (cl ChannelList) Descriptor(name string) (outbound.Descriptor, bool) {
	l, ok := cl.find(name)
	return l.Descriptor, ok
}

// Names implements Channels.
func (cl ChannelList) Names() []string {
	names := make([]string, len(cl))
	for i, l := range cl {
		names[i] = l.Channel.Name()
	}
	return names
}

// Decide asks every channel of the priority list (or only the forced one)
// whether it can reach the recipient, the registry answering what it
// knows. `convert` asks it with no registry.
func Decide(priority []string, chans Channels, reg outbound.Registry, body *formats.Document) []store.RouteStep {
	forced := strings.ToLower(strings.TrimSpace(body.ForcedChannel))
	if forced != "" {
		if _, _, ok := chans.Channel(forced); !ok {
			return []store.RouteStep{{Channel: forced, Reason: fmt.Sprintf("forced channel %q is not a channel of this gateway", forced)}}
		}
		priority = []string{forced}
	}
	steps := make([]store.RouteStep, 0, len(priority))
	for _, name := range priority {
		ch, _, ok := chans.Channel(name)
		if !ok {
			steps = append(steps, store.RouteStep{Channel: name, Reason: "channel not configured"})
			continue
		}
		if len(body.Channels) > 0 && !slices.Contains(body.Channels, name) {
			steps = append(steps, store.RouteStep{Channel: name, Reason: "not among the channels the input allows (" + strings.Join(body.Channels, ", ") + ")"})
			continue
		}
		if d, ok := chans.Descriptor(name); ok && !d.CarriesKind(body.Kind) {
			steps = append(steps, store.RouteStep{Channel: name, Reason: fmt.Sprintf("the channel does not carry documents of kind %s", body.Kind)})
			continue
		}
		e := ch.Eligible(body, reg)
		reason := e.Reason
		if forced != "" {
			reason = "forced by the input; " + reason
		}
		steps = append(steps, store.RouteStep{Channel: name, Eligible: e.OK, Address: e.Address, Reason: reason})
	}
	return steps
}

// Next moves the document to the next eligible route step after the ones
// already tried, and returns its delivery, or marks it dead when none is
// left (why, when given, says why the last one did not do).
func Next(tx Tx, chans Channels, doc *store.Doc, now time.Time, why string) (*store.Delivery, error) {
	for doc.Tried < len(doc.Route) {
		step := doc.Route[doc.Tried]
		doc.Tried++
		if !step.Eligible {
			continue
		}
		_, batch, _ := chans.Channel(step.Channel)
		dl := &store.Delivery{
			ID: doc.DeliveryID(step.Channel), DocID: doc.ID, Tenant: doc.Tenant, Channel: step.Channel,
			To: step.Address, State: store.DeliveryQueued, Batched: batch, Created: now, Updated: now,
		}
		if err := tx.PutDelivery(dl); err != nil {
			return nil, err
		}
		doc.Channel, doc.Address = step.Channel, step.Address
		doc.Reason = step.Channel + ": " + step.Reason
		if why != "" {
			doc.Reason = why + "; next: " + doc.Reason
		}
		doc.State, doc.Updated = store.DocQueued, now
		return dl, tx.AppendEvent(doc, store.Event{At: now, State: store.DocQueued, Channel: step.Channel, Reason: doc.Reason})
	}
	doc.Channel, doc.Address = "", ""
	doc.Reason = "no channel can reach the recipient: " + Summary(doc.Route)
	if why != "" {
		doc.Reason = why + "; no channel left: " + Summary(doc.Route)
	}
	doc.State, doc.Updated = store.DocDead, now
	return nil, tx.AppendEvent(doc, store.Event{At: now, State: store.DocDead, Reason: doc.Reason})
}

// Summary explains a route in one line: "peppol: no electronic address
// (BT-49) on the buyer; email: address in the invoice (buyer contact)".
func Summary(steps []store.RouteStep) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		mark := "skipped, "
		if s.Eligible {
			mark = ""
		}
		parts = append(parts, s.Channel+": "+mark+s.Reason)
	}
	return strings.Join(parts, "; ")
}

// Held reports whether the document's recipient is on the tenant's
// do-not-send list, matching any of the recipient's keys, and which key.
func Held(t config.Tenant, body *formats.Document) (string, bool) {
	if len(t.DoNotSend) == 0 {
		return "", false
	}
	b := body.Buyer
	keys := []string{b.CustomerNumber, b.PersonalID, b.LegalID.Value, b.Endpoint.Value, b.Contact.Email, body.MandateReference()}
	if m, ok := formats.SwedishMobile(b.Contact.Phone); ok {
		keys = append(keys, m)
	}
	for _, k := range keys {
		if k != "" && slices.Contains(t.DoNotSend, k) {
			return k, true
		}
	}
	return "", false
}

// FailDelivered fails, after the fact, a delivery the transport had taken:
// the receiver reports it did not arrive (an SMS report, the bank's
// e-faktura report) or never confirmed it. When the document still rests on
// that delivery, it moves on to its next eligible channel, whose delivery is
// returned for the caller to queue; a repeated report finds it moved on and
// does nothing. The delivery and the document are put when they change.
func FailDelivered(tx Tx, chans Channels, dl *store.Delivery, doc *store.Doc, why string, now time.Time) (*store.Delivery, error) {
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
	next, err := Next(tx, chans, doc, now, dl.Channel+" failed: "+why)
	if err != nil {
		return nil, err
	}
	return next, tx.PutDoc(doc)
}
