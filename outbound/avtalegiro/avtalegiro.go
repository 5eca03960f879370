// Package avtalegiro is payment collection by AvtaleGiro, the Norwegian
// direct debit run by Nets (Mastercard Payment Services): the claims of a
// cut-off, for invoices whose payer has an active AvtaleGiro mandate
// (fast betalingsoppdrag), as one claim file (betalingskrav) to Nets.
// Collection runs beside distribution: this channel never carries the
// invoice itself, so it is never in a priority list. It is AutoGiro's
// Norwegian sibling (outbound/autogiro), with what differs: amounts in
// NOK, the payer named by the KID the mandate is registered under, no
// "next bank day" for a due date that has passed, no deposits, and a
// choice of who notifies the payer (Nets, with the claim's specification
// lines, or the payee itself).
package avtalegiro

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	avg "github.com/multikanal/multikanal/formats/avtalegiro"
	"github.com/multikanal/multikanal/outbound"
)

// Name is the channel's name, the registry channel of AvtaleGiro mandates
// and the collection method of the invoices it collects.
const Name = "avtalegiro"

// Currency is the only currency AvtaleGiro withdraws: Norwegian kroner.
const Currency = "NOK"

// Agreement is what a biller's AvtaleGiro agreement with its bank and Nets
// gives it: the configuration of one tenant ([tenant.avtalegiro]).
type Agreement struct {
	// CustomerUnit is Nets' customer unit id (kundeenhet-ID, 8 digits):
	// the data sender of every file.
	CustomerUnit string `toml:"customer_unit"`
	// Account is the assignment account (oppdragskonto): the biller's
	// Norwegian account (11 digits) the claims are paid to.
	Account string `toml:"account"`
	// AgreementID is Nets' agreement id (avtale-ID, 9 digits) when the
	// agreement has one; empty writes zeros.
	AgreementID string `toml:"agreement_id"`
	// KID is the check digit method of the biller's KIDs: "mod10" or
	// "mod11", as agreed with the bank.
	KID string `toml:"kid"`
	// Notice is who tells the payer of a claim: "nets" (Nets sends the
	// notice with the claim's specification lines; the default) or
	// "payee" (the biller does, with its invoice).
	Notice string `toml:"notice"`
	// LeadDays is how many days before its due date a claim must reach
	// Nets, from the biller's agreement (Nets' deadlines for claims and
	// notices, Brukerhåndbok AvtaleGiro "Innleverings- og
	// varslingsfrister"): a claim due sooner is not collected.
	LeadDays int `toml:"lead_days"`
}

// Check checks the agreement and names the key that is wrong.
func (a Agreement) Check() error {
	var errs []error
	if len(a.CustomerUnit) != 8 || formats.OnlyDigits(a.CustomerUnit) != a.CustomerUnit {
		errs = append(errs, fmt.Errorf("customer_unit %q: Nets' customer unit id (kundeenhet-ID) is 8 digits", a.CustomerUnit))
	}
	if _, err := formats.CheckNorwegianAccount(a.Account); err != nil {
		errs = append(errs, fmt.Errorf("account: %w (the agreement's assignment account)", err))
	}
	if a.AgreementID != "" && (len(a.AgreementID) != 9 || formats.OnlyDigits(a.AgreementID) != a.AgreementID) {
		errs = append(errs, fmt.Errorf("agreement_id %q: Nets' agreement id is 9 digits (or leave it out)", a.AgreementID))
	}
	if _, err := formats.ParseKIDMethod(a.KID); err != nil {
		errs = append(errs, fmt.Errorf("kid: %w", err))
	}
	if _, err := a.notice(); err != nil {
		errs = append(errs, err)
	}
	if a.LeadDays < 0 || a.LeadDays > 60 {
		errs = append(errs, fmt.Errorf("lead_days %d: 0 to 60 days", a.LeadDays))
	}
	return errors.Join(errs...)
}

func (a Agreement) notice() (avg.Notice, error) {
	switch strings.ToLower(strings.TrimSpace(a.Notice)) {
	case "", "nets":
		return avg.NoticeByNets, nil
	case "payee":
		return avg.NoticeByPayee, nil
	}
	return 0, fmt.Errorf("notice %q: nets (Nets notifies the payer) or payee (the biller does)", a.Notice)
}

// Channel is the AvtaleGiro collection channel.
type Channel struct {
	agreements map[string]Agreement
}

// New returns the AvtaleGiro channel with the agreements of the tenants
// that have one, by tenant id.
func New(agreements map[string]Agreement) *Channel {
	return &Channel{agreements: agreements}
}

// Name is "avtalegiro".
func (*Channel) Name() string { return Name }

// Eligible is never true: AvtaleGiro collects payment, it does not deliver
// invoices. Routing decides collection from the registry's mandates.
func (*Channel) Eligible(*formats.Document, outbound.Registry) outbound.Eligibility {
	return outbound.Eligibility{Reason: "AvtaleGiro collects payment beside distribution; it does not carry the invoice"}
}

// Agreement returns the tenant's agreement, if it has one.
func (c *Channel) Agreement(tenant string) (Agreement, bool) {
	a, ok := c.agreements[tenant]
	return a, ok
}

// RenderBatch writes the claim file of a batch: one transmission with one
// claim assignment, a claim per invoice as Claim makes it, in the order of
// the batch. Its numbers, date and name come from the batch's creation
// time, so a resend is the same file. Routing checks every claim with
// CheckOrder before it joins a batch, so one claim the file cannot hold is
// refused alone instead of failing the file.
func (c *Channel) RenderBatch(b outbound.Batch) (outbound.Message, error) {
	a, ok := c.agreements[b.Biller.ID]
	if !ok {
		return outbound.Message{}, outbound.Permanentf("avtalegiro: tenant %s has no AvtaleGiro agreement (customer_unit, account, kid)", b.Biller.ID)
	}
	if err := a.Check(); err != nil {
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("avtalegiro: tenant %s: %w", b.Biller.ID, err))
	}
	if b.Created.IsZero() {
		return outbound.Message{}, errors.New("avtalegiro: the batch has no creation time")
	}
	number := Number(b.Created)
	account, _ := formats.CheckNorwegianAccount(a.Account)
	as := avg.Assignment{Service: avg.ServiceAvtaleGiro, Type: avg.Claims, AgreementID: a.AgreementID, Number: number, Account: account}
	for _, it := range b.Items {
		as.Claims = append(as.Claims, Claim(it.Doc, it.To, a))
	}
	t := avg.Transmission{Sender: a.CustomerUnit, Number: number, Assignments: []avg.Assignment{as}}
	var body bytes.Buffer
	if _, err := t.WriteTo(&body); err != nil {
		return outbound.Message{}, outbound.Permanent(err) // *avtalegiro.Error says "avtalegiro:" itself
	}
	name := fmt.Sprintf("AVTALEGIRO.%s.%s.txt", a.CustomerUnit, b.Created.In(oslo).Format("20060102T150405"))
	return outbound.Message{Key: b.Key, Name: name, ContentType: "text/plain; charset=iso-8859-1", Body: body.Bytes()}, nil
}

// Number is the transmission and assignment number of a file made at
// created: the Unix second modulo 10^7, 7 digits. Two files of one biller
// get the same number only when cut in the same second (or 115.7 days
// apart to the second); Nets refuses a transmission number it has seen.
func Number(created time.Time) string {
	return fmt.Sprintf("%07d", created.Unix()%10_000_000)
}

// Claim is the claim for a document whose payer's mandate is registered
// under kid: the amount due on the due date, with the invoice number as
// external reference (its last 25 characters) and the buyer's name as
// short name; when Nets notifies the payer, the notice's specification
// lines name the invoice, its seller, dates, amount and KID.
func Claim(doc *formats.Document, kid string, a Agreement) avg.Claim {
	notice, _ := a.notice()
	c := avg.Claim{Notice: notice, Due: doc.DueDate, Amount: doc.Totals.Payable, KID: kid,
		ShortName: avg.Fit(doc.Buyer.DisplayName(), avg.MaxShortName), Reference: Reference(doc)}
	if notice == avg.NoticeByNets {
		c.Specification = []string{
			avg.Fit("Faktura "+doc.Number+" fra "+doc.Seller.DisplayName(), avg.MaxSpecLineLength),
			"Fakturadato " + norwegianDate(doc.IssueDate) + "  Forfall " + norwegianDate(doc.DueDate),
			"Beløp " + doc.Currency + " " + strings.ReplaceAll(doc.Totals.Payable.Swedish(), "\u00a0", " "),
			avg.Fit("KID "+kid, avg.MaxSpecLineLength),
		}
	}
	return c
}

// Reference is the claim's external reference: the last 25 characters of
// the invoice number, cut by characters, never inside one.
func Reference(doc *formats.Document) string {
	ref := strings.TrimSpace(doc.Number)
	if r := []rune(ref); len(r) > avg.MaxReference {
		ref = strings.TrimLeft(string(r[len(r)-avg.MaxReference:]), " ")
	}
	return ref
}

// CheckOrder checks the claim a document would become in a file made now,
// under the biller's agreement: an invoice (AvtaleGiro pays nothing back),
// in NOK, with an amount due, a due date at least the agreement's lead
// days after today (AvtaleGiro has no "next bank day"), the payer's KID
// valid under the agreement's check digit method, and a claim the file
// can hold. Routing calls it before the claim joins a batch: a claim that
// fails is refused alone, with this error as its reason, where in a batch
// it would fail the file and every claim beside it.
func CheckOrder(doc *formats.Document, kid string, a Agreement, now time.Time) error {
	if err := a.Check(); err != nil {
		return fmt.Errorf("the AvtaleGiro agreement is incomplete: %w", err)
	}
	method, _ := formats.ParseKIDMethod(a.KID)
	today := formats.DateOf(now.In(oslo))
	earliest := formats.DateOf(today.Time().AddDate(0, 0, max(a.LeadDays, 1)))
	switch {
	case doc.Kind == formats.KindCreditNote:
		return errors.New("a credit note is not paid back through AvtaleGiro, which only withdraws: pay it back by transfer")
	case !strings.EqualFold(doc.Currency, Currency):
		return fmt.Errorf("the invoice is in %s; AvtaleGiro withdraws Norwegian kroner (NOK) only", doc.Currency)
	case doc.Totals.Payable <= 0:
		return fmt.Errorf("nothing to withdraw: the amount due is %s", doc.Totals.Payable)
	case doc.DueDate.IsZero():
		return errors.New("the invoice has no due date (BT-9): an AvtaleGiro claim is withdrawn on its due date")
	case doc.DueDate.Before(earliest):
		return fmt.Errorf("due date %s is too soon: the claim must reach Nets %d day(s) before it (lead_days), so the earliest is %s; AvtaleGiro has no 'next bank day' for a date that has passed",
			doc.DueDate, max(a.LeadDays, 1), earliest)
	}
	if err := formats.CheckKID(kid, method); err != nil {
		return fmt.Errorf("the payer's KID under the agreement (%v): %w", method, err)
	}
	if err := avg.CheckClaim(Claim(doc, kid, a)); err != nil {
		var e *avg.Error
		if errors.As(err, &e) {
			return fmt.Errorf("the AvtaleGiro claim cannot be written (Systemspesifikasjon AvtaleGiro, betalingskrav, %s): %s", e.Rule, e.Msg)
		}
		return err
	}
	return nil
}

// WithdrawalText is the sentence every channel shows, in Norwegian, for an
// invoice AvtaleGiro collects: "Trekkes via AvtaleGiro 31.03.2026".
// Nets prescribes no wording for it in the documents found; this follows
// the form Norwegian invoices use ("Beløpet trekkes via AvtaleGiro").
func WithdrawalText(due formats.Date) string {
	return "Trekkes via AvtaleGiro " + norwegianDate(due)
}

// norwegianDate writes a date as Norwegians do: 31.03.2026.
func norwegianDate(d formats.Date) string {
	if d.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year)
}

// oslo is Nets' time zone: file dates are Norwegian dates.
var oslo = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Oslo"); err == nil {
		return l
	}
	return time.FixedZone("CET", 3600)
}()

// The channel is a batch channel.
var _ outbound.BatchRenderer = (*Channel)(nil)
