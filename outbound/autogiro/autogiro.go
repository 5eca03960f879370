// Package autogiro is payment collection by AutoGiro: the withdrawals of a
// cut-off, for invoices whose payer has an active mandate, as one sealed
// Bankgirot payment file (TK01 + TK82), sent to Bankgirot's file service.
// Collection runs beside distribution: this channel never carries the
// invoice itself, so it is never in a priority list.
package autogiro

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the AutoGiro collection channel.
type Channel struct {
	agreements map[string]*Agreement
}

// New returns the AutoGiro channel with the agreements of the tenants
// that have one, by tenant id.
func New(agreements map[string]*Agreement) *Channel {
	return &Channel{agreements: agreements}
}

// Agreement returns the tenant's agreement, if it has one.
func (c *Channel) Agreement(tenant string) (*Agreement, bool) {
	a, ok := c.agreements[tenant]
	return a, ok
}

// Name is "autogiro".
func (*Channel) Name() string { return Name }

// Eligible is never true: AutoGiro collects payment, it does not deliver
// invoices. Routing decides collection from the registry's mandates.
func (*Channel) Eligible(*formats.Document, outbound.Registry) outbound.Eligibility {
	return outbound.Eligibility{Reason: "AutoGiro collects payment beside distribution; it does not carry the invoice"}
}

// RenderBatch writes the payment file: one TK82 withdrawal per invoice (a
// TK32 deposit per credit note paid back), as Order makes it; then seals it
// with the biller's key. The file's date and name come from the batch's
// creation time, so a resend is the same file. Routing checks every order
// with CheckOrder before it joins a batch, so one order the manual does not
// allow is refused alone instead of failing the file.
func (c *Channel) RenderBatch(b outbound.Batch) (outbound.Message, error) {
	created := b.Created
	a, key, err := c.agreement(b.Biller.ID, created)
	if err != nil {
		return outbound.Message{}, err
	}
	f := ag.PaymentFile{WriteDate: ag.DateOf(created.In(stockholm)), CustomerNumber: a.CustomerNumber, PayeeBankgiro: a.Bankgiro}
	for _, it := range b.Items {
		p := Order(it.Doc, it.To, created)
		p.PayeeBankgiro = a.Bankgiro
		f.Payments = append(f.Payments, p)
	}
	return sealed(b.Key, created, a, key, &f)
}

// Order is the payment order for a document in a payment file made at
// now (manual 7.3): a TK82 withdrawal of the amount due from the payer, or
// a TK32 deposit for a credit note (or a negative amount) paid back; on the
// due date, or GENAST (the next bank day) when the due date has passed or
// is missing; once (period 0); with Reference as the reference.
func Order(doc *formats.Document, payer string, now time.Time) ag.Payment {
	p := ag.Payment{Type: ag.Withdrawal, Period: ag.PeriodOnce, PayerNumber: payer, Amount: doc.Totals.Payable, Reference: Reference(doc)}
	if doc.Kind == formats.KindCreditNote || p.Amount < 0 {
		p.Type = ag.Deposit
		if p.Amount < 0 {
			p.Amount = -p.Amount
		}
	}
	if today := formats.DateOf(now.In(stockholm)); doc.DueDate.IsZero() || !today.Before(doc.DueDate) {
		p.Immediately = true
	} else {
		p.Date = ag.DateOf(doc.DueDate.Time())
	}
	return p
}

// CheckOrder checks the order a document would become in a payment file
// made now, the way the file's writer will: the payer number is digits (at
// most 16), the reference can be written in ISO-8859-1, the amount and date
// fit their fields. Routing calls it before the withdrawal joins a batch:
// an order that fails is refused alone, with this error as its reason,
// where in a batch it would fail the file and every order beside it.
func CheckOrder(doc *formats.Document, payer string, now time.Time) error {
	if err := ag.CheckPayment(Order(doc, payer, now)); err != nil {
		var e *ag.Error
		if errors.As(err, &e) {
			return fmt.Errorf("the AutoGiro order cannot be written (Bankgirot's manual 7.3, %s): %s", e.Rule, e.Msg)
		}
		return err
	}
	return nil
}

// RenderMandates writes the biller's mandate orders as one sealed mandate
// file (medgivandeunderlag, manual 7.2: TK01, then TK04 new mandates and
// answers to internet-bank mandates, TK03 cancellations, TK05 new payer
// numbers). Like a payment file, its date and name come from created.
func (c *Channel) RenderMandates(key string, created time.Time, bl outbound.Biller, orders []ag.MandateRequest) (outbound.Message, error) {
	a, seal, err := c.agreement(bl.ID, created)
	if err != nil {
		return outbound.Message{}, err
	}
	f := ag.MandateFile{WriteDate: ag.DateOf(created.In(stockholm)), CustomerNumber: a.CustomerNumber,
		PayeeBankgiro: a.Bankgiro, Requests: orders}
	return sealed(key, created, a, seal, &f)
}

// agreement is the tenant's agreement and its seal key, read from its
// file now, so a rotated key is used at once.
func (c *Channel) agreement(tenant string, created time.Time) (*Agreement, string, error) {
	a, ok := c.agreements[tenant]
	if !ok || a.CustomerNumber == "" || a.Bankgiro == "" {
		return nil, "", outbound.Permanentf("autogiro: tenant %s has no AutoGiro agreement (customer number and bankgiro in [tenant.autogiro])", tenant)
	}
	if created.IsZero() {
		return nil, "", errors.New("autogiro: the batch has no creation time")
	}
	if a.SealKeyFile == "" {
		return nil, "", outbound.Permanentf("autogiro: tenant %s has no seal key; Bankgirot refuses unsealed files", tenant)
	}
	key, err := a.sealKey()
	if err != nil {
		// The file may be restored or rotated in place: try again.
		return nil, "", fmt.Errorf("autogiro: tenant %s: seal key: %w", tenant, err)
	}
	return a, key, nil
}

// sealed writes a file to Bankgirot, seals it with the agreement's key and
// names it as the manual says (6.1.5: dataset
// BFEP.IAGAG.K0<customer>.D<date>.T<time>, IAGZZ in Bankgirot's customer
// test when the agreement is in test mode).
func sealed(key string, created time.Time, a *Agreement, sealKey string, f io.WriterTo) (outbound.Message, error) {
	var raw bytes.Buffer
	if _, err := f.WriteTo(&raw); err != nil {
		return outbound.Message{}, outbound.Permanent(err) // *autogiro.Error says "autogiro:" itself
	}
	sealed, err := ag.Seal(raw.Bytes(), sealKey, created.In(stockholm))
	if err != nil {
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("autogiro: sealing: %w", err))
	}
	name, err := ag.UploadName(a.CustomerNumber, created.In(stockholm), a.Test)
	if err != nil {
		return outbound.Message{}, outbound.Permanent(err)
	}
	return outbound.Message{Key: key, Name: name, ContentType: "text/plain; charset=iso-8859-1", Body: sealed}, nil
}

// Reference is what the payer's bank statement shows and what Bankgirot's
// reports name the withdrawal by: the OCR number when it fits the record's
// 16 characters, else the last 16 characters of the invoice number, in
// ISO-8859-1 (an en dash becomes a hyphen, see formats.Latin1) and cut by
// characters, never inside one. A number ISO-8859-1 cannot hold is kept
// as it is, for CheckOrder to refuse with its reason.
func Reference(doc *formats.Document) string {
	if ocr := doc.PaymentReference(); ocr != "" && utf8.RuneCountInString(ocr) <= 16 {
		return ocr
	}
	ref := strings.TrimSpace(doc.Number)
	if t, err := formats.Latin1(ref); err == nil {
		ref = t
	}
	if r := []rune(ref); len(r) > 16 {
		ref = strings.TrimLeft(string(r[len(r)-16:]), " ")
	}
	return ref
}

// stockholm is Bankgirot's time zone: file dates are Swedish dates.
var stockholm = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Stockholm"); err == nil {
		return l
	}
	return time.FixedZone("CET", 3600)
}()
