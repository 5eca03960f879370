package gateway

import (
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// The embedded default's reminders, as the daemon's part makes them: an
// invoice 30 days overdue gets a reminder through its recipient's channel
// (the PDF says "Påminnelse", with the fee, the interest and the
// invoice's number); an invoice paid by Bg Max, one not yet overdue
// enough and one disputed get none; a second reminder follows the first's
// due date, and after the last the invoice goes to debt collection and
// the inkasso export. On the old code there were no reminders at all.
func TestRemindersOnlyForUnpaidInvoices(t *testing.T) {
	b := newBank(t, nil)
	b.drop("inv.csv", invoicesCSV(t,
		inv{number: "2025-9801", ocr: "980100", due: inDays(-30)},
		inv{number: "2025-9802", ocr: "980200", due: inDays(-30)},
		inv{number: "2025-9803", ocr: "980300", due: inDays(-5)},
		inv{number: "2025-9804", ocr: "980400", due: inDays(-30)},
	), nil)
	day := formats.DateOf(time.Now())
	// 9802 is paid in full by Bg Max, 9804 disputed.
	b.applied("bgmax.txt", bgMaxFile(day, 40, [2]any{ocrOf("980200"), int64(135379)}))
	ids := docIDs(t, b, 1)
	if _, err := b.d.dunning.Dispute(ids["2025-9804"], "anna", "the customer says the meter reading is wrong", false); err != nil {
		t.Fatal(err)
	}

	dry, err := b.d.dunning.Remind("demo", day, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Steps) != 1 || dry.Steps[0].Number != "2025-9801" || dry.Steps[0].Action != api.ActionRemind || dry.Steps[0].Channel != "email" {
		t.Fatalf("dry run: want one reminder of 2025-9801 by e-mail, got %+v", dry.Steps)
	}
	s := dry.Steps[0]
	// 1 353,79 left, 60 kr fee, interest at 1.75 + 8 = 9.75 % for 30 days:
	// 135379 * 9.75 / 100 * 30 / 365 = 1084.9 öre.
	if s.Outstanding != 135379 || s.Fee != 6000 || s.Interest != 1085 || s.Total != 135379+6000+1085 {
		t.Errorf("dry run terms: left %s fee %s interest %s total %s", s.Outstanding, s.Fee, s.Interest, s.Total)
	}
	if n := outboxCount(t, b.d, "email"); n != 4 {
		t.Fatalf("a dry run sent something: %d e-mails", n)
	}

	plan, err := b.d.dunning.Remind("demo", day, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 1 || plan.Steps[0].Reminder == "" || plan.File == "" {
		t.Fatalf("reminders made: %+v", plan)
	}
	rem := plan.Steps[0].Reminder
	var r *api.Receipt
	waitUntil(t, func() bool {
		r, err = receipts.Build(b.d.store, plan.File)
		return err == nil && r.Final
	})
	if len(r.Documents) != 1 || r.Documents[0].State != api.DocDelivered || r.Documents[0].Channel != "email" || r.Documents[0].Kind != formats.KindReminder {
		t.Fatalf("the reminders' receipt: %+v", r.Documents)
	}
	texts := channelTexts(t, filepath.Join(b.d.dataDir, "outbox"), paymentInvoice{channel: "email"}, rem)
	for _, want := range []string{"Påminnelse", "2025-9801-P1", "2025-9801", "Påminnelseavgift", "60,00", "Dröjsmålsränta", "10,85", "1 424,64", ocrOf("980100")} {
		if !strings.Contains(texts["e-mail PDF"], want) {
			t.Errorf("the reminder's PDF lacks %q:\n%s", want, texts["e-mail PDF"])
		}
	}
	for _, want := range []string{"påminnelse 2025-9801-P1", "faktura 2025-9801", "Påminnelseavgift: 60,00 SEK"} {
		if !strings.Contains(texts["e-mail text"], want) {
			t.Errorf("the reminder's e-mail lacks %q:\n%s", want, texts["e-mail text"])
		}
	}
	life := func(number string) *api.ReceiptDocument {
		r, err := receipts.Build(b.d.store, fileID(1))
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range r.Documents {
			if d.Number == number {
				return &r.Documents[i]
			}
		}
		t.Fatalf("no %s", number)
		return nil
	}
	for number, want := range map[string]string{"2025-9801": store.LifeReminded, "2025-9802": store.LifePaid, "2025-9803": "delivered", "2025-9804": store.LifeDisputed} {
		if got := life(number); got.Life != want {
			t.Errorf("%s: life %q, want %q", number, got.Life, want)
		}
	}

	// The same day again: nothing; the reminder's due date is the next step's.
	if again, _ := b.d.dunning.Remind("demo", day, false); len(again.Steps) != 0 {
		t.Errorf("a second run the same day made %+v", again.Steps)
	}
	// 9803, 5 days overdue today, is 25 days overdue in 20 days: its
	// first reminder; 9801 gets its second, with the same fee (one per
	// invoice).
	steps := func(days int, dry bool) map[string]api.ReminderStep {
		t.Helper()
		plan, err := b.d.dunning.Remind("demo", formats.DateOf(time.Now().AddDate(0, 0, days)), dry)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]api.ReminderStep{}
		for _, s := range plan.Steps {
			out[s.Number] = s
		}
		return out
	}
	second := steps(20, false)
	if s := second["2025-9801"]; len(second) != 2 || s.Sequence != 2 || s.Fee != 6000 || second["2025-9803"].Sequence != 1 {
		t.Fatalf("in 20 days: %+v", second)
	}
	if s, ok := steps(43, true)["2025-9801"]; ok {
		t.Errorf("debt collection before its time: %+v", s)
	}
	if s := steps(44, false)["2025-9801"]; s.Action != api.ActionCollectionAgency {
		t.Fatalf("hand-off to debt collection: %+v", s)
	}
	if got := life("2025-9801"); got.Life != store.LifeCollectionAgency || got.Reminders != 2 {
		t.Errorf("after the hand-off: life %q, %d reminders", got.Life, got.Reminders)
	}
	out, n, err := b.d.dunning.Export("demo", day, true)
	if err != nil || n != 1 {
		t.Fatalf("inkasso export: %v, %d rows", err, n)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.ReplaceAll(string(out), ";", ","))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]string{}
	for i, h := range rows[0] {
		row[h] = rows[1][i]
	}
	for k, want := range map[string]string{"invoice": "2025-9801", "outstanding": "1353.79", "reminder_fees": "60.00", "reminders": "2",
		"ocr": ocrOf("980100"), "interest_rate": "9.75", "debtor_name": "Lisa Andersson"} {
		if row[k] != want {
			t.Errorf("inkasso export %s = %q, want %q", k, row[k], want)
		}
	}
	if _, n, _ := b.d.dunning.Export("demo", day, true); n != 0 {
		t.Errorf("a second export of new hand-offs listed %d again", n)
	}
}

// docIDs are the document ids of a file's invoices by number.
func docIDs(t *testing.T, b *bank, fileNo int) map[string]string {
	t.Helper()
	r, err := receipts.Build(b.d.store, fileID(fileNo))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range r.Documents {
		out[d.Number] = d.ID
	}
	return out
}

// bgMaxFile is a Bg Max file (Bankgirot, §10) of payments to the demo's
// bankgiro, each an OCR number and an amount in öre.
func bgMaxFile(day formats.Date, serial int, payments ...[2]any) []byte {
	recs := []string{
		record(1, "01", 3, "BGMAX", 23, "01", 25, time.Now().Format("20060102150405")+"000000", 45, "P"),
		record(1, "05", 3, demoBG, 23, "SEK"),
	}
	var sum int64
	for _, p := range payments {
		recs = append(recs, record(1, "20", 3, zp("3783511", 10), 13, p[0].(string), 38, zp(p[1].(int64), 18), 56, "2", 57, "1"))
		sum += p[1].(int64)
	}
	recs = append(recs,
		record(1, "15", 3, zp("33001212121212", 35), 38, ymd(day), 46, zp(serial, 5), 51, zp(sum, 18), 69, "SEK", 72, zp(len(payments), 8)),
		record(1, "70", 3, zp(len(payments), 8), 11, zp(0, 8), 19, zp(0, 8), 27, zp(1, 8)))
	return bankFile(recs...)
}

func outboxCount(t *testing.T, d *Daemon, channel string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", channel, "*"))
	return len(files)
}

// An ERP's own reminder (CSV type reminder, preceding_invoice naming the
// invoice) is sent and recorded on its invoice; one for an invoice paid
// by Bg Max is refused with MK-REMIND. On the old code "reminder" was no
// document type.
func TestReminderFromTheERP(t *testing.T) {
	b := newBank(t, nil)
	b.drop("inv.csv", invoicesCSV(t, inv{number: "2025-9811", ocr: "981100", due: inDays(-20)}, inv{number: "2025-9812", ocr: "981200", due: inDays(-20)}), nil)
	b.applied("bgmax.txt", bgMaxFile(formats.DateOf(time.Now()), 42, [2]any{ocrOf("981200"), int64(135379)}))
	rem := func(n int, number, invoice string) []byte {
		body := invoicesCSV(t, inv{number: number, ocr: "98" + invoice[len(invoice)-2:] + "00", due: inDays(10)})
		body = setColumn(t, body, "type", "reminder")
		return setColumn(t, body, "preceding_invoice", invoice)
	}
	r := b.drop("rem.csv", append(rem(0, "P-9811", "2025-9811"), rem(1, "P-9812", "2025-9812")[len(strings.SplitN(string(rem(1, "P-9812", "2025-9812")), "\n", 2)[0])+1:]...), nil)
	got := map[string]api.ReceiptDocument{}
	for _, d := range r.Documents {
		got[d.Number] = d
	}
	if d := got["P-9811"]; d.State != api.DocDelivered || d.Kind != formats.KindReminder || d.Reminds == "" {
		t.Errorf("the reminder of the unpaid invoice: %+v", d)
	}
	if d := got["P-9812"]; d.State != api.DocRejected || !strings.Contains(d.Reason, "MK-REMIND") || !strings.Contains(d.Reason, "its payment is paid") {
		t.Errorf("the reminder of the paid invoice: %s %s", d.State, d.Reason)
	}
	ids := docIDs(t, b, 1)
	var doc *store.Doc
	b.d.store.View(func(tx store.Tx) (err error) { doc, err = tx.Doc(ids["2025-9811"]); return })
	if doc.Life() != store.LifeReminded || doc.Dunning.Reminders[0].Source != "input file "+fileID(3) {
		t.Errorf("the invoice after the ERP's reminder: life %s, %+v", doc.Life(), doc.Dunning)
	}
}
