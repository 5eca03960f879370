package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// What issue 21 must show, on the real binary and the embedded default:
// examples/invoices.csv dropped into the demo inbox; an e-mailed
// invoice's .eml links to its page on the public listener, which loads
// (200) with the amount and a Swish QR code; the page's PDF carries the
// Swish code for the demo's number and the amount (zbar reads it back);
// and the visit shows as "opened" in `multikanal docs show`.
func TestEmbeddedDefaultInvoicePage(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, data)
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(d.inbox(), ".invoices.csv")
	os.WriteFile(tmp, src, 0o644)
	if err := os.Rename(tmp, filepath.Join(d.inbox(), "invoices.csv")); err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, data, "invoices.csv", 60*time.Second)
	var id, amount string
	for _, doc := range r.Documents {
		if doc.Channel == "email" && doc.State == "delivered" {
			id, amount = doc.ID, doc.Amount
			break
		}
	}
	if id == "" {
		t.Fatalf("no invoice went by e-mail: %+v", r.Documents)
	}
	eml, err := os.ReadFile(filepath.Join(data, "outbox", "email", id+".email.eml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(string(eml))
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/i/[^\s"<]+`).FindString(text)
	if link == "" {
		t.Fatalf("the .eml has no link to the invoice page:\n%s", eml)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	swedish := formats.MustAmount(amount).Swedish()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), swedish) || !strings.Contains(string(page), `id="swish-qr"`) {
		t.Fatalf("GET %s: %d; amount %s and a QR code wanted:\n%s", link, resp.StatusCode, swedish, page)
	}

	resp, err = http.Get(link + "/faktura.pdf")
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if codes := zbarPage(t, pdf); len(codes) != 1 || !strings.HasPrefix(codes[0], "C1231181189;"+strings.Replace(amount, ".", ",", 1)+";") {
		t.Errorf("zbar reads %q from the page's PDF; want the demo's Swish number 1231181189 and %s", codes, amount)
	}

	show, err := exec.Command(binary, "docs", "show", "--data", data, id).CombinedOutput()
	if err != nil {
		t.Fatalf("docs show: %v\n%s", err, show)
	}
	if !strings.Contains(string(show), "opened    ") || !strings.Contains(string(show), "opened: the recipient opened the invoice page") {
		t.Errorf("docs show does not say opened:\n%s", show)
	}
}

// zbarPage reads the QR codes on a PDF's first page.
func zbarPage(t *testing.T, pdf []byte) []string {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (poppler-utils, zbar-tools)", tool)
		}
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "f.pdf")
	os.WriteFile(in, pdf, 0o644)
	if out, err := exec.Command("pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", in, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "p*.png"))
	out, _ := exec.Command("zbarimg", "--quiet", "--raw", pages[0]).Output()
	return strings.Fields(string(out))
}
