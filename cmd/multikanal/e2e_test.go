package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/convert"
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

func TestConvertCommand(t *testing.T) {
	needShared(t, peppolExamples)
	out, err := exec.Command(binary, "convert", "--json", filepath.Join(peppolExamples, "base-example.xml")).Output()
	if err != nil {
		t.Fatalf("convert --json base-example.xml: %v", err)
	}
	var c convert.Converted
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(c.Documents) != 1 {
		t.Fatalf("want 1 document, got %d", len(c.Documents))
	}
	inv := c.Documents[0].Invoice
	if inv.Number != "Snippet1" || inv.Totals.Payable.String() != "1656.25" || inv.DueDate.String() != "2017-12-01" ||
		inv.PaymentReference() != "Snippet1" || inv.Seller.Name == "" || inv.Buyer.Name == "" || c.Documents[0].Channel != "peppol" {
		t.Errorf("unexpected conversion: number %q payable %s due %s ref %q seller %q buyer %q channel %q",
			inv.Number, inv.Totals.Payable, inv.DueDate, inv.PaymentReference(), inv.Seller.Name, inv.Buyer.Name, c.Documents[0].Channel)
	}

	garbage := filepath.Join(t.TempDir(), "garbage.bin")
	os.WriteFile(garbage, []byte("\x00\x01garbage\xff"), 0o644)
	cmd := exec.Command(binary, "convert", garbage)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if code := exitCode(err); code != 2 {
		t.Errorf("convert on garbage: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "binary") {
		t.Errorf("convert on garbage does not say why: %q", stderr.String())
	}
	if code := exitCode(exec.Command(binary, "convert").Run()); code != 2 {
		t.Errorf("convert without files: exit %d, want 2", code)
	}
}

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("data_dir = \"/tmp/x\"\n\n[[tenant]]\nid = \"acme\"\nprioriy = [\"email\"]\n"), 0o644)
	cmd := exec.Command(binary, "check", "--config", bad)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if code := exitCode(cmd.Run()); code != 1 {
		t.Errorf("check on a bad config: exit %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "prioriy") || !strings.Contains(stderr.String(), ":5") {
		t.Errorf("check does not name the unknown key and its line: %q", stderr.String())
	}
	// serve refuses the same config with the same message.
	serve := exec.Command(binary, "serve", "--config", bad)
	var serr bytes.Buffer
	serve.Stderr = &serr
	if code := exitCode(serve.Run()); code != 1 || serr.String() != stderr.String() {
		t.Errorf("serve on a bad config: exit %d, message %q; want 1 and check's message %q", code, serr.String(), stderr.String())
	}
}

func TestSecondDaemonOnSameDataFailsFast(t *testing.T) {
	data := t.TempDir()
	startDaemon(t, data)
	start := time.Now()
	cmd := exec.Command(binary, "serve", "--data", data, "--http", "127.0.0.1:0", "--sftp", "127.0.0.1:0", "--public", "127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "locked") {
		t.Errorf("second daemon: exit %d, output %q; want exit 1 saying the store is locked", exitCode(err), out)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("second daemon took %v to give up", time.Since(start))
	}
}

// A daemon whose SFTP port is taken stops at once and says so, instead of
// hanging at start.
func TestSFTPPortInUseFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(binary, "serve", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--sftp", ln.Addr().String(), "--public", "127.0.0.1:0")
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the daemon still runs 20 s after its SFTP port was found taken:\n%s", out)
	}
	if exitCode(err) != 1 || !strings.Contains(string(out), "sftp.listen "+ln.Addr().String()) {
		t.Errorf("exit %d, output %q; want exit 1 naming sftp.listen", exitCode(err), out)
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

// The daemon speaks systemd's notify protocol: READY=1 once the store and the
// inboxes are up, WATCHDOG=1 while WATCHDOG_USEC is set, STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	data := t.TempDir()
	cmd := exec.Command(binary, "serve", "--data", data, "--http", "127.0.0.1:0", "--sftp", "127.0.0.1:0", "--public", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=200000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	expect := func(want string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case m := <-msgs:
				if strings.Contains(m, want) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s from the daemon", want)
			}
		}
	}
	expect("READY=1")
	expect("WATCHDOG=1")
	cmd.Process.Signal(syscall.SIGTERM)
	expect("STOPPING=1")
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
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

// The operator's commands against a running daemon: recipients import (all
// or nothing), routing by registration, docs list/show/retry, backup.
func TestOperatorCommands(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, data)
	// run runs "multikanal WORDS --data DATA ARGS...": Go's flag package
	// stops at the first positional argument, so the flags go first.
	run := func(words string, args ...string) (string, int) {
		all := append(strings.Fields(words), "--data", data)
		out, err := exec.Command(binary, append(all, args...)...).CombinedOutput()
		return string(out), exitCode(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("key;channel;address\npnr:198112189875;efaktura;\ncustomer:7;fax;\n"), 0o644)
	out, code := run("recipients import", bad)
	if code != 1 || !strings.Contains(out, "line 2") || !strings.Contains(out, "line 3") || !strings.Contains(out, "nothing applied") {
		t.Errorf("import of a bad file: exit %d\n%s", code, out)
	}
	good := filepath.Join(dir, "reg.csv")
	os.WriteFile(good, []byte("key;channel;address;valid_from\npnr:198112189876;efaktura;;2026-01-15\n"), 0o644)
	if out, code := run("recipients import", good); code != 0 || !strings.Contains(out, "1 registrations added") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	if out, code := run("recipients show", "pnr:19811218-9876"); code != 0 || !strings.Contains(out, "efaktura") || !strings.Contains(out, "reg.csv line 2") {
		t.Errorf("recipients show: exit %d\n%s", code, out)
	}

	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d.inbox(), "invoices.csv"), src, 0o644)
	r := waitFinal(t, data, "invoices.csv", 30*time.Second)
	byNumber := map[string]api.ReceiptDocument{}
	for _, doc := range r.Documents {
		byNumber[doc.Number] = doc
	}
	if doc := byNumber["2025-1004"]; doc.Channel != "efaktura" || len(doc.Route) < 2 || !strings.Contains(doc.Route[1].Reason, "reg.csv line 2") {
		t.Errorf("the registered consumer went to %q; the route must say why: %+v", doc.Channel, doc.Route)
	}
	for number, want := range map[string]string{"2025-1001": "peppol", "2025-1002": "email", "2025-1003": "sms", "2025-1008": "print"} {
		if got := byNumber[number]; got.State != "delivered" || got.Channel != want {
			t.Errorf("%s: %s on %s, want delivered on %s (%s)", number, got.State, got.Channel, want, got.Reason)
		}
	}

	out, code = run("docs list", "--state", "delivered")
	if code != 0 || !strings.Contains(out, "2025-1001") {
		t.Errorf("docs list: exit %d\n%s", code, out)
	}
	id := byNumber["2025-1002"].ID
	out, code = run("docs show", id)
	if code != 0 || !strings.Contains(out, "history:") || !strings.Contains(out, "received") || !strings.Contains(out, "delivered") {
		t.Errorf("docs show: exit %d\n%s", code, out)
	}
	if out, code := run("docs retry", id); code != 1 || !strings.Contains(out, "delivered") {
		t.Errorf("docs retry of a delivered document: exit %d\n%s", code, out)
	}

	backup := filepath.Join(dir, "backup.db")
	if out, code := run("backup", backup); code != 0 || !strings.Contains(out, "online") {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	d.stop()
	// The copy is a working store: a daemon starts on it and counts the same.
	restored := t.TempDir()
	copyFile(t, backup, filepath.Join(restored, "state.db"))
	startDaemon(t, restored)
	if st, err := exec.Command(binary, "status", "--data", restored).CombinedOutput(); err != nil || !strings.Contains(string(st), "delivered 8") {
		t.Errorf("status on the restored store: %v\n%s", err, st)
	}
}

func copyFile(t *testing.T, src, dst string) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

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
