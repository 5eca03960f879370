// Package collection is payment collection, a subsystem beside
// distribution: the biller's AutoGiro mandate orders (sent as mandate
// files by the AutoGiro channel, as a deliver.BatchSource), Bankgirot's
// files (mandate advice, registers, payment specifications, rejections,
// Bg Max) applied to the registry and to each invoice's payment state, and
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
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
)

// Bankgirot's files are applied here, each section of Bankgirot's "Bg
// Autogiro Teknisk manual" (2014) by its own code: mandates (§8.3, §8.6,
// §8.8) in this file, payments (§8.2, §8.4, §8.5, §8.7, §10) in
// bankpayments.go.

// The registry channels of mandates that are not (yet) active. A mandate a
// payer signed in an internet bank (§8.6) waits for the biller's answer (a
// TK04, approve or reject); one under enquiry (§8.8 status 2, "under
// förfrågan") waits for the payer's bank, and Bankgirot's mandate advice
// (information code 42) will say how it went: the biller has nothing to
// answer. Both become active only with Bankgirot's mandate advice.
const (
	autogiroRequest = "autogiro-request"
	autogiroEnquiry = "autogiro-enquiry"
)

// bankSummary counts what one bank file changed, for its receipt.
type bankSummary struct {
	active, renumbered, replaced, cancelled, requests, enquiries int
	collected, retried, stopped, rejected, deposits, refunded    int
	scheduled, cancelledPayments, moved, notDone, dropped        int
	paid, partlyPaid, unmatched                                  int
	files                                                        map[string]bool
}

func (s *bankSummary) String() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(s.active, "mandates active")
	add(s.renumbered, "mandates active under a new payer number")
	add(s.replaced, "old payer numbers no longer valid")
	add(s.cancelled, "mandates cancelled")
	add(s.requests, "internet-bank mandates awaiting approval")
	add(s.enquiries, "mandates under enquiry at the payer's bank")
	add(s.dropped, "queued withdrawals dropped")
	add(s.collected, "withdrawals collected")
	add(s.retried, "withdrawals to be retried")
	add(s.stopped, "payments not made")
	add(s.rejected, "payments rejected")
	add(s.deposits, "deposits paid back")
	add(s.refunded, "withdrawals refunded")
	add(s.scheduled, "payments scheduled")
	add(s.cancelledPayments, "payments cancelled")
	add(s.moved, "payments moved to a new date")
	add(s.notDone, "cancellations or changes not carried out")
	add(s.paid, "invoices paid")
	add(s.partlyPaid, "invoices partly paid")
	add(s.unmatched, "payments not matching any invoice sent through this gateway")
	if len(parts) == 0 {
		return "nothing in it changes the registry or an invoice"
	}
	return strings.Join(parts, ", ")
}

// BankFiles are Bankgirot's AutoGiro files dropped into the inbox, as
// intake applies them.
func (c *Collection) BankFiles() Applier { return bankFiles{c} }

type bankFiles struct{ c *Collection }

func (bankFiles) Sniff(head []byte) bool { return ag.Sniff(head) }

// Apply applies a Bankgirot AutoGiro file dropped into the inbox: mandate
// advice and register extracts to the registry, payment reports to the
// invoices' payment, the biller's own mandate orders to the queue for
// Bankgirot. The file is applied whole, in one transaction, or not at all:
// a wrong record count, an unknown record or a section for another
// bankgiro rejects it with the line.
func (b bankFiles) Apply(rec *store.File, r io.ReaderAt) error {
	c := b.c
	t, known := c.Tenant(rec.Tenant)
	f, err := ag.Parse(io.NewSectionReader(r, 0, rec.Size))
	if err != nil {
		return fmt.Errorf("AutoGiro file: %w", err)
	}
	// Bg Max also reports what payers paid by bankgiro themselves, so it
	// needs no AutoGiro agreement: the tenant's bankgiro will do.
	if !known || t.AutoGiro == nil && f.Kind != ag.KindBgMax {
		return fmt.Errorf("AutoGiro file (%s): the tenant has no AutoGiro agreement configured", f.Kind.Swedish())
	}
	switch f.Kind {
	case ag.KindMandateOrders:
		return c.queueMandateFile(rec, t, f)
	case ag.KindPaymentOrders, ag.KindAmendmentOrders, ag.KindMixedOrders:
		return fmt.Errorf("AutoGiro file (%s): a file to Bankgirot; the gateway writes payment files from the invoices it sends and forwards only mandate orders", f.Kind.Swedish())
	}
	bankgiros := tenantBankgiros(t)
	now := time.Now().UTC()
	sum := &bankSummary{files: map[string]bool{}}
	err = c.Store.Update(func(tx store.Tx) error {
		*sum = bankSummary{files: map[string]bool{}}
		a := &bankApply{tx: tx, tenant: rec.Tenant, source: "bank file " + rec.Name, now: now, sum: sum}
		for _, s := range f.Sections {
			if s.PayeeBankgiro != "" && !bankgiros[strings.TrimLeft(s.PayeeBankgiro, "0")] {
				return fmt.Errorf("line %d: the section is for payee bankgiro %s, not the tenant's (%s)", s.LineNo, s.PayeeBankgiro, strings.Join(keysOf(bankgiros), ", "))
			}
			if err := a.section(s, bankgiros); err != nil {
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
		return fmt.Errorf("AutoGiro file: nothing applied: %w", err)
	}
	c.Log.Info("bank file applied", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "kind", f.Kind.String(), "summary", sum.String())
	for id := range sum.files {
		c.Receipts.Touch(id)
	}
	return nil
}

// tenantBankgiros are the payee bankgiros a tenant's bank files may name:
// its AutoGiro agreement's and its own, without leading zeros.
func tenantBankgiros(t config.Tenant) map[string]bool {
	out := map[string]bool{}
	for _, bg := range []string{t.Bankgiro, agBankgiro(t)} {
		if bg = strings.TrimLeft(strings.NewReplacer("-", "", " ", "").Replace(bg), "0"); bg != "" {
			out[bg] = true
		}
	}
	return out
}

func agBankgiro(t config.Tenant) string {
	if t.AutoGiro == nil {
		return ""
	}
	return t.AutoGiro.Bankgiro
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// bankApply is one bank file being applied, in one transaction.
type bankApply struct {
	tx     store.Tx
	tenant string
	source string // "bank file NAME"
	now    time.Time
	sum    *bankSummary
}

// at names a line of the file, as reasons and the registry cite it.
func (a *bankApply) at(line int) string { return fmt.Sprintf("%s line %d", a.source, line) }

// section applies one section of a file, record by record.
func (a *bankApply) section(s ag.Section, bankgiros map[string]bool) error {
	if s.Kind == ag.KindBgMax {
		return a.bgMax(s)
	}
	for _, record := range s.Records {
		line := record.Position().LineNo
		var payee string
		switch x := record.(type) {
		case *ag.MandateAdvice:
			payee = x.PayeeBankgiro
		case *ag.InternetMandate:
			payee = x.PayeeBankgiro
		case *ag.RegisteredMandate:
			payee = x.PayeeBankgiro
		case *ag.Payment:
			payee = x.PayeeBankgiro
		case *ag.Refund:
			payee = x.PayeeBankgiro
		}
		if payee != "" && !bankgiros[strings.TrimLeft(payee, "0")] {
			return fmt.Errorf("line %d: record for payee bankgiro %s, not the tenant's", line, payee)
		}
		if err := a.record(s, record); err != nil {
			return err
		}
	}
	return nil
}

func (a *bankApply) record(s ag.Section, record ag.Record) error {
	src := a.at(record.Position().LineNo)
	switch x := record.(type) {
	case *ag.MandateAdvice:
		return a.mandateAdvice(x, src)
	case *ag.InternetMandate:
		// §8.6: the payer signed in the internet bank; the biller answers.
		a.sum.requests++
		return registerMandate(a.tx, a.tenant, x.PayerNumber, x.PersonalID, autogiroRequest, src, a.now, a.now)
	case *ag.RegisteredMandate:
		// §8.8 status 1 "Godkänt för Autogiro": active, whoever started it
		// (type 1 the biller, type 2 the payer in an internet bank);
		// status 2 "Under förfrågan": Bankgirot asks the payer's bank.
		if x.Pending {
			a.sum.enquiries++
			return registerMandate(a.tx, a.tenant, x.PayerNumber, x.PersonalID, autogiroEnquiry, src, dateOr(x.Created, a.now), a.now)
		}
		a.sum.active++
		return registerMandate(a.tx, a.tenant, x.PayerNumber, x.PersonalID, route.AutoGiro, src, dateOr(x.Created, a.now), a.now)
	case *ag.Payment:
		return a.payment(s, x, src)
	case *ag.Refund:
		return a.refund(x, src)
	case *ag.Amendment:
		return a.amendment(x, src)
	}
	return nil // settlements (TK15, TK16, TK17) sum the payments applied one by one
}

// mandateAdvice applies a TK73 (§8.3.2, codes §8.3.3).
func (a *bankApply) mandateAdvice(x *ag.MandateAdvice, src string) error {
	meaning := fmt.Sprintf("information code %s, comment %s: %s", x.Info, x.Comment, x.Comment.Meaning().Sv)
	switch x.Effect() {
	case ag.EffectActive:
		a.sum.active++
		return registerMandate(a.tx, a.tenant, x.PayerNumber, x.PersonalID, route.AutoGiro, src, dateOr(x.Date, a.now), a.now)
	case ag.EffectChanged:
		// Information code 05, comment 32: the mandate's new payer number.
		a.sum.renumbered++
		return registerMandate(a.tx, a.tenant, x.PayerNumber, x.PersonalID, route.AutoGiro, src, dateOr(x.Date, a.now), a.now)
	case ag.EffectReplaced:
		// Information code 05, comment 33: the old payer number is no
		// longer valid; its record with comment 32 names the new one.
		a.sum.replaced++
		return a.cancelMandate(x.PayerNumber, dateOr(x.Date, a.now), "the payer number was changed ("+meaning+")", src)
	case ag.EffectCancelled:
		a.sum.cancelled++
		return a.cancelMandate(x.PayerNumber, dateOr(x.Date, a.now), "the mandate was cancelled ("+x.Info.Meaning().Sv+" "+meaning+")", src)
	}
	return nil
}

// cancelMandate ends a payer number's mandate, and whatever waited on it:
// a request or enquiry, and the withdrawals still queued for the next
// payment file, which Bankgirot would reject without a mandate.
func (a *bankApply) cancelMandate(payer string, at time.Time, why, src string) error {
	key := store.RecipientKey{Type: store.KeyCustomer, Value: route.PayerKey(payer)}
	n := 0
	for _, ch := range []string{route.AutoGiro, autogiroRequest, autogiroEnquiry} {
		m, err := registry.RevokeActive(a.tx, a.tenant, key, ch, at, src)
		if err != nil {
			return err
		}
		n += m
	}
	if n == 0 {
		// No mandate was known here: keep the cancellation itself as
		// history, so routing can say why a payer is not collected.
		if err := a.tx.PutRegistration(&store.Registration{Tenant: a.tenant, Keys: []store.RecipientKey{key}, Channel: route.AutoGiro,
			Address: key.Value, Source: src, ValidFrom: at, RevokedAt: at, RevokedBy: src, Created: a.now}); err != nil {
			return err
		}
	}
	return a.dropQueued(key.Value, why, src)
}

// registerMandate records a mandate (or a request or enquiry) for a payer,
// replacing the payer's earlier one on that channel (kept as history). An
// active mandate answers the request and the enquiry.
func registerMandate(tx store.Tx, tenant, payer, personalID, channel, src string, from, now time.Time) error {
	key := store.RecipientKey{Type: store.KeyCustomer, Value: route.PayerKey(payer)}
	if key.Value == "" {
		return fmt.Errorf("%s: no payer number", src)
	}
	answered := []string{channel}
	if channel == route.AutoGiro {
		answered = append(answered, autogiroRequest, autogiroEnquiry)
	}
	for _, ch := range answered {
		if _, err := registry.RevokeActive(tx, tenant, key, ch, from, src); err != nil {
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

func dateOr(d ag.Date, fallback time.Time) time.Time {
	if d.IsZero() || !d.Valid() {
		return fallback
	}
	return d.Time()
}
