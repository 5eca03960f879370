package gateway

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// autogiroRequest is the registry channel for mandates a payer signed in an
// internet bank: they wait for the biller's approval (a TK04 answer) and
// become active only with Bankgirot's mandate advice.
const autogiroRequest = "autogiro-request"

// bankSummary counts what one bank file changed, for its receipt.
type bankSummary struct {
	active, cancelled, requests, paid, stopped, unmatched int
	files                                                 map[string]bool
}

func (s *bankSummary) String() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(s.active, "mandates active")
	add(s.cancelled, "mandates cancelled")
	add(s.requests, "internet-bank mandates awaiting approval")
	add(s.paid, "withdrawals paid")
	add(s.stopped, "withdrawals stopped")
	add(s.unmatched, "payments not matching any invoice sent through this gateway")
	if len(parts) == 0 {
		return "nothing in it changes the registry or an invoice"
	}
	return strings.Join(parts, ", ")
}

// applyBankFile applies a Bankgirot AutoGiro file dropped into the inbox:
// mandate advice and register extracts to the registry, payment
// specifications and rejections to the invoices' collection. The file is
// applied whole, in one transaction, or not at all: a wrong record count, an
// unknown record or a mandate for another bankgiro rejects it with the line.
func (d *Daemon) applyBankFile(rec *store.File, r io.ReaderAt) {
	t := d.tenant(rec.Tenant)
	f, err := ag.Parse(io.NewSectionReader(r, 0, rec.Size))
	if err != nil {
		d.rejectFile(rec, rejectInvalid, "AutoGiro file: "+err.Error())
		return
	}
	if t == nil || t.cfg.AutoGiro == nil {
		d.rejectFile(rec, rejectInvalid, fmt.Sprintf("AutoGiro file (%s): the tenant has no AutoGiro agreement configured", f.Kind.Swedish()))
		return
	}
	switch f.Kind {
	case ag.KindMandateOrders:
		d.queueMandateFile(rec, f)
		return
	case ag.KindPaymentOrders, ag.KindAmendmentOrders, ag.KindMixedOrders:
		d.rejectFile(rec, rejectInvalid, fmt.Sprintf("AutoGiro file (%s): a file to Bankgirot; the gateway writes payment files from the invoices it sends and forwards only mandate orders", f.Kind.Swedish()))
		return
	}
	bg := strings.TrimLeft(t.cfg.AutoGiro.Bankgiro, "0")
	if bg == "" {
		bg = strings.TrimLeft(t.cfg.Bankgiro, "0")
	}
	now := time.Now().UTC()
	sum := &bankSummary{files: map[string]bool{}}
	source := "bank file " + rec.Name
	err = d.store.Update(func(tx store.Tx) error {
		*sum = bankSummary{files: map[string]bool{}}
		if f.PayeeBankgiro != "" && strings.TrimLeft(f.PayeeBankgiro, "0") != bg {
			return fmt.Errorf("the file is for payee bankgiro %s, not the tenant's %s", f.PayeeBankgiro, bg)
		}
		for _, record := range f.Records {
			if err := d.applyBankRecord(tx, rec.Tenant, bg, source, record, now, sum); err != nil {
				return err
			}
		}
		file, err := tx.File(rec.ID)
		if err != nil {
			return err
		}
		file.Format, file.State = "autogiro", store.FileApplied
		file.Reason = fmt.Sprintf("Bankgirot %s applied: %s", f.Kind.Swedish(), sum)
		return tx.PutFile(file)
	})
	if err != nil {
		d.rejectFile(rec, rejectInvalid, "AutoGiro file: nothing applied: "+err.Error())
		return
	}
	d.log.Info("bank file applied", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "kind", f.Kind.String(), "summary", sum.String())
	d.receipts.touch(rec.ID)
	for id := range sum.files {
		d.receipts.touch(id)
	}
}

func (d *Daemon) applyBankRecord(tx store.Tx, tenant, bg, source string, record ag.Record, now time.Time, sum *bankSummary) error {
	line := record.Position().LineNo
	src := fmt.Sprintf("%s line %d", source, line)
	checkBG := func(payee string) error {
		if payee != "" && strings.TrimLeft(payee, "0") != bg {
			return fmt.Errorf("line %d: record for payee bankgiro %s, not the tenant's %s", line, payee, bg)
		}
		return nil
	}
	switch x := record.(type) {
	case *ag.MandateAdvice:
		if err := checkBG(x.PayeeBankgiro); err != nil {
			return err
		}
		switch x.Effect() {
		case ag.EffectActive, ag.EffectChanged:
			sum.active++
			return registerMandate(tx, tenant, x.PayerNumber, x.PersonalID, outbound.AutoGiro, src, dateOr(x.Date, now), now)
		case ag.EffectCancelled:
			sum.cancelled++
			key := store.RecipientKey{Type: store.KeyCustomer, Value: payerKey(x.PayerNumber)}
			at := dateOr(x.Date, now)
			n, err := revokeActive(tx, tenant, key, outbound.AutoGiro, at, src)
			if err != nil || n > 0 {
				return err
			}
			// No mandate was known here: keep the cancellation itself as
			// history, so routing can say why a payer is not collected.
			return tx.PutRegistration(&store.Registration{Tenant: tenant, Keys: []store.RecipientKey{key}, Channel: outbound.AutoGiro,
				Address: key.Value, Source: src, ValidFrom: at, RevokedAt: at, RevokedBy: src, Created: now})
		}
	case *ag.InternetMandate:
		if err := checkBG(x.PayeeBankgiro); err != nil {
			return err
		}
		sum.requests++
		return registerMandate(tx, tenant, x.PayerNumber, x.PersonalID, autogiroRequest, src, now, now)
	case *ag.RegisteredMandate:
		if err := checkBG(x.PayeeBankgiro); err != nil {
			return err
		}
		if x.Pending {
			sum.requests++
			return registerMandate(tx, tenant, x.PayerNumber, x.PersonalID, autogiroRequest, src, dateOr(x.Created, now), now)
		}
		sum.active++
		return registerMandate(tx, tenant, x.PayerNumber, x.PersonalID, outbound.AutoGiro, src, dateOr(x.Created, now), now)
	case *ag.Payment:
		if err := checkBG(x.PayeeBankgiro); err != nil {
			return err
		}
		return applyPayment(tx, tenant, x, src, now, sum)
	}
	return nil
}

// registerMandate records a mandate (or a mandate request) for a payer,
// replacing the payer's earlier one on that channel (kept as history).
func registerMandate(tx store.Tx, tenant, payer, personalID, channel, src string, from, now time.Time) error {
	key := store.RecipientKey{Type: store.KeyCustomer, Value: payerKey(payer)}
	if key.Value == "" {
		return fmt.Errorf("%s: no payer number", src)
	}
	if _, err := revokeActive(tx, tenant, key, channel, from, src); err != nil {
		return err
	}
	if channel == outbound.AutoGiro {
		// The request the payer signed in the internet bank is answered.
		if _, err := revokeActive(tx, tenant, key, autogiroRequest, from, src); err != nil {
			return err
		}
	}
	keys := []store.RecipientKey{key}
	if pnr, err := recipients.NormaliseKey(store.KeyPNR, personalID, now); err == nil {
		keys = append(keys, store.RecipientKey{Type: store.KeyPNR, Value: pnr})
	}
	return tx.PutRegistration(&store.Registration{Tenant: tenant, Keys: keys, Channel: channel, Address: key.Value,
		Source: src, ValidFrom: from, Created: now})
}

// applyPayment sets the collection state of the invoice a payment
// specification or rejection record names.
func applyPayment(tx store.Tx, tenant string, p *ag.Payment, src string, now time.Time, sum *bankSummary) error {
	if p.Type != ag.Withdrawal {
		return nil
	}
	docID, err := tx.CollectionRef(tenant, payerKey(p.PayerNumber), refKey(p.Reference))
	if errors.Is(err, store.ErrNotFound) {
		sum.unmatched++
		return nil
	}
	if err != nil {
		return err
	}
	doc, err := tx.Doc(docID)
	if err != nil {
		return err
	}
	c := doc.Collection
	if c == nil {
		c = &store.Collection{Method: outbound.AutoGiro, Payer: p.PayerNumber}
		doc.Collection = c
	}
	switch {
	case p.Rejection != "":
		c.State, c.Reason = store.CollectionStopped, fmt.Sprintf("Bankgirot rejected the withdrawal (code %s: %s), %s", p.Rejection, p.Rejection.Meaning().Sv, src)
		sum.stopped++
	case p.Status == ag.StatusApproved:
		c.State, c.Reason = store.CollectionPaid, fmt.Sprintf("withdrawn %s, %s", p.Date, src)
		sum.paid++
	default:
		c.State, c.Reason = store.CollectionStopped, fmt.Sprintf("not withdrawn (status %s: %s), %s", p.Status, p.Status.Meaning().Sv, src)
		sum.stopped++
	}
	c.At = now
	sum.files[doc.FileID] = true
	if err := tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: outbound.AutoGiro, Reason: "collection: " + c.Reason}); err != nil {
		return err
	}
	return tx.PutDoc(doc)
}

func dateOr(d ag.Date, fallback time.Time) time.Time {
	if d.IsZero() || !d.Valid() {
		return fallback
	}
	return d.Time()
}
