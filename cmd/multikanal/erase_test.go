package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The operator's erase and compact commands against a running daemon: a dry
// run by default, then the erasure, each with its audit line; compaction and
// the store's line in status.
func TestEraseAndCompactCommands(t *testing.T) {
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
	os.WriteFile(filepath.Join(d.inbox(), "invoices.csv"), src, 0o644)
	waitFinal(t, data, "invoices.csv", 30*time.Second)

	if out, code := run("erase", "--tenant", "demo"); code != exitUsage {
		t.Errorf("erase without --key: exit %d\n%s", code, out)
	}
	out, code := run("erase", "--tenant", "demo", "--key", "pnr:19811218-9876")
	if code != 0 || !strings.Contains(out, "DRY RUN") || !strings.Contains(out, "2025-1004") || !strings.Contains(out, "would remove") ||
		!strings.Contains(out, "Bokföringslagen") {
		t.Fatalf("erase (dry run): exit %d\n%s", code, out)
	}
	out, code = run("erase", "--tenant", "demo", "--key", "pnr:19811218-9876", "--yes")
	if code != 0 || !strings.Contains(out, "removed the personal data of 1 documents") || strings.Contains(out, "DRY RUN") {
		t.Fatalf("erase: exit %d\n%s", code, out)
	}
	audit, err := os.ReadFile(filepath.Join(data, "audit.log"))
	if err != nil || strings.Count(string(audit), "\n") != 2 || !strings.Contains(string(audit), `"action":"erase-dry-run"`) ||
		strings.Contains(string(audit), "19811218") || strings.Contains(string(audit), "8112189876") {
		t.Errorf("audit log (%v):\n%s", err, audit)
	}
	if out, code := run("erase", "--tenant", "nobody", "--key", "pnr:19811218-9876"); code != exitProblems || !strings.Contains(out, "no tenant") {
		t.Errorf("erase for an unknown tenant: exit %d\n%s", code, out)
	}

	out, code = run("compact")
	if code != 0 || !strings.Contains(out, "state.db") || !strings.Contains(out, "writes waited") {
		t.Errorf("compact: exit %d\n%s", code, out)
	}
	out, code = run("status")
	if code != 0 || !strings.Contains(out, "store: quota") || !strings.Contains(out, "compaction: last") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
}
