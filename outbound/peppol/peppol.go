// Package peppol is the Peppol channel: documents for buyers that are Peppol
// participants, handed to an access point.
package peppol

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/sbdh"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/outbound"
)

// Channel is the Peppol channel.
type Channel struct{}

// New returns the Peppol channel.
func New() *Channel { return &Channel{} }

// Name is "peppol".
func (*Channel) Name() string { return Name }

// Eligible when the buyer's endpoint id is under a Peppol participant scheme
// (not EM, which is an e-mail address), or the registry knows a participant
// id, and the document passes the Peppol BIS rules: what leaves on Peppol
// must be Peppol-valid, so a failing invoice goes to the next channel with
// the rule as the reason. A Swedish organisationsnummer address (0007)
// with a wrong check digit names no participant: validation only warns
// about it (MK-ORGNR), so the invoice goes by the next channel.
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	ok, reason := formats.PeppolParticipant(doc.Buyer.Endpoint)
	addr := doc.Buyer.Endpoint.String()
	if !ok {
		found := false
		var src string
		if addr, src, found = reg.Lookup(doc, Name); !found {
			return outbound.Eligibility{Reason: reason}
		}
		reason = "participant id " + addr + " registered by " + src
	}
	if scheme, value, _ := strings.Cut(addr, ":"); scheme == "0007" {
		if d := formats.OnlyDigits(value); len(d) != 10 || d != value || !formats.Luhn(d) {
			why := "it is not 10 digits"
			if len(d) == 10 {
				why = fmt.Sprintf("the check digit is wrong, expected %c", formats.LuhnDigit(d[:9]))
			}
			return outbound.Eligibility{Reason: fmt.Sprintf("buyer's Peppol address %s is no Swedish organisationsnummer: %s (MK-ORGNR, PEPPOL-COMMON-R049)", addr, why)}
		}
	}
	if why := norwegianAddress(addr); why != "" {
		return outbound.Eligibility{Reason: why}
	}
	if errs := validate.Peppol(PrepareTo(doc, addr)).Errors(); len(errs) > 0 {
		return outbound.Eligibility{Reason: "fails Peppol BIS rules: " + errs.Error()}
	}
	return outbound.Eligibility{OK: true, Address: addr, Reason: reason}
}

// Render writes the document as it leaves on Peppol: the UBL 2.1 Invoice or
// CreditNote (BIS Billing 3.0) in a Standard Business Document Header from
// the seller's participant id to the buyer's, with the delivery key as the
// instance id, so an access point can recognise a resend. The creation time
// is the issue date, which keeps a resend byte-identical.
func (c *Channel) Render(doc *formats.Document, to, key string) (outbound.Message, error) {
	out := PrepareTo(doc, to)
	if to == "" {
		to = out.Buyer.Endpoint.String()
	}
	if out.Seller.Endpoint.IsZero() {
		return outbound.Message{}, fmt.Errorf("peppol: %s: the seller has no electronic address (BT-34) and no Swedish or Norwegian organisation number to make one", doc.Label())
	}
	var ublDoc bytes.Buffer
	if err := ubl.Write(&ublDoc, out); err != nil {
		return outbound.Message{}, fmt.Errorf("peppol: %s: %w", doc.Label(), err)
	}
	kind := "Invoice"
	if out.Kind == formats.KindCreditNote {
		kind = "CreditNote"
	}
	var sbd bytes.Buffer
	err := sbdh.Write(&sbd, sbdh.Envelope{Sender: out.Seller.Endpoint.String(), Receiver: to, InstanceID: key,
		Created: out.IssueDate.Time(), Kind: kind, Country: out.Seller.Address.Country}, ublDoc.Bytes())
	if err != nil {
		return outbound.Message{}, fmt.Errorf("peppol: %s: %w", doc.Label(), err)
	}
	return outbound.Message{Key: key, Name: key + ".xml", ContentType: "application/xml", To: to, Body: sbd.Bytes()}, nil
}

// Prepare returns the document as it leaves on Peppol: the BIS Billing 3.0
// specification and process ids when the input had none (a CSV row has no
// such thing), the seller's electronic address from its Swedish
// organisationsnummer (scheme 0007), or Norwegian organisasjonsnummer
// (0192, EHF), when it has none, and the payment
// means (BG-16) the payment decision gives: a direct debit (code 49) with
// the mandate's payer number as BT-89 when AutoGiro collects it, else the
// accounts to pay to and no mandate at all, whatever the input said. The
// input document is not changed.
func Prepare(doc *formats.Document) *formats.Document { return PrepareTo(doc, "") }

// PrepareTo is Prepare for a delivery to the participant id addr
// ("scheme:value"): a buyer with no electronic address of its own, whose
// address the registry knows, gets it as BT-49 (rule R010 wants one, and
// the receiver's access point reads it there).
func PrepareTo(doc *formats.Document, addr string) *formats.Document {
	out := *doc
	if scheme, value, ok := strings.Cut(addr, ":"); ok && doc.Buyer.Endpoint.IsZero() {
		out.Buyer.Endpoint = formats.Identifier{Scheme: scheme, Value: value}
	}
	out.PaymentMeans = doc.HowToPay().Means(doc)
	if out.CustomizationID == "" {
		out.CustomizationID = ubl.DefaultCustomizationID
	}
	if out.ProfileID == "" {
		out.ProfileID = ubl.DefaultProfileID
	}
	if out.Seller.Endpoint.IsZero() && out.Seller.LegalID.Value != "" {
		if orgnr, err := formats.CheckOrgnr(out.Seller.LegalID.Value); err == nil {
			out.Seller.Endpoint = formats.Identifier{Scheme: "0007", Value: orgnr}
		}
	}
	if out.Seller.Endpoint.IsZero() {
		out.Seller.Endpoint = norwegianEndpoint(out.Seller)
	}
	return &out
}
