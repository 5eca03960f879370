package sftpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// logBuffer collects the JSON audit log of a test server.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the log lines so far.
func (b *logBuffer) records() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// matches reports whether r has message msg and every key=value of kv. A
// value starting with "~" matches when the field contains the rest.
func matches(r map[string]any, msg string, kv []string) bool {
	if r["msg"] != msg {
		return false
	}
	for i := 0; i+1 < len(kv); i += 2 {
		got := fmt.Sprint(r[kv[i]])
		if f, ok := r[kv[i]].(float64); ok && f == float64(int64(f)) {
			got = fmt.Sprint(int64(f))
		}
		if want, ok := strings.CutPrefix(kv[i+1], "~"); ok {
			if !strings.Contains(got, want) {
				return false
			}
		} else if got != kv[i+1] {
			return false
		}
	}
	return true
}

// testTenant is a tenant with the client key that logs in as it.
type testTenant struct {
	Tenant
	key string // private key path
	fp  string
}

// testEnv is a running server with tenants alice and bob on 127.0.0.1.
type testEnv struct {
	t       testing.TB
	srv     *Server
	dir     string
	port    string
	kh      string // known_hosts for StrictHostKeyChecking=yes
	local   string // the client's working directory
	logs    *logBuffer
	tenants map[string]*testTenant
}

// testPassword is bob's password; alice has one too (alicePassword).
const (
	testPassword  = "bob-secret"
	alicePassword = "alice-secret"
)

// bcryptTest is a cheap hash so password tests stay fast.
func bcryptTest(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// newEnv starts a server; tweak may change the options before New.
func newEnv(t testing.TB, tweak func(*Options)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	e := &testEnv{t: t, dir: dir, logs: &logBuffer{}, tenants: map[string]*testTenant{},
		local: filepath.Join(dir, "local"), kh: filepath.Join(dir, "known_hosts")}
	if err := os.MkdirAll(e.local, 0o755); err != nil {
		t.Fatal(err)
	}
	var list []Tenant
	for _, id := range []string{"alice", "bob"} {
		key, line, err := EnsureClientKey(filepath.Join(dir, "keys"), id)
		if err != nil {
			t.Fatal(err)
		}
		ak := filepath.Join(dir, "tenants", id, "authorized_keys")
		os.MkdirAll(filepath.Dir(ak), 0o755)
		content := "# " + id + "'s ERP\n\n" + line + "\n"
		if err := os.WriteFile(ak, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		pub, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(line))
		tt := &testTenant{Tenant: Tenant{
			ID:                 id,
			InboxDir:           filepath.Join(dir, "tenants", id, "inbox"),
			ReceiptsDir:        filepath.Join(dir, "tenants", id, "receipts"),
			AuthorizedKeysFile: ak,
		}, key: key, fp: ssh.FingerprintSHA256(pub)}
		pw := alicePassword
		if id == "bob" {
			pw = testPassword
		}
		tt.PasswordHash = bcryptTest(t, pw)
		e.tenants[id] = tt
		list = append(list, tt.Tenant)
	}
	opt := Options{
		HostKeyDir: filepath.Join(dir, "hostkeys"),
		Logger:     slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&opt)
	}
	srv, err := New(opt, list)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, e.port, _ = net.SplitHostPort(ln.Addr().String())
	if err := WriteKnownHosts(e.kh, ln.Addr().String(), srv.HostKey()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context was cancelled")
		}
		if t.Failed() {
			t.Logf("audit log:\n%s", e.logs.buf.String())
		}
	})
	return e
}

// needSFTP skips the test without OpenSSH's client.
func needSFTP(t testing.TB) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/sftp"); err != nil {
		t.Skip("OpenSSH sftp client not installed (/usr/bin/sftp): install openssh-client to run the real-client tests")
	}
}

// sftpCmd prepares OpenSSH's sftp in batch mode as user with key, with the
// host key checked strictly and nothing of the user's own ssh setup.
func (e *testEnv) sftpCmd(ctx context.Context, user, key, batch string, opts ...string) *exec.Cmd {
	e.t.Helper()
	bf, err := os.CreateTemp(e.dir, "batch-*")
	if err != nil {
		e.t.Fatal(err)
	}
	bf.WriteString(batch)
	bf.Close()
	args := []string{"-b", bf.Name(), "-i", key, "-P", e.port, "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + e.kh,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none", "-o", "LogLevel=ERROR"}
	for _, o := range opts {
		args = append(args, "-o", o)
	}
	args = append(args, user+"@127.0.0.1")
	cmd := exec.CommandContext(ctx, "/usr/bin/sftp", args...)
	cmd.Dir = e.local
	// Its own process group, so a test can kill sftp and its ssh at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// sftp runs a batch as tenant id with its own key.
func (e *testEnv) sftp(id, batch string, opts ...string) (string, error) {
	e.t.Helper()
	return e.sftpAs(id, e.tenants[id].key, batch, opts...)
}

func (e *testEnv) sftpAs(user, key, batch string, opts ...string) (string, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := e.sftpCmd(ctx, user, key, batch, opts...).CombinedOutput()
	return string(out), err
}

// mustSFTP runs a batch that must succeed.
func (e *testEnv) mustSFTP(id, batch string) string {
	e.t.Helper()
	out, err := e.sftp(id, batch)
	if err != nil {
		e.t.Fatalf("sftp as %s: %v\nbatch:\n%s\noutput:\n%s", id, err, batch, out)
	}
	return out
}

// waitLog waits for an audit line with msg and kv and returns it.
func (e *testEnv) waitLog(msg string, kv ...string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, r := range e.logs.records() {
			if matches(r, msg, kv) {
				return r
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no audit line %q %v", msg, kv)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countLog counts audit lines with msg and kv.
func (e *testEnv) countLog(msg string, kv ...string) int {
	n := 0
	for _, r := range e.logs.records() {
		if matches(r, msg, kv) {
			n++
		}
	}
	return n
}

// writeLocal creates a file of n pseudo-random bytes in the client's
// directory and returns its content.
func (e *testEnv) writeLocal(name string, n int) []byte {
	e.t.Helper()
	data := make([]byte, n)
	var x uint32 = uint32(n) + 2463534242
	for i := range data {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		data[i] = byte(x)
	}
	if err := os.WriteFile(filepath.Join(e.local, name), data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return data
}

// inbox returns the names in a tenant's inbox directory, hidden ones too.
func (e *testEnv) inbox(id string) []string {
	e.t.Helper()
	entries, err := os.ReadDir(e.tenants[id].InboxDir)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	return names
}

// wantInbox checks the exact content of a tenant's inbox directory.
func (e *testEnv) wantInbox(id string, want ...string) {
	e.t.Helper()
	got := e.inbox(id)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		e.t.Fatalf("inbox of %s holds %q, want %q", id, got, want)
	}
}

// dial logs in with the Go ssh client.
func (e *testEnv) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", e.port), &ssh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: ssh.FixedHostKey(e.srv.HostKey()), Timeout: 10 * time.Second,
	})
}

// signer loads a tenant's client key for the Go client.
func (e *testEnv) signer(id string) ssh.Signer {
	e.t.Helper()
	data, err := os.ReadFile(e.tenants[id].key)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// isExit reports whether err is a non-zero exit of the client.
func isExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
