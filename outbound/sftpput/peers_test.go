package sftpput_test

import (
	"log/slog"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/sftpput/sftpputtest"
	"github.com/multikanal/multikanal/outbound/sftpput/sshdtest"
)

// openSSH starts OpenSSH's sshd on two loopback ports, as its own instance
// with its own host key, and returns the peer that logs in as the current
// user. The second port serves SFTP read only (internal-sftp -R), which
// refuses every write with "permission denied", as a folder the account
// may not write does; root could write into a chmod 555 folder.
func openSSH(t *testing.T) *sftpputtest.Peer {
	t.Helper()
	srv := sshdtest.Start(t)
	p := &sftpputtest.Peer{
		Opt: sftpput.Options{Addr: srv.Addr, User: srv.User, KeyFile: srv.KeyFile, KnownHostsFile: srv.KnownHosts,
			RemoteDir: srv.Dir, Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)},
		Local: srv.Dir, Temp: ".%s.part", HostKey: srv.HostKey,
		ReadOnly: func(o *sftpput.Options) { o.Addr = srv.ReadOnlyAddr },
	}
	p.DiskFull = func(t *testing.T) (sftpput.Options, string) {
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
		o := p.Opt
		o.RemoteDir = full
		return o, full
	}
	return p
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
