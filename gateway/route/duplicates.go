package route

import (
	"errors"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// RuleDuplicate names the duplicate rule in problems and receipts.
const RuleDuplicate = "MK-DUPLICATE"

// duplicate checks, inside the routing transaction, whether the tenant has
// sent the document before: the same seller, kind and number (store.DocKey),
// however the file that carried it was encoded. The transaction sees its own
// writes and every routing transaction writes the index, so two copies in
// one file, or in two files read at once, are caught as well as a file sent
// again next week.
//
// The first document of a key is recorded; a later one is refused, naming
// the first (refused is true and the document is rejected), unless the
// input marks it as a deliberate resend or the tenant's policy is "warn",
// when it goes on with the fact recorded. Either way a document is never
// collected twice: a copy of an invoice whose payment collection (a
// direct debit) is under way is refused, and `multikanal docs resend` delivers the first
// document again instead, without a second withdrawal.
func duplicate(tx Tx, t config.Tenant, doc *store.Doc, body *formats.Document, now time.Time) (refused bool, err error) {
	key, ok := store.DocKeyOf(body)
	if !ok {
		return false, nil
	}
	firstID, err := tx.DocByKey(doc.Tenant, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, tx.PutDocKey(doc.Tenant, key, doc.ID)
	case err != nil:
		return false, err
	case firstID == doc.ID:
		return false, nil
	}
	first, err := tx.Doc(firstID)
	if err != nil {
		return false, fmt.Errorf("duplicate index names document %s: %w", firstID, err)
	}
	file, err := tx.File(first.FileID)
	if err != nil {
		return false, fmt.Errorf("duplicate index: document %s names file %s: %w", firstID, first.FileID, err)
	}
	earlier := fmt.Sprintf("%s: %s from seller %s was received before in file %q (%s) as document %s (%s)",
		body.Label(), kindName(body.Kind), sellerName(body.Seller), file.Name, file.ID, first.ID, first.State)
	problem := func(sev formats.Severity, what string) formats.Problem {
		p := formats.Problem{Rule: RuleDuplicate, Severity: sev, Message: earlier + "; " + what}
		doc.Problems = append(doc.Problems, p)
		return p
	}
	refuse := func(what string) (bool, error) {
		doc.Reason = problem(formats.SeverityError, what).Error()
		doc.State, doc.Updated = store.DocRejected, now
		return true, tx.AppendEvent(doc, store.Event{At: now, State: store.DocRejected, Reason: doc.Reason})
	}
	resend := body.Resend
	if !resend && t.Duplicates != config.DuplicatesWarn {
		return refuse(fmt.Sprintf("not sent again. To send it again on purpose, mark it as a resend (CSV column resend = yes, or the UBL note %q), or run: multikanal docs resend %s", "#multikanal:resend=yes", first.ID))
	}
	if c := first.Collection; c != nil && formats.PayMethod(c.Method).DirectDebit() && c.State != store.PaymentOpen {
		return refuse(fmt.Sprintf("its payment is collected by %s with that document (%s), and a copy would be collected again; not sent. To deliver the invoice again, run: multikanal docs resend %s", c.Method, c.State, first.ID))
	}
	why := "sent again as the input asks (resend)"
	if !resend {
		why = "sent again, as the tenant's policy is duplicates = \"warn\""
	}
	p := problem(formats.SeverityWarning, why)
	return false, tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Reason: p.Error()})
}

func kindName(k formats.Kind) string {
	if k == formats.KindCreditNote {
		return "this credit note number"
	}
	return "this invoice number"
}

// sellerName names a seller in a message by name and organisationsnummer,
// legal id or VAT id, as far as the document tells.
func sellerName(p formats.Party) string {
	name := p.DisplayName()
	id := p.LegalID.Value
	if id == "" {
		id = p.VATID
	}
	switch {
	case name == "":
		return id
	case id == "":
		return name
	}
	return name + " (" + id + ")"
}
