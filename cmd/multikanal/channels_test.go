package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// One CSV with recipients for every channel, on the embedded default, fills
// the outbox with real renderings that their receivers' tools accept, and
// each receipt says where every invoice went.
func TestEveryChannelFromOneCSV(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, data)
	for _, name := range []string{"recipients.csv", "invoices.csv"} {
		b, err := os.ReadFile(filepath.Join("../../examples", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d.inbox(), "."+name), b, 0o644)
		os.Rename(filepath.Join(d.inbox(), "."+name), filepath.Join(d.inbox(), name))
		waitFinal(t, data, name, 30*time.Second)
	}
	r, _ := readReceipt(t, data, "invoices.csv")
	got := map[string]string{}
	for _, doc := range r.Documents {
		got[doc.Number] = doc.Channel
		if doc.State != "delivered" {
			t.Errorf("%s: %s: %s", doc.Number, doc.State, doc.Reason)
		}
	}
	want := map[string]string{"2025-1001": "peppol", "2025-1002": "email", "2025-1003": "sms", "2025-1004": "kivra",
		"2025-1005": "print", "2025-1006": "print", "2025-1007": "peppol", "2025-1008": "print"}
	for n, ch := range want {
		if got[n] != ch {
			t.Errorf("%s went to %q, want %q", n, got[n], ch)
		}
	}
	out := outboxFiles(t, data, false)
	read := func(channel, suffix string) []byte {
		t.Helper()
		for _, f := range out[channel] {
			if strings.HasSuffix(f, suffix) {
				b, err := os.ReadFile(filepath.Join(data, "outbox", channel, f))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
		t.Fatalf("no %s file in outbox/%s: %v", suffix, channel, out[channel])
		return nil
	}
	// An .eml a mail client opens: headers and a PDF part.
	msg, err := mail.ReadMessage(bytes.NewReader(read("email", ".eml")))
	if err != nil || !strings.Contains(msg.Header.Get("Content-Type"), "multipart/mixed") {
		t.Errorf("e-mail: %v %v", err, msg.Header)
	}
	// A Standard Business Document.
	if sbd := read("peppol", ".xml"); !bytes.Contains(sbd, []byte("<StandardBusinessDocumentHeader>")) || !bytes.Contains(sbd, []byte("<Invoice")) {
		t.Error("peppol: not an SBD with an invoice")
	}
	// A Kivra content request body.
	var kivra map[string]any
	if err := json.Unmarshal(read("kivra", ".json"), &kivra); err != nil || kivra["ssn"] != "198112189876" || kivra["payment_multiple_options"] == nil || kivra["parts"] == nil {
		t.Errorf("kivra: %v %v", err, keys(kivra))
	}
	// An SMS request body (form-encoded, as the gateway receives it).
	if !bytes.Contains(read("sms", ".txt"), []byte("to=%2B46701234567")) {
		t.Error("sms: not addressed to the mobile number in the invoice")
	}
	// A print ZIP with a PDF per letter and a manifest.
	zr, err := zip.NewReader(bytes.NewReader(read("print", ".zip")), int64(len(read("print", ".zip"))))
	if err != nil {
		t.Fatal(err)
	}
	var pdfs int
	var manifest bool
	for _, f := range zr.File {
		pdfs += map[bool]int{true: 1}[strings.HasSuffix(f.Name, ".pdf")]
		manifest = manifest || f.Name == "manifest.json"
	}
	if pdfs != 3 || !manifest {
		t.Errorf("print zip: %d PDFs, manifest %v; want 3 and a manifest", pdfs, manifest)
	}
	d.stop()
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// bigCSV writes n invoices (the example file's, renumbered) to a file.
func bigCSV(t *testing.T, n int) string {
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	path := filepath.Join(t.TempDir(), fmt.Sprintf("big-%d.csv", n))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(lines[0] + "\n")
	// Each round writes the example's invoices (all rows of each) under
	// new numbers; the credit note is left out, its reference would dangle.
	for round := 0; round*7 < n; round++ {
		for _, l := range lines[1:] {
			num := strings.SplitN(l, ";", 3)[1]
			if num == "2025-1007" {
				continue
			}
			w.WriteString(strings.Replace(l, ";"+num+";", fmt.Sprintf(";%s-%07d;", num, round), 1) + "\n")
		}
	}
	w.Flush()
	f.Close()
	return path
}

// convert reads a large CSV with flat memory: peak RSS grows by little when
// the file grows ten times.
func TestConvertLargeCSVFlatMemory(t *testing.T) {
	peak := func(n int) (int64, int) {
		path := bigCSV(t, n)
		cmd := exec.Command(binary, "convert", "--json", path)
		var out countingWriter
		cmd.Stdout = &out
		if err := cmd.Run(); exitCode(err) > 1 {
			t.Fatalf("convert %d invoices: %v", n, err)
		}
		return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss / 1024, out.n
	}
	small, _ := peak(2_000)
	large, bytes := peak(20_000)
	t.Logf("convert: peak RSS %d MB for 2,000 invoices, %d MB for 20,000 (%d MB of JSON out)", small, large, bytes>>20)
	if large > small+40 {
		t.Errorf("peak RSS grew from %d MB to %d MB for ten times the invoices: not streaming", small, large)
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }
