package sftpd_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/gateway/sftpd/sftpdtest"
	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/sftpput/sftpputtest"
	"github.com/multikanal/multikanal/outbound/sftpput/sshdtest"
)

// Our own SFTP server as the receiver of our own SFTP push transport: the
// transport's contract (outbound/sftpput/sftpputtest) against a server
// that is not OpenSSH, plus what only this server shows.

// ours starts our own SFTP server in-process with one tenant, acme, whose
// inbox is the peer's folder. It shows /inbox and /receipts (read only)
// and refuses hidden names, so the transport falls back to <name>.part.
func ours(t *testing.T) *sftpputtest.Peer {
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
	p := &sftpputtest.Peer{
		Opt: sftpput.Options{Addr: addr, User: "acme", KeyFile: keyPath, KnownHostsFile: kh,
			RemoteDir: "/inbox", Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)},
		Local: tenant.InboxDir, Temp: "%s.part", HostKey: srv.HostKey(),
		ReadOnly: func(o *sftpput.Options) { o.RemoteDir = "/receipts" },
	}
	p.DiskFull = func(t *testing.T) (sftpput.Options, string) {
		t.Helper()
		// The server refuses uploads while free space is below
		// MinFreeDisk; no disk has an exbibyte free.
		full := opt
		full.MinFreeDisk = 1 << 60
		srv, addr := sftpdtest.Start(t, full, tenant)
		o := p.Opt
		o.Addr = addr
		o.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		if err := sftpd.WriteKnownHosts(o.KnownHostsFile, addr, srv.HostKey()); err != nil {
			t.Fatal(err)
		}
		return o, tenant.InboxDir
	}
	return p
}

// TestSFTPPushContract runs the push transport's contract against our
// server.
func TestSFTPPushContract(t *testing.T) {
	sftpputtest.Run(t, ours(t))
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
	opt := p.Opt
	opt.Logger = slog.New(slog.NewTextHandler(logs, nil))
	for i, how := range []string{"rename=rename", "rename=remove+rename"} {
		data := sftpputtest.Body(100+i, byte(i))
		if _, err := sftpputtest.Send(t, opt, "PR-1.pdf", data); err != nil {
			t.Fatal(err)
		}
		sftpputtest.WantNames(t, p.Local, "PR-1.pdf")
		if got, _ := os.ReadFile(filepath.Join(p.Local, "PR-1.pdf")); !bytes.Equal(got, data) {
			t.Fatalf("send %d: the server holds %d bytes, want %d", i+1, len(got), len(data))
		}
		if !strings.Contains(logs.String(), how) {
			t.Errorf("send %d: the log does not say %s:\n%s", i+1, how, logs.String())
		}
	}
}

// TestRelativeRemoteDir: an empty remote_dir is the folder the session
// starts in (our server starts in /inbox), and the Ref says so with "/~/".
func TestRelativeRemoteDir(t *testing.T) {
	p := ours(t)
	opt := p.Opt
	opt.RemoteDir = ""
	sent, err := sftpputtest.Send(t, opt, "P-7.pdf", sftpputtest.Body(10, 7))
	if err != nil {
		t.Fatal(err)
	}
	sftpputtest.WantNames(t, p.Local, "P-7.pdf")
	if want := "sftp://acme@" + opt.Addr + "/~/P-7.pdf"; sent.Ref != want {
		t.Errorf("Ref = %q, want %q", sent.Ref, want)
	}
}
