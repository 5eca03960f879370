package sftpput_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/sftpput/sshdtest"
)

// body returns n bytes that differ with seed.
func body(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// send constructs a transport from opt and sends one message with a
// deadline, so that a hung server fails the test instead of stalling it.
func send(t *testing.T, opt sftpput.Options, name string, data []byte) (outbound.Sent, error) {
	t.Helper()
	tr, err := sftpput.New(opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tr.Send(ctx, outbound.Message{Key: "B1", Name: name, Body: data})
}

// wantClass fails unless err is a failure of class whose text holds every
// part of want.
func wantClass(t *testing.T, err error, class outbound.Class, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Send succeeded, want a %s error", class)
	}
	if got := outbound.ClassOf(err); got != class {
		t.Fatalf("error is %s, want %s: %v", got, class, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q: %v", w, err)
		}
	}
}

// TestPeers runs every case against OpenSSH's sshd and against our own
// SFTP server.
func TestPeers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(*testing.T) *peer
	}{
		{"openssh", openSSH},
		{"sftpd", ours},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.start(t)
			t.Run("delivers", func(t *testing.T) { testDelivers(t, p) })
			t.Run("resend replaces", func(t *testing.T) { testResend(t, p) })
			t.Run("leftover temporary file", func(t *testing.T) { testLeftover(t, p) })
			t.Run("host key mismatch", func(t *testing.T) { testHostKeyMismatch(t, p) })
			t.Run("host key unknown", func(t *testing.T) { testHostKeyUnknown(t, p) })
			t.Run("login refused", func(t *testing.T) { testLoginRefused(t, p) })
			t.Run("folder missing", func(t *testing.T) { testFolderMissing(t, p) })
			t.Run("folder read only", func(t *testing.T) { testReadOnly(t, p) })
			t.Run("size check", func(t *testing.T) { testSizeCheck(t, p) })
			t.Run("disk full", func(t *testing.T) { testDiskFull(t, p) })
		})
	}
}

func testDelivers(t *testing.T, p *peer) {
	data := body(300<<10, 1)
	sent, err := send(t, p.opt, "AG-0001.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, p.local, "AG-0001.txt")
	got, err := os.ReadFile(filepath.Join(p.local, "AG-0001.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("the server holds %d bytes that differ from the %d sent", len(got), len(data))
	}
	if want := "sftp://" + p.opt.User + "@" + p.opt.Addr + path.Join(p.opt.RemoteDir, "AG-0001.txt"); sent.Ref != want {
		t.Errorf("Ref = %q, want %q", sent.Ref, want)
	}
	os.Remove(filepath.Join(p.local, "AG-0001.txt"))
}

// testResend sends the same name twice, as after a crash between the
// upload and recording it: the second replaces the first.
func testResend(t *testing.T, p *peer) {
	if _, err := send(t, p.opt, "AG-0002.txt", body(1000, 1)); err != nil {
		t.Fatal(err)
	}
	second := body(700, 2)
	if _, err := send(t, p.opt, "AG-0002.txt", second); err != nil {
		t.Fatal(err)
	}
	wantNames(t, p.local, "AG-0002.txt")
	if got, _ := os.ReadFile(filepath.Join(p.local, "AG-0002.txt")); !bytes.Equal(got, second) {
		t.Errorf("the server holds %d bytes, want the second send's %d", len(got), len(second))
	}
	os.Remove(filepath.Join(p.local, "AG-0002.txt"))
}

// testLeftover: a crash in the middle of an upload leaves the temporary
// file; the resend writes over it and nothing is left.
func testLeftover(t *testing.T, p *peer) {
	tmp := filepath.Join(p.local, fmt.Sprintf(p.temp, "AG-0003.txt"))
	if err := os.WriteFile(tmp, body(5000, 9), 0o644); err != nil {
		t.Fatal(err)
	}
	data := body(10, 3)
	if _, err := send(t, p.opt, "AG-0003.txt", data); err != nil {
		t.Fatal(err)
	}
	wantNames(t, p.local, "AG-0003.txt")
	if got, _ := os.ReadFile(filepath.Join(p.local, "AG-0003.txt")); !bytes.Equal(got, data) {
		t.Errorf("the server holds %q, want %q", got, data)
	}
	os.Remove(filepath.Join(p.local, "AG-0003.txt"))
}

func testHostKeyMismatch(t *testing.T, p *peer) {
	dir := t.TempDir()
	_, other := newKey(t, dir, "impostor")
	kh := filepath.Join(dir, "known_hosts")
	writeKnownHosts(t, kh, other, p.opt.Addr)
	opt := p.opt
	opt.KnownHostsFile = kh
	_, err := send(t, opt, "AG-0004.txt", body(10, 4))
	wantClass(t, err, outbound.ClassPermanent, "HOST KEY MISMATCH", ssh.FingerprintSHA256(p.hostKey),
		ssh.FingerprintSHA256(other), kh)
	wantNames(t, p.local)
}

// testHostKeyUnknown: the file lost the server's line after New checked
// it (New itself refuses a file without one).
func testHostKeyUnknown(t *testing.T, p *peer) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	writeKnownHosts(t, kh, p.hostKey, p.opt.Addr)
	opt := p.opt
	opt.KnownHostsFile = kh
	tr, err := sftpput.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	_, other := newKey(t, dir, "other")
	writeKnownHosts(t, kh, other, "bank.example:22")
	_, err = tr.Send(context.Background(), outbound.Message{Name: "AG-0005.txt", Body: body(10, 5)})
	wantClass(t, err, outbound.ClassPermanent, "is not in "+kh, ssh.FingerprintSHA256(p.hostKey), "ssh-keyscan")
	wantNames(t, p.local)
}

// testLoginRefused: a key the server does not know. Temporary by
// decision (see Send's documentation and docs/channels/sftp-push.md).
func testLoginRefused(t *testing.T, p *peer) {
	key, pub := newKey(t, t.TempDir(), "unknown")
	opt := p.opt
	opt.KeyFile = key
	_, err := send(t, opt, "AG-0006.txt", body(10, 6))
	wantClass(t, err, outbound.ClassTemporary, "login refused", ssh.FingerprintSHA256(pub))
	wantNames(t, p.local)
}

func testFolderMissing(t *testing.T, p *peer) {
	opt := p.opt
	opt.RemoteDir = path.Join(opt.RemoteDir, "missing")
	_, err := send(t, opt, "AG-0007.txt", body(10, 7))
	wantClass(t, err, outbound.ClassPermanent, "remote_dir", "missing")
	wantNames(t, p.local)
}

func testReadOnly(t *testing.T, p *peer) {
	opt := p.opt
	p.readOnly(&opt)
	_, err := send(t, opt, "AG-0008.txt", body(10, 8))
	wantClass(t, err, outbound.ClassPermanent, "permission denied")
	wantNames(t, p.local)
}

// testSizeCheck puts a short file where an upload would be and runs the
// size check on it: temporary, and the file is removed.
func testSizeCheck(t *testing.T, p *peer) {
	if err := os.WriteFile(filepath.Join(p.local, "short.part"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := sftpput.New(p.opt)
	if err != nil {
		t.Fatal(err)
	}
	err = sftpput.CheckSize(context.Background(), tr, path.Join(p.opt.RemoteDir, "short.part"), 6)
	wantClass(t, err, outbound.ClassTemporary, "has 5 bytes on the server after the upload, want 6")
	wantNames(t, p.local)
}

// testDiskFull uploads 2 MiB onto a disk that has less room.
func testDiskFull(t *testing.T, p *peer) {
	opt, local := p.diskFull(t)
	_, err := send(t, opt, "AG-0009.txt", body(2<<20, 9))
	wantClass(t, err, outbound.ClassTemporary, "the server failed")
	wantNames(t, local)
}

// TestNoPosixRename replaces an existing file on a server that does not
// offer posix-rename: our own server with the extension switched off,
// whose plain rename refuses an existing target, as OpenSSH's does.
func TestNoPosixRename(t *testing.T) {
	// pkg/sftp's server reads the list when a session starts: set it
	// before the server's goroutines exist, restore it after they end
	// (cleanups run last registered first).
	if err := sftp.SetSFTPExtensions("statvfs@openssh.com"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sftp.SetSFTPExtensions("hardlink@openssh.com", "posix-rename@openssh.com", "statvfs@openssh.com")
	})
	p := ours(t)
	logs := &sshdtest.Buffer{}
	opt := p.opt
	opt.Logger = slog.New(slog.NewTextHandler(logs, nil))
	for i, how := range []string{"rename=rename", "rename=remove+rename"} {
		data := body(100+i, byte(i))
		if _, err := send(t, opt, "PR-1.pdf", data); err != nil {
			t.Fatal(err)
		}
		wantNames(t, p.local, "PR-1.pdf")
		if got, _ := os.ReadFile(filepath.Join(p.local, "PR-1.pdf")); !bytes.Equal(got, data) {
			t.Fatalf("send %d: the server holds %d bytes, want %d", i+1, len(got), len(data))
		}
		if !strings.Contains(logs.String(), how) {
			t.Errorf("send %d: the log does not say %s:\n%s", i+1, how, logs.String())
		}
	}
}

// TestUnreachable covers failures before any SFTP request: all temporary,
// since the next attempt may meet a server that is back.
func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	key, hostKey := newKey(t, dir, "client")
	kh := filepath.Join(dir, "known_hosts")

	// A port nobody listens on: the server is down.
	down := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// A server that accepts and never says a word.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	writeKnownHosts(t, kh, hostKey, down, silent.Addr().String())

	for _, tc := range []struct {
		name    string
		addr    string
		ctx     time.Duration // the caller's deadline; negative: cancelled before
		timeout time.Duration // Options.Timeout
		want    string
	}{
		{"server down", down, 0, time.Second, "connection refused"},
		{"silent server, idle timeout", silent.Addr().String(), 0, 300 * time.Millisecond, "i/o timeout"},
		{"silent server, caller's deadline", silent.Addr().String(), 300 * time.Millisecond, 10 * time.Second, context.DeadlineExceeded.Error()},
		{"cancelled before", down, -1, time.Second, context.Canceled.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ctx context.Context
			var cancel context.CancelFunc
			if tc.ctx > 0 {
				ctx, cancel = context.WithTimeout(context.Background(), tc.ctx)
			} else {
				ctx, cancel = context.WithCancel(context.Background())
			}
			if tc.ctx < 0 {
				cancel()
			}
			defer cancel()
			tr, err := sftpput.New(sftpput.Options{Addr: tc.addr, User: "u", KeyFile: key, KnownHostsFile: kh,
				Timeout: tc.timeout, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = tr.Send(ctx, outbound.Message{Name: "x.txt", Body: []byte("x")})
			wantClass(t, err, outbound.ClassTemporary, tc.want)
			// Ten times the 300 ms deadline, and still below the 10 s
			// timeout of the case that must end by the caller's deadline.
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Send took %v: the deadline or timeout did not end it", d)
			}
		})
	}
}

// TestBadName: a name that is not a plain file name is never sent.
func TestBadName(t *testing.T) {
	dir := t.TempDir()
	key, hostKey := newKey(t, dir, "client")
	kh := filepath.Join(dir, "known_hosts")
	writeKnownHosts(t, kh, hostKey, "127.0.0.1:1")
	tr, err := sftpput.New(sftpput.Options{Addr: "127.0.0.1:1", User: "u", KeyFile: key, KnownHostsFile: kh})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", ".hidden", "../x", "a/b", "a\nb"} {
		_, err := tr.Send(context.Background(), outbound.Message{Name: name})
		wantClass(t, err, outbound.ClassPermanent)
	}
}

// TestNew checks that configuration mistakes stop construction with a
// message that names what to fix.
func TestNew(t *testing.T) {
	dir := t.TempDir()
	key, hostKey := newKey(t, dir, "client")
	kh := filepath.Join(dir, "known_hosts")
	writeKnownHosts(t, kh, hostKey, "bank.example:22", "files.example:2222")
	signer, err := ssh.ParsePrivateKey(must(os.ReadFile(key)))
	if err != nil {
		t.Fatal(err)
	}
	valid := sftpput.Options{Addr: "bank.example:22", User: "u", KeyFile: key, KnownHostsFile: kh}
	for _, tc := range []struct {
		name   string
		change func(*sftpput.Options)
		want   string // empty: New succeeds
	}{
		{"valid", func(*sftpput.Options) {}, ""},
		{"port 22 by default", func(o *sftpput.Options) { o.Addr = "bank.example" }, ""},
		{"other port", func(o *sftpput.Options) { o.Addr = "files.example:2222" }, ""},
		{"signer", func(o *sftpput.Options) { o.KeyFile, o.Signer = "", signer }, ""},
		{"no addr", func(o *sftpput.Options) { o.Addr = "" }, "addr is empty"},
		{"no user", func(o *sftpput.Options) { o.User = "" }, "username is empty"},
		{"no known_hosts", func(o *sftpput.Options) { o.KnownHostsFile = "" }, "known_hosts is empty"},
		{"known_hosts missing", func(o *sftpput.Options) { o.KnownHostsFile = filepath.Join(dir, "nope") }, "no such file"},
		{"host not in known_hosts", func(o *sftpput.Options) { o.Addr = "files.example:22" }, "lists no host key for files.example"},
		{"no key", func(o *sftpput.Options) { o.KeyFile = "" }, "key_file is empty"},
		{"key and signer", func(o *sftpput.Options) { o.Signer = signer }, "both"},
		{"key not a key", func(o *sftpput.Options) { o.KeyFile = kh }, "key_file " + kh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := valid
			tc.change(&opt)
			tr, err := sftpput.New(opt)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want == "":
				if !strings.HasPrefix(tr.PublicKey(), "ssh-ed25519 ") {
					t.Errorf("PublicKey = %q", tr.PublicKey())
				}
			case err == nil:
				t.Fatalf("New succeeded, want an error saying %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("New: %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRelativeRemoteDir: an empty remote_dir is the folder the session
// starts in (our server starts in /inbox), and the Ref says so with "/~/".
func TestRelativeRemoteDir(t *testing.T) {
	p := ours(t)
	opt := p.opt
	opt.RemoteDir = ""
	sent, err := send(t, opt, "P-7.pdf", body(10, 7))
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, p.local, "P-7.pdf")
	if want := "sftp://acme@" + opt.Addr + "/~/P-7.pdf"; sent.Ref != want {
		t.Errorf("Ref = %q, want %q", sent.Ref, want)
	}
}
