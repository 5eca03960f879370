// Package collection is payment collection, a subsystem beside
// distribution: the files the collection channels' clearing houses send
// back (mandates given and ended, payments made, stopped or moved, what
// payers paid themselves), which each channel reads (outbound.BankFiles)
// and this package applies by one path to the registry and to each
// invoice's payment state; the biller's AutoGiro mandate orders (sent as
// mandate files by the AutoGiro channel, as a deliver.BatchSource); and
// the receivers' reports that fail a delivery after the fact (the bank's
// e-faktura report, an SMS gateway's delivery report).
//
// It is fed by the inbox (its Appliers, which intake asks), the operators'
// API and the public listener's callbacks; it tells the delivery part
// what to queue (Delivery) and the receipt writer which files changed
// (Receipts). It does not route a document (package route decides the
// payment of a new invoice) and does not send (package deliver).
package collection

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// The registry channels of a collection channel's mandates that are not
// (yet) active. A mandate a payer asked for (AutoGiro's internet-bank
// mandates) waits for the biller's answer; one under enquiry at the
// payer's bank waits for the bank, and the clearing house will say how it
// went: the biller has nothing to answer. Both become active only with the
// clearing house's word.
func requestChannel(channel string) string { return channel + "-request" }
func enquiryChannel(channel string) string { return channel + "-enquiry" }

// BankFiles are the files the collection channels' clearing houses send
// back through a tenant's inbox (Bankgirot's for AutoGiro, Nets' for
// AvtaleGiro), as intake applies them: each channel that is an
// outbound.BankFiles tells its own by their first bytes and reads them,
// and they are applied here, by one path.
func (c *Collection) BankFiles() Applier { return bankFiles{c} }

type bankFiles struct{ c *Collection }

// channel is the channel whose file the first bytes are, or "".
func (f bankFiles) channel(head []byte) (string, outbound.BankFiles) {
	for _, name := range f.c.Channels.Names() {
		ch, _, _ := f.c.Channels.Channel(name)
		if bf, ok := ch.(outbound.BankFiles); ok && bf.SniffBankFile(head) {
			return name, bf
		}
	}
	return "", nil
}

func (f bankFiles) Sniff(head []byte) bool {
	name, _ := f.channel(head)
	return name != ""
}

// Apply applies a clearing house's file whole, in one transaction, or
// nothing, with the error saying why (intake rejects the file with it):
// mandates to the registry, payments to the invoices' payment states.
func (f bankFiles) Apply(rec *store.File, r io.ReaderAt) error {
	c := f.c
	head := make([]byte, formats.SniffSize)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("cannot read the file: %w", err)
	}
	channel, bf := f.channel(head[:n])
	if bf == nil {
		return errors.New("the file is no longer one any channel reads (the configuration was reloaded)")
	}
	t, known := c.Tenant(rec.Tenant)
	if !known {
		return fmt.Errorf("tenant %s is not configured", rec.Tenant)
	}
	file, err := bf.ReadBankFile(io.NewSectionReader(r, 0, rec.Size), deliver.BillerOf(t))
	if err != nil {
		return err
	}
	d, _ := c.Channels.Descriptor(channel)
	now := time.Now().UTC()
	var sum *tally
	err = c.Store.Update(func(tx store.Tx) error {
		sum = &tally{files: map[string]bool{}}
		a := &bankApply{tx: tx, tenant: rec.Tenant, desc: d, source: "bank file " + rec.Name, now: now, sum: sum}
		for _, m := range file.Mandates {
			if err := a.mandate(m); err != nil {
				return err
			}
		}
		if file.Complete {
			if err := a.unlisted(file.Mandates); err != nil {
				return err
			}
		}
		for _, p := range file.Payments {
			if err := a.payment(p); err != nil {
				return err
			}
		}
		rf, err := tx.File(rec.ID)
		if err != nil {
			return err
		}
		rf.Format, rf.State = channel, store.FileApplied
		rf.Reason = fmt.Sprintf("%s applied: %s", file.What, sum.summary(file.Tallies))
		return tx.PutFile(rf)
	})
	if err != nil {
		return fmt.Errorf("%s: nothing applied: %w", file.What, err)
	}
	c.Log.Info("bank file applied", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "channel", channel, "kind", file.What, "summary", sum.summary(file.Tallies))
	for id := range sum.files {
		c.Receipts.Touch(id)
	}
	return nil
}

// tally counts what one bank file changed, for its receipt.
type tally struct {
	n     map[string]int
	seen  []string
	files map[string]bool // the input files whose documents changed
}

func (t *tally) add(what string) {
	if what == "" {
		return
	}
	if t.n == nil {
		t.n = map[string]int{}
	}
	if t.n[what] == 0 {
		t.seen = append(t.seen, what)
	}
	t.n[what]++
}

// summary says what was counted, in the channel's order, then the rest in
// the order seen: "2 mandates active, 4 mandates cancelled".
func (t *tally) summary(order []string) string {
	var parts []string
	done := map[string]bool{}
	for _, what := range append(append([]string(nil), order...), t.seen...) {
		if n := t.n[what]; n > 0 && !done[what] {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
			done[what] = true
		}
	}
	if len(parts) == 0 {
		return "nothing in it changes the registry or an invoice"
	}
	return strings.Join(parts, ", ")
}

// bankApply is one bank file being applied, in one transaction.
type bankApply struct {
	tx     store.Tx
	tenant string
	desc   outbound.Descriptor // the collection channel whose file it is
	source string              // "bank file NAME"
	now    time.Time
	sum    *tally
}

// at names a line of the file, as reasons and the registry cite it.
func (a *bankApply) at(line int) string {
	if line <= 0 {
		return a.source
	}
	return fmt.Sprintf("%s line %d", a.source, line)
}

// key is the registry key of a payer's mandates on the channel.
func (a *bankApply) key(payer string) store.RecipientKey {
	return route.MandateKey(a.desc, payer, a.now)
}

// mandate applies one mandate the file reports.
func (a *bankApply) mandate(m outbound.Mandate) error {
	src := a.at(m.Line)
	from := m.From
	if from.IsZero() {
		from = a.now
	}
	a.sum.add(m.Tally)
	ch := a.desc.Name
	switch m.State {
	case outbound.MandateRequested:
		return a.register(m.Payer, m.PersonalID, requestChannel(ch), src, from)
	case outbound.MandateEnquiry:
		return a.register(m.Payer, m.PersonalID, enquiryChannel(ch), src, from)
	case outbound.MandateEnded:
		return a.cancel(m.Payer, from, m.Reason, src)
	}
	if m.Note != "" {
		src += " (" + m.Note + ")"
	}
	return a.register(m.Payer, m.PersonalID, ch, src, from)
}

// register records a mandate (or a request or enquiry) for a payer,
// replacing the payer's earlier one on that registry channel (kept as
// history). An active mandate answers the request and the enquiry.
func (a *bankApply) register(payer, personalID, channel, src string, from time.Time) error {
	key := a.key(payer)
	if key.Value == "" {
		return fmt.Errorf("%s: no payer", src)
	}
	answered := []string{channel}
	if channel == a.desc.Name {
		answered = append(answered, requestChannel(channel), enquiryChannel(channel))
	}
	for _, ch := range answered {
		if _, err := registry.RevokeActive(a.tx, a.tenant, key, ch, from, src); err != nil {
			return err
		}
	}
	keys := []store.RecipientKey{key}
	if pnr, err := recipients.NormaliseKey(store.KeyPNR, personalID, a.now); err == nil {
		keys = append(keys, store.RecipientKey{Type: store.KeyPNR, Value: pnr})
	}
	return a.tx.PutRegistration(&store.Registration{Tenant: a.tenant, Keys: keys, Channel: channel, Address: key.Value,
		Source: src, ValidFrom: from, Created: a.now})
}

// cancel ends a payer's mandate, and whatever waited on it: a request or
// enquiry, and the orders still queued for the next file, which the
// clearing house would reject without a mandate.
func (a *bankApply) cancel(payer string, at time.Time, why, src string) error {
	key := a.key(payer)
	n := 0
	for _, ch := range []string{a.desc.Name, requestChannel(a.desc.Name), enquiryChannel(a.desc.Name)} {
		m, err := registry.RevokeActive(a.tx, a.tenant, key, ch, at, src)
		if err != nil {
			return err
		}
		n += m
	}
	if n == 0 {
		// No mandate was known here: keep the cancellation itself as
		// history, so routing can say why a payer is not collected.
		if err := a.tx.PutRegistration(&store.Registration{Tenant: a.tenant, Keys: []store.RecipientKey{key}, Channel: a.desc.Name,
			Address: key.Value, Source: src, ValidFrom: at, RevokedAt: at, RevokedBy: src, Created: a.now}); err != nil {
			return err
		}
	}
	return a.dropQueued(payer, why, src)
}

// unlisted ends the channel's active mandates that a complete list (Nets'
// full list of the payee's mandates) does not name.
func (a *bankApply) unlisted(listed []outbound.Mandate) error {
	named := map[string]bool{}
	for _, m := range listed {
		named[a.key(m.Payer).Value] = true
	}
	var ended []string
	err := a.tx.ForEachRegistration(a.tenant, func(r *store.Registration) error {
		if r.Channel != a.desc.Name || !r.Active(a.now) {
			return nil
		}
		for _, k := range r.Keys {
			if k.Type == a.desc.Address && !named[k.Value] {
				ended = append(ended, k.Value)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, payer := range ended {
		a.sum.add(outbound.TallyNotListed)
		if err := a.cancel(payer, a.now, "the mandate is not on the full list of active mandates", a.source); err != nil {
			return err
		}
	}
	return nil
}

// dropQueued drops the payer's orders that still wait for the next file:
// the mandate they need is gone. An order already in a delivered file is
// the clearing house's to cancel (AutoGiro reports it as a cancellation).
func (a *bankApply) dropQueued(payer, why, src string) error {
	var ids []string
	if err := a.tx.ForEachCollectionRef(a.tenant, route.PayerKey(payer), func(_, _, docID string) error {
		ids = append(ids, docID)
		return nil
	}); err != nil {
		return err
	}
	for _, id := range ids {
		dl, err := a.tx.Delivery(store.DeliveryID(id, a.desc.Name))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if dl.State != store.DeliveryQueued {
			continue
		}
		dropped := false
		err = a.update(id, func(doc *store.Doc, c *store.Collection) bool {
			if c.Method != a.desc.Name || c.State != store.PaymentScheduled || c.AtBank || a.key(c.Payer) != a.key(payer) {
				return false
			}
			c.State, c.Reason = store.PaymentCancelled, fmt.Sprintf("withdrawal dropped before its file went out: %s, %s", why, src)
			dropped = true
			return true
		})
		if err != nil || !dropped {
			return err
		}
		dl.State, dl.LastError, dl.Updated = store.DeliveryFailed, "dropped: "+why+", "+src, a.now
		if err := a.tx.PutDelivery(dl); err != nil {
			return err
		}
		a.sum.add(outbound.TallyDropped)
	}
	return nil
}
