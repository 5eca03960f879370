package sftpput_test

import (
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/gateway/sftpd/sftpdtest"
	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/sftpput/sshdtest"
)

// peer is a running SFTP server with an account the transport logs in as.
type peer struct {
	// opt logs in and uploads into local.
	opt sftpput.Options
	// local is the directory that opt.RemoteDir shows.
	local string
	// temp is the temporary name this server lets the transport use, as a
	// format for the final name.
	temp string
	// hostKey is the server's public host key.
	hostKey ssh.PublicKey
	// readOnly points opt at a folder the account may not write to.
	readOnly func(*sftpput.Options)
	// diskFull returns options for a folder on a full disk and the local
	// directory it shows; it skips the test where that cannot be made.
	diskFull func(*testing.T) (sftpput.Options, string)
}

// openSSH starts OpenSSH's sshd on two loopback ports, as its own instance
// with its own host key, and returns the peer that logs in as the current
// user. The second port serves SFTP read only (internal-sftp -R), which
// refuses every write with "permission denied", as a folder the account
// may not write does; root could write into a chmod 555 folder.
func openSSH(t *testing.T) *peer {
	t.Helper()
	srv := sshdtest.Start(t)
	p := &peer{
		opt: sftpput.Options{Addr: srv.Addr, User: srv.User, KeyFile: srv.KeyFile, KnownHostsFile: srv.KnownHosts,
			RemoteDir: srv.Dir, Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)},
		local: srv.Dir, temp: ".%s.part", hostKey: srv.HostKey,
		readOnly: func(o *sftpput.Options) { o.Addr = srv.ReadOnlyAddr },
	}
	p.diskFull = func(t *testing.T) (sftpput.Options, string) {
		t.Helper()
		if os.Geteuid() != 0 {
			t.Skip("disk full on OpenSSH needs root to mount a small tmpfs; skipped as a non-root user")
		}
		full := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a 1 MiB tmpfs for the disk full case: %v: %s", err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("umount", full).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v: %s", full, err, out)
			}
		})
		o := p.opt
		o.RemoteDir = full
		return o, full
	}
	return p
}

// ours starts our own SFTP server in-process with one tenant, acme, whose
// inbox is the peer's folder. It shows /inbox and /receipts (read only)
// and refuses hidden names, so the transport falls back to <name>.part.
func ours(t *testing.T) *peer {
	t.Helper()
	dir := t.TempDir()
	keyPath, line, err := sftpd.EnsureClientKey(filepath.Join(dir, "keys"), "acme")
	if err != nil {
		t.Fatal(err)
	}
	ak := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(ak, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tenant := sftpd.Tenant{ID: "acme", InboxDir: filepath.Join(dir, "inbox"),
		ReceiptsDir: filepath.Join(dir, "receipts"), AuthorizedKeysFile: ak}
	opt := sftpd.Options{HostKeyDir: filepath.Join(dir, "hostkeys"), MinFreeDisk: -1}
	srv, addr := sftpdtest.Start(t, opt, tenant)
	kh := filepath.Join(dir, "known_hosts")
	if err := sftpd.WriteKnownHosts(kh, addr, srv.HostKey()); err != nil {
		t.Fatal(err)
	}
	p := &peer{
		opt: sftpput.Options{Addr: addr, User: "acme", KeyFile: keyPath, KnownHostsFile: kh,
			RemoteDir: "/inbox", Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)},
		local: tenant.InboxDir, temp: "%s.part", hostKey: srv.HostKey(),
		readOnly: func(o *sftpput.Options) { o.RemoteDir = "/receipts" },
	}
	p.diskFull = func(t *testing.T) (sftpput.Options, string) {
		t.Helper()
		// The server refuses uploads while free space is below
		// MinFreeDisk; no disk has an exbibyte free.
		full := opt
		full.MinFreeDisk = 1 << 60
		srv, addr := sftpdtest.Start(t, full, tenant)
		o := p.opt
		o.Addr = addr
		o.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		if err := sftpd.WriteKnownHosts(o.KnownHostsFile, addr, srv.HostKey()); err != nil {
			t.Fatal(err)
		}
		return o, tenant.InboxDir
	}
	return p
}

// names lists a directory, hidden names too.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// wantNames fails unless dir holds exactly want.
func wantNames(t *testing.T, dir string, want ...string) {
	t.Helper()
	if got := names(t, dir); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, want)
	}
}

// newKey makes an ed25519 key pair in dir and returns the private key path
// and the public key.
func newKey(t *testing.T, dir, name string) (string, ssh.PublicKey) {
	return sshdtest.NewKey(t, dir, name)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeKnownHosts writes a known_hosts file trusting key for addrs.
func writeKnownHosts(t *testing.T, path string, key ssh.PublicKey, addrs ...string) {
	t.Helper()
	var hosts []string
	for _, a := range addrs {
		hosts = append(hosts, knownhosts.Normalize(a))
	}
	if err := os.WriteFile(path, []byte(knownhosts.Line(hosts, key)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
