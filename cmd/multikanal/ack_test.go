package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
)

// deadInvoiceCSV is the example invoice 2025-1001 forced to e-mail, which
// it has no address for: it ends dead.
func deadInvoiceCSV(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	col := -1
	for i, h := range strings.Split(lines[0], ";") {
		if h == "channel" {
			col = i
		}
	}
	if col < 0 {
		t.Fatal("examples/invoices.csv has no channel column")
	}
	out := lines[0] + "\n"
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "invoice;2025-1001;") {
			f := strings.Split(l, ";")
			f[col] = "email"
			out += strings.Join(f, ";") + "\n"
		}
	}
	return []byte(out)
}

// `multikanal status` lists a dead document under "needs attention" after
// its file is final, until `multikanal docs ack --why TEXT ID` acknowledges it;
// the acknowledgement is in `docs show`'s history.
func TestStatusAndDocsAck(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, data)
	if err := os.WriteFile(filepath.Join(d.inbox(), "dead.csv"), deadInvoiceCSV(t), 0o644); err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, data, "dead.csv", 30*time.Second)
	if len(r.Documents) != 1 || r.Documents[0].State != "dead" {
		t.Fatalf("dead.csv: %+v, want one dead document", r.Documents)
	}
	id := r.Documents[0].ID
	status := func() (string, api.Status) {
		t.Helper()
		// The file leaves the open files once its final receipt is recorded.
		var st api.Status
		waitFor(t, 20*time.Second, "no open file", func() bool {
			out, err := exec.Command(binary, "status", "--json", "--data", data).Output()
			return err == nil && json.Unmarshal(out, &st) == nil && st.FilesOpen == 0
		})
		out, err := exec.Command(binary, "status", "--data", data).CombinedOutput()
		if err != nil {
			t.Fatalf("status: %v\n%s", err, out)
		}
		return string(out), st
	}
	human, st := status()
	if st.NeedsAttention != 1 || len(st.Failures) != 1 || st.Failures[0].Doc != id {
		t.Errorf("status --json: %d need attention, failures %+v; want %s", st.NeedsAttention, st.Failures, id)
	}
	if !strings.Contains(human, "needs attention (1):") || !strings.Contains(human, id) || !strings.Contains(human, "multikanal docs ack --why TEXT ID") {
		t.Errorf("status does not list the dead document under needs attention:\n%s", human)
	}

	out, err := exec.Command(binary, "docs", "ack", "--data", data, id).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(string(out), "--why") {
		t.Errorf("docs ack without --why: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "docs", "ack", "--by", "ops", "--why", "customer paid at the counter", "--data", data, id).CombinedOutput()
	// The CLI comes through the socket: the daemon records the user the
	// kernel says is at its other end beside the name the CLI gives.
	if err != nil || !strings.Contains(string(out), id+": dead, acknowledged by ops (socket uid ") || !strings.Contains(string(out), "): customer paid at the counter") {
		t.Fatalf("docs ack: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "docs", "ack", "--why", "again", "--data", data, id).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "was acknowledged by ops") {
		t.Errorf("a second ack: %v\n%s", err, out)
	}
	human, st = status()
	if st.NeedsAttention != 0 || st.DeadAcknowledged != 1 || strings.Contains(human, "needs attention") ||
		!strings.Contains(human, "dead and acknowledged: 1") {
		t.Errorf("after the ack: %d need attention, %d acknowledged:\n%s", st.NeedsAttention, st.DeadAcknowledged, human)
	}
	show, err := exec.Command(binary, "docs", "show", "--data", data, id).CombinedOutput()
	if err != nil || !strings.Contains(string(show), "acknowledged by ops (socket uid ") || !strings.Contains(string(show), "): customer paid at the counter") {
		t.Errorf("docs show lacks the acknowledgement: %v\n%s", err, show)
	}
	d.stop()
}
