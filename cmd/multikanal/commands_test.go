package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/convert"
)

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
