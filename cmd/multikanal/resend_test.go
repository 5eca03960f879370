package main

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// As a user would: the example invoices, then the same file saved by a
// Windows ERP (Windows-1252, CRLF): nothing new leaves, and the receipt
// names the first file and document of each invoice. Then one of them is
// sent again on purpose with `multikanal docs resend`.
func TestDuplicateFileThenDocsResend(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, data)
	run := func(words string, args ...string) (string, int) {
		all := append(strings.Fields(words), "--data", data)
		out, err := exec.Command(binary, append(all, args...)...).CombinedOutput()
		return string(out), exitCode(err)
	}
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	dropFile(t, d, "invoices.csv", src)
	first := waitFinal(t, data, "invoices.csv", 30*time.Second)
	before := outboxFiles(t, data, false)

	ansi, err := charmap.Windows1252.NewEncoder().Bytes(bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	r := dropFile(t, d, "invoices-ansi.csv", ansi)
	ids := map[string]string{}
	for _, doc := range first.Documents {
		ids[doc.Number] = doc.ID
	}
	for _, doc := range r.Documents {
		if doc.State != "rejected" || !strings.Contains(doc.Reason, `"invoices.csv" (`+first.FileID+") as document "+ids[doc.Number]) {
			t.Errorf("%s: %s: %s", doc.Number, doc.State, doc.Reason)
		}
	}
	time.Sleep(300 * time.Millisecond) // a stray batch would be cut by now
	if after := outboxFiles(t, data, false); !equalOutbox(before, after) {
		t.Errorf("the re-encoded file left the gateway again:\nbefore %v\nafter  %v", before, after)
	}

	id := ids["2025-1002"]
	if out, code := run("docs resend", id); code != exitUsage || !strings.Contains(out, "--reason is required") {
		t.Errorf("docs resend without a reason: exit %d\n%s", code, out)
	}
	out, code := run("docs resend", "--reason", "the buyer says it never arrived", "--by", "anna", id)
	if code != 0 || !strings.Contains(out, id+": resend 1") {
		t.Fatalf("docs resend: exit %d\n%s", code, out)
	}
	waitFor(t, 30*time.Second, "the resent e-mail", func() bool {
		return slices.Contains(outboxFiles(t, data, false)["email"], id+"-r1.email.eml")
	})
	out, code = run("docs show", id)
	if code != 0 || !strings.Contains(out, "resend 1 requested by anna (socket uid ") || !strings.Contains(out, "): the buyer says it never arrived") || !strings.Contains(out, id+"-r1.email") {
		t.Errorf("docs show after the resend: exit %d\n%s", code, out)
	}
	if out, code := run("docs resend", "--reason", "x", r.Documents[0].ID); code != exitProblems || !strings.Contains(out, "only delivered and dead documents can be resent") {
		t.Errorf("docs resend of a refused copy: exit %d\n%s", code, out)
	}
}

func equalOutbox(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for ch, files := range a {
		if !slices.Equal(files, b[ch]) {
			return false
		}
	}
	return true
}
