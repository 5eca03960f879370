package sftpput_test

import (
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

	"golang.org/x/crypto/ssh"

	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/sftpput/sftpputtest"
	"github.com/multikanal/multikanal/outbound/sftpput/sshdtest"
)

// TestOpenSSH runs the transport's contract against OpenSSH's sshd. (The
// gateway's own SFTP server runs it against itself, in gateway/sftpd.)
func TestOpenSSH(t *testing.T) {
	p := openSSH(t)
	sftpputtest.Run(t, p)
	t.Run("size check", func(t *testing.T) { testSizeCheck(t, p) })
}

// testSizeCheck puts a short file where an upload would be and runs the
// size check on it: temporary, and the file is removed.
func testSizeCheck(t *testing.T, p *sftpputtest.Peer) {
	if err := os.WriteFile(filepath.Join(p.Local, "short.part"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := sftpput.New(p.Opt)
	if err != nil {
		t.Fatal(err)
	}
	err = sftpput.CheckSize(context.Background(), tr, path.Join(p.Opt.RemoteDir, "short.part"), 6)
	sftpputtest.WantClass(t, err, outbound.ClassTemporary, "has 5 bytes on the server after the upload, want 6")
	sftpputtest.WantNames(t, p.Local)
}

// TestUnreachable covers failures before any SFTP request: all temporary,
// since the next attempt may meet a server that is back.
func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	key, hostKey := sshdtest.NewKey(t, dir, "client")
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
	sftpputtest.WriteKnownHosts(t, kh, hostKey, down, silent.Addr().String())

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
			sftpputtest.WantClass(t, err, outbound.ClassTemporary, tc.want)
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
	key, hostKey := sshdtest.NewKey(t, dir, "client")
	kh := filepath.Join(dir, "known_hosts")
	sftpputtest.WriteKnownHosts(t, kh, hostKey, "127.0.0.1:1")
	tr, err := sftpput.New(sftpput.Options{Addr: "127.0.0.1:1", User: "u", KeyFile: key, KnownHostsFile: kh})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", ".hidden", "../x", "a/b", "a\nb"} {
		_, err := tr.Send(context.Background(), outbound.Message{Name: name})
		sftpputtest.WantClass(t, err, outbound.ClassPermanent)
	}
}

// TestNew checks that configuration mistakes stop construction with a
// message that names what to fix.
func TestNew(t *testing.T) {
	dir := t.TempDir()
	key, hostKey := sshdtest.NewKey(t, dir, "client")
	kh := filepath.Join(dir, "known_hosts")
	sftpputtest.WriteKnownHosts(t, kh, hostKey, "bank.example:22", "files.example:2222")
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
