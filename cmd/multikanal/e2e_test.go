package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store/postgres/pgtest"
)

// These tests run the real binary, as a user would, on a temporary data dir.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "multikanal-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "multikanal")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the binary failed: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

const peppolExamples = "../../../shared/testdata/peppol/openpeppol-examples"

func needShared(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Skipf("shared test data %s is absent; these tests need ../shared beside the project", dir)
	}
	return files
}

type daemon struct {
	t    *testing.T
	data string
	cmd  *exec.Cmd
	out  *syncBuffer
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs `multikanal serve` on the embedded default in data, on
// free ports, and waits until it is ready.
func startDaemon(t *testing.T, data string) *daemon {
	t.Helper()
	return startDaemonWith(t, data, "--data", data, "--http", "127.0.0.1:0", "--sftp", "127.0.0.1:0", "--public", "127.0.0.1:0")
}

// startDaemonWith runs `serve` with these flags, data being the data
// directory they make it use.
func startDaemonWith(t *testing.T, data string, flags ...string) *daemon {
	t.Helper()
	os.Remove(filepath.Join(data, "daemon.json"))
	d := &daemon{t: t, data: data, out: &syncBuffer{}}
	d.cmd = exec.Command(binary, append([]string{"serve"}, flags...)...)
	d.cmd.Stdout = d.out
	d.cmd.Stderr = d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.kill()
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.out.String())
		}
	})
	waitFor(t, 30*time.Second, "the daemon to be ready", func() bool {
		_, err := os.Stat(filepath.Join(data, "daemon.json"))
		return err == nil
	})
	return d
}

func (d *daemon) kill() {
	if d.cmd.Process != nil && d.cmd.ProcessState == nil {
		d.cmd.Process.Signal(syscall.SIGKILL)
		d.cmd.Wait()
	}
}

// stop sends SIGTERM and expects a clean exit 0.
func (d *daemon) stop() {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			d.t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, d.out)
		}
	case <-time.After(60 * time.Second):
		d.t.Fatalf("daemon did not stop within 60s of SIGTERM\n%s", d.out)
	}
}

func (d *daemon) inbox() string { return filepath.Join(d.data, "tenants", "demo", "inbox") }

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readReceipt(t *testing.T, data, name string) (*api.Receipt, bool) {
	b, err := os.ReadFile(filepath.Join(data, "tenants", "demo", "receipts", name+".receipt.json"))
	if err != nil {
		return nil, false
	}
	var r api.Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("receipt %s is not valid JSON: %v", name, err)
	}
	return &r, true
}

func waitFinal(t *testing.T, data, name string, limit time.Duration) *api.Receipt {
	t.Helper()
	var r *api.Receipt
	waitFor(t, limit, "a final receipt for "+name, func() bool {
		var ok bool
		r, ok = readReceipt(t, data, name)
		return ok && r.Final
	})
	return r
}

// outboxFiles lists the files under outbox/, by channel. Hidden names are
// files being written; once the daemon has stopped there must be none.
func outboxFiles(t *testing.T, data string, stopped bool) map[string][]string {
	out := map[string][]string{}
	chans, _ := os.ReadDir(filepath.Join(data, "outbox"))
	for _, ch := range chans {
		entries, _ := os.ReadDir(filepath.Join(data, "outbox", ch.Name()))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				if stopped {
					t.Errorf("temporary file left in outbox/%s: %s", ch.Name(), e.Name())
				}
				continue
			}
			out[ch.Name()] = append(out[ch.Name()], e.Name())
		}
	}
	return out
}

func TestServeOfficialExamplesEndToEnd(t *testing.T) {
	examples := needShared(t, peppolExamples)
	data := t.TempDir()
	d := startDaemon(t, data)

	// One file first, timed the way a new user would see it: cp, then wait
	// for the final receipt.
	base, err := os.ReadFile(filepath.Join(peppolExamples, "base-example.xml"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := os.WriteFile(filepath.Join(d.inbox(), "base-example.xml"), base, 0o644); err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, data, "base-example.xml", 20*time.Second)
	t.Logf("base-example.xml: final receipt %v after the copy", time.Since(start).Round(time.Millisecond))
	if len(r.Documents) != 1 || r.Documents[0].State != "delivered" || r.Documents[0].Channel != "peppol" {
		t.Fatalf("base-example.xml: want one document delivered on peppol, got %+v", r.Documents)
	}
	// The receipt names the output by its base name, never the daemon's path.
	if _, err := os.Stat(filepath.Join(data, "outbox", "peppol", r.Documents[0].Output)); err != nil {
		t.Fatalf("the receipt names output %q, which is not in outbox/peppol: %v", r.Documents[0].Output, err)
	}

	for _, f := range examples {
		if filepath.Base(f) == "base-example.xml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Rename into the inbox, as careful clients do.
		tmp := filepath.Join(d.inbox(), "."+filepath.Base(f))
		os.WriteFile(tmp, b, 0o644)
		os.Rename(tmp, filepath.Join(d.inbox(), filepath.Base(f)))
	}
	bad := map[string][]byte{
		"empty.xml":    {},
		"garbage.txt":  []byte("this is not an invoice\n"),
		"binary.bin":   {0, 1, 2, 3, 0xff, 0xfe, 0, 0, 7},
		"document.pdf": []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n"),
		"again.xml":    base, // the same bytes as base-example.xml
	}
	for name, b := range bad {
		os.WriteFile(filepath.Join(d.inbox(), name), b, 0o644)
	}

	// The official examples reuse invoice numbers (four invoices "Snippet1"
	// and two "Vat-Z" from one seller each): of each number and kind one
	// goes out, and the others are refused as duplicates naming it.
	delivered := 0
	sent := map[string]string{}      // kind and number -> the file delivered
	refused := map[string][]string{} // kind and number -> duplicate reasons
	for _, f := range examples {
		r := waitFinal(t, data, filepath.Base(f), 30*time.Second)
		if r.State != "parsed" || len(r.Documents) != 1 {
			t.Errorf("%s: state %s with %d documents, want parsed with 1 (%s)", filepath.Base(f), r.State, len(r.Documents), r.Reason)
			continue
		}
		doc := r.Documents[0]
		if doc.Number == "" || doc.Amount == "" {
			t.Errorf("%s: receipt lacks number or amount: %+v", filepath.Base(f), doc)
		}
		key := string(doc.Kind) + " " + doc.Number
		switch {
		case doc.State == "delivered":
			delivered++
			if first, ok := sent[key]; ok {
				t.Errorf("%s: %s was delivered already from %s", filepath.Base(f), key, first)
			}
			sent[key] = filepath.Base(f)
			if _, err := os.Stat(filepath.Join(data, "outbox", doc.Channel, doc.Output)); err != nil {
				t.Errorf("%s: output %s missing", filepath.Base(f), doc.Output)
			}
		case doc.State == "rejected" && strings.HasPrefix(doc.Reason, "MK-DUPLICATE: "):
			refused[key] = append(refused[key], doc.Reason)
		default:
			t.Errorf("%s: document %s is %s: %s", filepath.Base(f), doc.Number, doc.State, doc.Reason)
		}
	}
	for key, reasons := range refused {
		for _, reason := range reasons {
			if sent[key] == "" || !strings.Contains(reason, `in file "`+sent[key]+`"`) {
				t.Errorf("%s refused as a duplicate, but not naming the file delivered (%q): %s", key, sent[key], reason)
			}
		}
	}
	if len(refused["invoice Snippet1"]) != 3 || len(refused["invoice Vat-Z"]) != 1 || delivered != len(examples)-4 {
		t.Errorf("%d delivered, refused as duplicates: %v", delivered, refused)
	}
	for name := range bad {
		r := waitFinal(t, data, name, 20*time.Second)
		want := "rejected"
		if name == "again.xml" {
			want = "duplicate"
		}
		if string(r.State) != want || r.Reason == "" {
			t.Errorf("%s: state %s reason %q, want %s with a reason", name, r.State, r.Reason, want)
		}
	}
	if r, _ := readReceipt(t, data, "document.pdf"); r != nil && !strings.Contains(r.Reason, "PDF") {
		t.Errorf("document.pdf: reason %q does not say it looks like PDF", r.Reason)
	}
	if r, _ := readReceipt(t, data, "again.xml"); r != nil && !strings.Contains(r.Reason, "base-example.xml") {
		t.Errorf("again.xml: reason %q does not name the earlier file", r.Reason)
	}
	if got := len(outboxFiles(t, data, false)["peppol"]); got != delivered {
		t.Errorf("outbox/peppol holds %d files, want %d (one per delivered invoice)", got, delivered)
	}

	out, err := exec.Command(binary, "status", "--json", "--data", data).Output()
	if err != nil {
		t.Fatalf("status --json: %v", err)
	}
	var st api.Status
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, out)
	}
	files := 0
	for _, n := range st.Files {
		files += n
	}
	if want := len(examples) + len(bad); files != want || st.Documents["delivered"] != int64(delivered) {
		t.Errorf("status counts %d files and %d delivered, want %d and %d", files, st.Documents["delivered"], want, delivered)
	}
	human, err := exec.Command(binary, "status", "--data", data).Output()
	if err != nil || !strings.Contains(string(human), "delivered") {
		t.Errorf("status: %v\n%s", err, human)
	}
	d.stop()
}

// makeInvoices writes n distinct invoices (the base example with its own
// number each) into dir by rename.
func makeInvoices(t *testing.T, dir string, n int) {
	base, err := os.ReadFile(filepath.Join(peppolExamples, "base-example.xml"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	for i := range n {
		b := bytes.Replace(base, []byte("<cbc:ID>Snippet1</cbc:ID>"), fmt.Appendf(nil, "<cbc:ID>CRASH-%05d</cbc:ID>", i), 1)
		name := fmt.Sprintf("inv-%05d.xml", i)
		os.WriteFile(filepath.Join(dir, "."+name), b, 0o644)
		os.Rename(filepath.Join(dir, "."+name), filepath.Join(dir, name))
	}
}

func TestCrashWhileBatchInFlight(t *testing.T) {
	needShared(t, peppolExamples)
	const n = 300
	data := t.TempDir()
	d := startDaemon(t, data)
	makeInvoices(t, d.inbox(), n)
	kills := 0
	for kills < 3 {
		before := len(outboxFiles(t, data, false)["peppol"])
		if before >= n {
			break
		}
		// Let some work happen, then kill -9 in the middle of it.
		waitFor(t, 60*time.Second, "some deliveries", func() bool { return len(outboxFiles(t, data, false)["peppol"]) > before })
		d.kill()
		kills++
		d = startDaemon(t, data)
	}
	t.Logf("killed the daemon %d times with SIGKILL while the batch was in flight", kills)
	for i := range n {
		name := fmt.Sprintf("inv-%05d.xml", i)
		r := waitFinal(t, data, name, 60*time.Second)
		if len(r.Documents) != 1 || r.Documents[0].State != "delivered" {
			t.Fatalf("%s: want one delivered document, got %+v (%s)", name, r.Documents, r.Reason)
		}
	}
	d.stop()
	files := outboxFiles(t, data, true)["peppol"]
	if len(files) != n {
		t.Fatalf("outbox/peppol holds %d files for %d invoices: something was lost or sent twice", len(files), n)
	}
	entries, _ := os.ReadDir(d.inbox())
	if len(entries) != 0 {
		t.Errorf("inbox still holds %d entries", len(entries))
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// The embedded default's printed sftp command works as printed: the upload
// lands, is processed, and its receipt can be fetched over SFTP.
func TestEmbeddedDefaultSFTPUpload(t *testing.T) {
	needShared(t, peppolExamples)
	if _, err := exec.LookPath("sftp"); err != nil {
		t.Skip("OpenSSH's sftp client is not installed (apt-get install openssh-client); skipping the SFTP upload test")
	}
	data := t.TempDir()
	d := startDaemon(t, data)
	b, err := os.ReadFile(filepath.Join(data, "daemon.json"))
	if err != nil {
		t.Fatal(err)
	}
	var info api.Info
	json.Unmarshal(b, &info)
	cmdline := info.SFTPCommands["demo"]
	if cmdline == "" || !strings.Contains(d.out.String(), cmdline) {
		t.Fatalf("the daemon did not print the sftp command for demo (info %+v)\n%s", info, d.out)
	}
	dir := t.TempDir()
	batch := filepath.Join(dir, "batch")
	src := filepath.Join(peppolExamples, "Vat-category-S.xml")
	os.WriteFile(batch, []byte("put "+src+" /inbox/upload.xml\n"), 0o644)
	args := strings.Fields(cmdline)
	args = append([]string{"-b", batch, "-o", "BatchMode=yes"}, args[1:]...)
	if out, err := exec.Command("sftp", args...).CombinedOutput(); err != nil {
		t.Fatalf("sftp upload: %v\n%s", err, out)
	}
	closed := time.Now()
	r := waitFinal(t, data, "upload.xml", 20*time.Second)
	t.Logf("receipt final %v after the upload closed", time.Since(closed).Round(time.Millisecond))
	if r.Documents[0].State != "delivered" {
		t.Errorf("uploaded invoice: %+v", r.Documents[0])
	}
	got := filepath.Join(dir, "receipt.json")
	os.WriteFile(batch, []byte("get /receipts/upload.xml.receipt.json "+got+"\n"), 0o644)
	if out, err := exec.Command("sftp", args...).CombinedOutput(); err != nil {
		t.Fatalf("sftp get receipt: %v\n%s", err, out)
	}
	if rb, _ := os.ReadFile(got); !strings.Contains(string(rb), `"final": true`) {
		t.Errorf("receipt fetched over SFTP is not final: %s", rb)
	}
	// The sessions are counted in the metrics (which need the token).
	token, err := os.ReadFile(filepath.Join(data, "http.token"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+info.HTTP+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"multikanal_sftp_sessions_total 2", "multikanal_files_received_total", "multikanal_build_info"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
