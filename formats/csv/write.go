package csv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/multikanal/multikanal/formats"
)

// Writer writes documents in the Multikanal CSV the Swedish way: UTF-8
// without a byte order mark, ';' between values, a decimal comma, LF line
// ends, every column of the format in a fixed order, the header row first.
// What Writer writes, Read reads back as the same documents.
type Writer struct {
	w      *csv.Writer
	n      numbers
	header bool
	rec    []string
}

// NewWriter returns a Writer that writes to w. Call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	return &Writer{w: cw, n: numbers{mark: ','}, rec: make([]string, len(columns))}
}

// Write writes one document, a row per line. It refuses a document that
// the format cannot carry in full (allowances and charges, a payee, a
// delivery, several notes, ...) rather than drop part of it.
func (w *Writer) Write(d *formats.Document) error {
	if err := fits(d); err != nil {
		return fmt.Errorf("csv: %s: %w", d.Label(), err)
	}
	if !w.header {
		for i, c := range columns {
			w.rec[i] = c.name
		}
		if err := w.w.Write(w.rec); err != nil {
			return err
		}
		w.header = true
	}
	for li := range d.Lines {
		for i, c := range columns {
			w.rec[i] = w.value(c.name, d, &d.Lines[li])
		}
		if err := w.w.Write(w.rec); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes any buffered data and reports a write error.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// Write writes docs to w in the Multikanal CSV; see Writer.
func Write(w io.Writer, docs ...*formats.Document) error {
	cw := NewWriter(w)
	for _, d := range docs {
		if err := cw.Write(d); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// fits reports what in a document the format has no column for.
func fits(d *formats.Document) error {
	switch {
	case len(d.Lines) == 0:
		return errors.New("it has no lines, and a row is a line")
	case len(d.AllowanceCharges) > 0:
		return errors.New("the format has no columns for document allowances and charges")
	case d.Payee != nil, d.Delivery != nil, d.Period != nil, len(d.Attachments) > 0:
		return errors.New("the format has no columns for a payee, delivery, invoicing period or attachments")
	case len(d.Notes) > 1, len(d.Preceding) > 1:
		return errors.New("the format carries one note and one preceding invoice")
	case d.Totals.Prepaid != nil, d.Totals.Rounding != nil, d.Totals.AllowanceTotal != nil, d.Totals.ChargeTotal != nil:
		return errors.New("the format has no columns for prepaid, rounding, allowance or charge totals")
	}
	for _, l := range d.Lines {
		if len(l.AllowanceCharges) > 0 || l.Period != nil || l.Note != "" || !l.Price.BaseQuantity.IsZero() && l.Price.BaseQuantity.Rat().Cmp(formats.Decimal("1").Rat()) != 0 {
			return fmt.Errorf("line %s: the format has no columns for line allowances, periods, notes or a price base quantity", l.ID)
		}
	}
	return nil
}

// value gives one column's value for a line of a document.
func (w *Writer) value(name string, d *formats.Document, l *formats.Line) string {
	switch name {
	case "type":
		return string(d.Kind)
	case "invoice_number":
		return d.Number
	case "issue_date":
		return d.IssueDate.String()
	case "due_date":
		return d.DueDate.String()
	case "currency":
		return d.Currency
	case "buyer_reference":
		return d.BuyerReference
	case "order_reference":
		return d.OrderReference
	case "preceding_invoice":
		if len(d.Preceding) == 1 {
			return d.Preceding[0].Number
		}
	case "preceding_invoice_date":
		if len(d.Preceding) == 1 {
			return d.Preceding[0].IssueDate.String()
		}
	case "note":
		if len(d.Notes) == 1 {
			return d.Notes[0]
		}
	case "payment_terms":
		return d.PaymentTerms
	case "channel":
		return d.ForcedChannel
	case "resend":
		if d.Resend {
			return "yes"
		}
	case "seller_name":
		return d.Seller.Name
	case "seller_orgnr":
		return d.Seller.LegalID.Value
	case "seller_vat_id":
		return d.Seller.VATID
	case "seller_tax_registration":
		return d.Seller.TaxRegistration
	case "seller_peppol_id":
		return d.Seller.Endpoint.String()
	case "seller_street":
		return d.Seller.Address.Street
	case "seller_street2":
		return d.Seller.Address.Additional
	case "seller_postal_code":
		return d.Seller.Address.PostalCode
	case "seller_city":
		return d.Seller.Address.City
	case "seller_country":
		return d.Seller.Address.Country
	case "seller_email":
		return d.Seller.Contact.Email
	case "seller_phone":
		return d.Seller.Contact.Phone
	case "seller_bankgiro":
		return d.Bankgiro()
	case "seller_plusgiro":
		return d.Plusgiro()
	case "seller_iban":
		return d.IBAN()
	case "seller_bic":
		for _, m := range d.PaymentMeans {
			if m.AccountScheme == formats.AccountIBAN && m.Account != "" {
				return m.ServiceID
			}
		}
	case "ocr":
		return d.PaymentReference()
	case "autogiro_payer_number":
		return d.MandateReference()
	case "buyer_name":
		return d.Buyer.Name
	case "buyer_customer_number":
		return d.Buyer.CustomerNumber
	case "buyer_orgnr":
		return d.Buyer.LegalID.Value
	case "buyer_vat_id":
		return d.Buyer.VATID
	case "buyer_personnummer":
		return d.Buyer.PersonalID
	case "buyer_peppol_id":
		return d.Buyer.Endpoint.String()
	case "buyer_email":
		return d.Buyer.Contact.Email
	case "buyer_mobile", "buyer_phone":
		// The model has one phone number; a Swedish mobile number goes in
		// buyer_mobile, where the SMS channel looks.
		if _, mobile := formats.SwedishMobile(d.Buyer.Contact.Phone); mobile == (name == "buyer_mobile") {
			return d.Buyer.Contact.Phone
		}
	case "buyer_street":
		return d.Buyer.Address.Street
	case "buyer_street2":
		return d.Buyer.Address.Additional
	case "buyer_postal_code":
		return d.Buyer.Address.PostalCode
	case "buyer_city":
		return d.Buyer.Address.City
	case "buyer_country":
		return d.Buyer.Address.Country
	case "vat_exemption_reason":
		for _, b := range d.VAT {
			if b.ExemptionReason != "" {
				return b.ExemptionReason
			}
		}
	case "total_excl_vat":
		return w.n.format(d.Totals.TaxExclusive)
	case "total_vat":
		if d.Totals.TaxTotal != nil {
			return w.n.format(*d.Totals.TaxTotal)
		}
	case "total_incl_vat":
		return w.n.format(d.Totals.TaxInclusive)
	case "line_description":
		return l.Item.Name
	case "line_article_number":
		return l.Item.SellerID
	case "line_quantity":
		return w.n.formatDecimal(l.Quantity)
	case "line_unit":
		return l.Unit
	case "line_price":
		return w.n.formatDecimal(l.Price.Amount)
	case "line_vat_rate":
		return w.n.formatDecimal(l.Item.VATRate)
	case "line_vat_category":
		return l.Item.VATCategory
	case "line_amount":
		return w.n.format(l.NetAmount)
	}
	return ""
}
