package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
)

// overdueCSV is the example's invoice 2025-1002 (1 353,79 kr to Lisa
// Andersson by e-mail) under another number and OCR, due days ago.
func overdueCSV(t *testing.T, number, ocr string, days int) []byte {
	t.Helper()
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	out := []string{lines[0]}
	due := time.Now().AddDate(0, 0, -days).Format("2006-01-02")
	issued := time.Now().AddDate(0, 0, -days-30).Format("2006-01-02")
	for _, l := range lines[1:] {
		f := strings.Split(l, ";")
		if f[1] != "2025-1002" {
			continue
		}
		f[1], f[2], f[3], f[13] = number, issued, due, ocr
		out = append(out, strings.Join(f, ";"))
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// bgMax is a Bg Max file (Bankgirot's §10 layout) paying amount öre to
// the demo's bankgiro with the OCR number ocr.
func bgMax(ocr string, amount int64) []byte {
	rec := func(fields ...any) string {
		b := []rune(strings.Repeat(" ", 80))
		for i := 0; i+1 < len(fields); i += 2 {
			copy(b[fields[i].(int)-1:], []rune(fields[i+1].(string)))
		}
		return string(b)
	}
	zp := func(v any, w int) string { s := fmt.Sprint(v); return strings.Repeat("0", max(0, w-len(s))) + s }
	recs := []string{
		rec(1, "01", 3, "BGMAX", 23, "01", 25, time.Now().Format("20060102150405")+"000000", 45, "P"),
		rec(1, "05", 3, "0009912346", 23, "SEK"),
		rec(1, "20", 3, zp("3783511", 10), 13, ocr, 38, zp(amount, 18), 56, "2", 57, "1"),
		rec(1, "15", 3, zp("33001212121212", 35), 38, time.Now().Format("20060102"), 46, zp(1, 5), 51, zp(amount, 18), 69, "SEK", 72, zp(1, 8)),
		rec(1, "70", 3, zp(1, 8), 11, zp(0, 8), 19, zp(0, 8), 27, zp(1, 8)),
	}
	b, _ := charmap.ISO8859_1.NewEncoder().Bytes([]byte(strings.Join(recs, "\r\n") + "\r\n"))
	return b
}

// mailPDF is the PDF attached to a spooled e-mail.
func mailPDF(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var found []byte
	var walk func(ct string, body io.Reader)
	walk = func(ct string, body io.Reader) {
		mt, params, _ := mime.ParseMediaType(ct)
		if !strings.HasPrefix(mt, "multipart/") {
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				return
			}
			pct := part.Header.Get("Content-Type")
			if strings.HasPrefix(pct, "application/pdf") && found == nil {
				raw, _ := io.ReadAll(part)
				found, _ = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(raw), "\r\n", ""))
			}
			walk(pct, part)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Body)
	if found == nil {
		t.Fatalf("no PDF in %s", path)
	}
	return found
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed; install it to read the reminder's PDF")
	}
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.ReplaceAll(string(out), "\u00a0", " ")
}

// reminders runs `multikanal reminders` against the running daemon.
func reminders(t *testing.T, data string, args ...string) *api.ReminderPlan {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"reminders", "--json", "--data", data}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("multikanal reminders %v: %v\n%s", args, err, out)
	}
	var p api.ReminderPlan
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("multikanal reminders: %v\n%s", err, out)
	}
	return &p
}

// On the embedded default, with the real binary: an invoice dropped with
// its due date 30 days past and no payment gets a reminder through the
// recipient's channel (its PDF says "Påminnelse", with the fee and the
// original invoice number); the same invoice paid by a Bg Max file first
// gets none. `reminders --dry-run` shows what would go and changes
// nothing. On the old code there was no reminders command.
func TestReminderEndToEnd(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, data)
	ocrA := "2025400" + string(formats.LuhnDigit("2025400"))
	ocrB := "2025500" + string(formats.LuhnDigit("2025500"))
	for _, f := range []struct{ name, number, ocr string }{{"unpaid.csv", "2025-4001", ocrA}, {"paid.csv", "2025-5001", ocrB}} {
		if r := dropFile(t, d, f.name, overdueCSV(t, f.number, f.ocr, 30)); r.Documents[0].State != api.DocDelivered || r.Documents[0].Channel != "email" {
			t.Fatalf("%s: %+v", f.name, r.Documents[0])
		}
	}
	if r := dropFile(t, d, "bgmax.txt", bgMax(ocrB, 135379)); r.State != api.FileApplied {
		t.Fatalf("Bg Max: %s %s", r.State, r.Reason)
	}
	emails := len(outboxFiles(t, data, false)["email"])

	dry := reminders(t, data, "--dry-run")
	if !dry.DryRun || len(dry.Steps) != 1 || dry.Steps[0].Number != "2025-4001" || dry.Steps[0].Channel != "email" || dry.Steps[0].Fee != 6000 {
		t.Fatalf("dry run: %+v", dry)
	}
	if n := len(outboxFiles(t, data, false)["email"]); n != emails {
		t.Fatalf("the dry run sent %d e-mails", n-emails)
	}
	plan := reminders(t, data)
	if len(plan.Steps) != 1 || plan.Steps[0].Reminder == "" {
		t.Fatalf("reminders: %+v", plan)
	}
	path := filepath.Join(data, "outbox", "email", plan.Steps[0].Reminder+".email.eml")
	waitFor(t, 30*time.Second, "the reminder's e-mail", func() bool { _, err := os.Stat(path); return err == nil })
	text := pdfText(t, mailPDF(t, path))
	for _, want := range []string{"Påminnelse", "2025-4001", "Påminnelseavgift", "60,00", ocrA} {
		if !strings.Contains(text, want) {
			t.Errorf("the reminder's PDF lacks %q:\n%s", want, text)
		}
	}
	if mail := mailText(t, path); !strings.Contains(mail, "faktura 2025-4001") {
		t.Errorf("the reminder's e-mail:\n%s", mail)
	}
	// The paid invoice: no reminder, now or later.
	if later := reminders(t, data, "--dry-run", "--day", time.Now().AddDate(0, 0, 60).Format("2006-01-02")); len(later.Steps) != 1 || later.Steps[0].Number != "2025-4001" {
		t.Errorf("in 60 days: %+v", later.Steps)
	}
	out, err := exec.Command(binary, "docs", "show", "--data", data, plan.Steps[0].Invoice).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "life      reminded") || !strings.Contains(string(out), "2025-4001-P1") {
		t.Errorf("docs show: %v\n%s", err, out)
	}
}

// A letter dropped as a PDF with its index reaches the outbox of its
// recipient's channel: e-mail, the PDF attached as it was. On the old
// code the archive was read as UBL and rejected.
func TestLetterEndToEnd(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, data)
	letter := []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range []struct {
		name string
		body []byte
	}{
		{"index.csv", []byte("file;kind;subject;number;name;email\nnyheter.pdf;notice;Nya priser från 1 januari;N-2027;Lisa Andersson;lisa.andersson@example.se\n")},
		{"nyheter.pdf", letter},
	} {
		w, _ := zw.Create(f.name)
		w.Write(f.body)
	}
	zw.Close()
	r := dropFile(t, d, "brev.zip", b.Bytes())
	if r.Format != "letters" || len(r.Documents) != 1 || r.Documents[0].State != api.DocDelivered || r.Documents[0].Channel != "email" {
		t.Fatalf("receipt: %+v", r)
	}
	path := filepath.Join(data, "outbox", "email", r.Documents[0].ID+".email.eml")
	if got := mailPDF(t, path); !bytes.Equal(got, letter) {
		t.Errorf("the e-mail carries another PDF than the letter's")
	}
	if text := mailText(t, path); !strings.Contains(text, "Nya priser från 1 januari") {
		t.Errorf("the letter's e-mail:\n%s", text)
	}
}
