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

	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the AutoGiro collection channel.
type Channel struct {
	// Test names the files for Bankgirot's customer test (IAGZZ).
	Test bool
}

// New returns the AutoGiro channel.
func New(test bool) *Channel { return &Channel{Test: test} }

// Name is "autogiro".
func (*Channel) Name() string { return outbound.AutoGiro }

// Eligible is never true: AutoGiro collects payment, it does not deliver
// invoices. Routing decides collection from the registry's mandates.
func (*Channel) Eligible(*formats.Document, outbound.Registry) outbound.Eligibility {
	return outbound.Eligibility{Reason: "AutoGiro collects payment beside distribution; it does not carry the invoice"}
}

// RenderBatch writes the payment file: one TK82 withdrawal per invoice (a
// TK32 deposit per credit note paid back) on
// its due date (GENAST when the due date has passed or is missing), the
// amount due, the payer number, and the OCR as reference (the invoice number
// when there is no OCR or it is longer than the 16 characters the record
// holds); then seals it with the biller's key. The file's date and name
// come from the batch's creation time, so a resend is the same file.
func (c *Channel) RenderBatch(b outbound.Batch) (outbound.Message, error) {
	bl, created := b.Biller, b.Created
	if err := checkAgreement(bl, created); err != nil {
		return outbound.Message{}, err
	}
	today := formats.DateOf(created.In(stockholm))
	f := ag.PaymentFile{WriteDate: ag.DateOf(created.In(stockholm)), CustomerNumber: bl.AutoGiroCustomer, PayeeBankgiro: bl.AutoGiroBankgiro}
	for _, it := range b.Items {
		doc := it.Doc
		p := ag.Payment{Type: ag.Withdrawal, Period: ag.PeriodOnce, PayerNumber: it.To, Amount: doc.Totals.Payable,
			PayeeBankgiro: bl.AutoGiroBankgiro, Reference: Reference(doc)}
		if doc.Kind == formats.KindCreditNote || p.Amount < 0 {
			// Money back to the payer: a deposit (TK32) of the amount.
			p.Type = ag.Deposit
			if p.Amount < 0 {
				p.Amount = -p.Amount
			}
		}
		if doc.DueDate.IsZero() || !today.Before(doc.DueDate) {
			p.Immediately = true
		} else {
			p.Date = ag.DateOf(doc.DueDate.Time())
		}
		f.Payments = append(f.Payments, p)
	}
	return c.sealed(b.Key, created, bl, &f)
}

// RenderMandates writes the biller's mandate orders as one sealed mandate
// file (medgivandeunderlag, manual 7.2: TK01, then TK04 new mandates and
// answers to internet-bank mandates, TK03 cancellations, TK05 new payer
// numbers). Like a payment file, its date and name come from created.
func (c *Channel) RenderMandates(key string, created time.Time, bl outbound.Biller, orders []ag.MandateRequest) (outbound.Message, error) {
	if err := checkAgreement(bl, created); err != nil {
		return outbound.Message{}, err
	}
	f := ag.MandateFile{WriteDate: ag.DateOf(created.In(stockholm)), CustomerNumber: bl.AutoGiroCustomer,
		PayeeBankgiro: bl.AutoGiroBankgiro, Requests: orders}
	return c.sealed(key, created, bl, &f)
}

func checkAgreement(bl outbound.Biller, created time.Time) error {
	if bl.AutoGiroCustomer == "" || bl.AutoGiroBankgiro == "" {
		return outbound.Permanentf("autogiro: tenant %s has no AutoGiro agreement (customer number and bankgiro)", bl.ID)
	}
	if bl.SealKey == "" {
		return outbound.Permanentf("autogiro: tenant %s has no seal key; Bankgirot refuses unsealed files", bl.ID)
	}
	if created.IsZero() {
		return errors.New("autogiro: the batch has no creation time")
	}
	return nil
}

// sealed writes a file to Bankgirot, seals it with the biller's key and
// names it as the manual says (dataset BFEP.IAGAG.K0<customer>.D<date>.T<time>).
func (c *Channel) sealed(key string, created time.Time, bl outbound.Biller, f io.WriterTo) (outbound.Message, error) {
	var raw bytes.Buffer
	if _, err := f.WriteTo(&raw); err != nil {
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("autogiro: %w", err))
	}
	sealed, err := ag.Seal(raw.Bytes(), bl.SealKey, created.In(stockholm))
	if err != nil {
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("autogiro: sealing: %w", err))
	}
	name, err := ag.UploadName(bl.AutoGiroCustomer, created.In(stockholm), c.Test)
	if err != nil {
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("autogiro: %w", err))
	}
	return outbound.Message{Key: key, Name: name, ContentType: "text/plain; charset=iso-8859-1", Body: sealed}, nil
}

// Reference is what the payer's bank statement shows and what Bankgirot's
// payment specification names the withdrawal by: the OCR number when it
// fits the record's 16 characters, else (the end of) the invoice number.
func Reference(doc *formats.Document) string {
	if ocr := doc.PaymentReference(); ocr != "" && len(ocr) <= 16 {
		return ocr
	}
	ref := strings.TrimSpace(doc.Number)
	if len(ref) > 16 {
		ref = ref[len(ref)-16:]
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
