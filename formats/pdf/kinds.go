package pdf

import (
	"strconv"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// The wording of the kinds beside invoices and credit notes, for the
// title and the number label. A reminder is laid out as an invoice is:
// its lines are the invoice's amount left to pay, the fee and the late
// interest, its payment box what to pay in all, and "Avser faktura"
// names the invoice (its Preceding).
func init() {
	for sv, en := range map[string]string{
		"Påminnelse": "Payment reminder", "Påminnelsenummer": "Reminder number", "Påminnelsedatum": "Reminder date",
		"Betala senast": "Pay by",
	} {
		english[sv] = en
	}
}

// heading is the sheet's title, its number's label and its date's and
// due date's labels, by the document's kind.
func (s *sheet) heading() (title, number, date, due string) {
	switch {
	case s.doc.Kind == formats.KindReminder:
		return s.t("Påminnelse"), s.t("Påminnelsenummer"), s.t("Påminnelsedatum"), s.t("Betala senast")
	case s.credit:
		return s.t("Kreditnota"), s.t("Kreditnotanummer"), s.t("Fakturadatum"), s.t("Förfallodatum")
	}
	return s.t("Faktura"), s.t("Fakturanummer"), s.t("Fakturadatum"), s.t("Förfallodatum")
}

// ReminderLines are the lines a reminder shows: what is left of the
// invoice, the fee and the late interest, none of them subject to VAT
// (category O: a fee for a reminder and interest are compensation, not a
// supply). The gateway's reminders and convert use them alike.
func ReminderLines(r *formats.Reminder, english bool) []formats.Line {
	t := translator(english)
	line := func(id, name string, a formats.Amount) formats.Line {
		return formats.Line{ID: id, Quantity: "1", NetAmount: a, Item: formats.LineItem{Name: name, VATCategory: "O"},
			Price: formats.Price{Amount: formats.Decimal(a.String())}}
	}
	due := ""
	if !r.InvoiceDue.IsZero() {
		due = ", " + strings.ToLower(t.t("Förfallodatum")) + " " + r.InvoiceDue.String()
	}
	lines := []formats.Line{line("1", t.t("Faktura")+" "+r.Invoice+due+", "+strings.ToLower(t.t("Att betala")), r.Outstanding)}
	if r.Fee > 0 {
		lines = append(lines, line("2", t.t("Påminnelseavgift"), r.Fee))
	}
	if r.Interest > 0 {
		lines = append(lines, line("3", t.t("Dröjsmålsränta")+" "+string(r.Rate)+" %, "+strconv.Itoa(r.Days)+" "+t.t("dagar"), r.Interest))
	}
	return lines
}

func init() {
	english["Påminnelseavgift"] = "Reminder fee"
	english["Dröjsmålsränta"] = "Late payment interest"
	english["dagar"] = "days"
}
