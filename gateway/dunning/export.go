package dunning

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/store"
)

// ExportColumns are the inkasso export's columns: what a debt collection
// agency asks for to take a claim over (the debtor, the claim, what was
// added to it, what was done about it).
var ExportColumns = []string{
	"invoice", "invoice_date", "due_date", "currency", "amount", "paid", "outstanding",
	"reminder_fees", "interest_rate", "interest_from", "interest_to_date", "reminders", "last_reminder", "last_reminder_due",
	"ocr", "debtor_name", "debtor_personal_id", "debtor_orgnr", "customer_number", "street", "additional", "postal_code", "city", "country",
	"email", "phone", "handed_over", "exported_before", "document",
}

// Export writes the tenant's invoices handed to debt collection as CSV
// (ExportColumns; ';' separated, UTF-8, amounts with a decimal point).
// With onlyNew it lists only those no export listed before and records
// that this one did (a POST); otherwise it lists all and changes nothing.
// Interest is counted to day at the tenant's rate.
func (d *Dunning) Export(tenant string, day formats.Date, onlyNew bool) ([]byte, int, error) {
	t, ok := d.Tenant(tenant)
	if !ok {
		return nil, 0, errkind.New(errkind.NotFound, "tenant %q is not configured", tenant)
	}
	var ids []string
	err := d.Store.ScanDocsNewestFirst(func(doc *store.Doc) error {
		if doc.Tenant == tenant && doc.Dunning != nil && !doc.Dunning.Agency.IsZero() && (!onlyNew || doc.Dunning.Exported.IsZero()) {
			ids = append(ids, doc.ID)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = ';'
	now := d.Now().UTC()
	rows := 0
	write := func(tx store.Tx) error {
		// An Update may run twice: the output starts afresh.
		b.Reset()
		w.Write(ExportColumns)
		rows = 0
		for i := len(ids) - 1; i >= 0; i-- {
			doc, err := tx.Doc(ids[i])
			if err != nil {
				return err
			}
			body, err := tx.Body(doc.ID)
			if errors.Is(err, store.ErrNotFound) {
				body = &formats.Document{Number: doc.Number, Currency: doc.Currency, DueDate: doc.DueDate, Buyer: formats.Party{Name: doc.Buyer}}
			} else if err != nil {
				return err
			}
			var rate formats.Decimal
			if t.Reminders != nil {
				rate = t.Reminders.RatePercent
			}
			w.Write(exportRow(rate, doc, body, day))
			rows++
			if onlyNew {
				doc.Dunning.Exported = now
				if err := tx.PutDoc(doc); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if onlyNew {
		err = d.Store.Update(write)
	} else {
		err = d.Store.View(write)
	}
	w.Flush()
	return b.Bytes(), rows, err
}

func exportRow(rate formats.Decimal, doc *store.Doc, body *formats.Document, day formats.Date) []string {
	var paid formats.Amount
	if p := doc.Payment(); p != nil {
		paid = p.Paid
	}
	outstanding := doc.Amount - paid
	var fees formats.Amount
	var last store.SentReminder
	for _, r := range doc.Dunning.Reminders {
		fees = max(fees, r.Fee) // one fee per invoice: a later reminder repeats it
		last = r
	}
	b := body.Buyer
	orgnr, pnr := b.LegalID.Value, b.PersonalID
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	}
	interestFrom, interestTo := "", ""
	if rate != "" && !rate.IsZero() && !doc.DueDate.IsZero() {
		interestFrom = doc.DueDate.String()
		interestTo = TermsOf(&config.Reminders{RatePercent: rate}, doc.Currency, doc.DueDate, day, outstanding, 0).Interest.String()
	}
	lastDue := ""
	if !last.Due.IsZero() {
		lastDue = last.Due.String()
	}
	return []string{
		doc.Number, body.IssueDate.String(), doc.DueDate.String(), doc.Currency, doc.Amount.String(), paid.String(), outstanding.String(),
		fees.String(), string(rate), interestFrom, interestTo, strconv.Itoa(len(doc.Dunning.Reminders)), date(last.At), lastDue,
		body.PaymentReference(), b.Name, pnr, orgnr, b.CustomerNumber, b.Address.Street, b.Address.Additional, b.Address.PostalCode, b.Address.City,
		strings.ToUpper(b.Address.Country), b.Contact.Email, b.Contact.Phone, date(doc.Dunning.Agency), date(doc.Dunning.Exported), doc.ID,
	}
}
