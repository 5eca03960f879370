// Package sftpputtest is the SFTP push transport's contract as a test
// suite: Run sends through outbound/sftpput to a running SFTP server (a
// Peer) and checks what lands in the server's folder and how every failure
// is classified. The transport's own tests run it against OpenSSH's sshd;
// the gateway's SFTP server runs it against itself (gateway/sftpd), so the
// transport's tests need not import the gateway.
package sftpputtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/sftpput/sshdtest"
)

// Peer is a running SFTP server with an account the transport logs in as.
type Peer struct {
	// Opt logs in and uploads into Local.
	Opt sftpput.Options
	// Local is the directory that Opt.RemoteDir shows.
	Local string
	// Temp is the temporary name this server lets the transport use, as a
	// format for the final name.
	Temp string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey
	// ReadOnly points opt at a folder the account may not write to.
	ReadOnly func(*sftpput.Options)
	// DiskFull returns options for a folder on a full disk and the local
	// directory it shows; it skips the test where that cannot be made.
	DiskFull func(*testing.T) (sftpput.Options, string)
}

// Run runs every case of the contract against p, each as a subtest.
func Run(t *testing.T, p *Peer) {
	t.Run("delivers", func(t *testing.T) { delivers(t, p) })
	t.Run("resend replaces", func(t *testing.T) { resend(t, p) })
	t.Run("leftover temporary file", func(t *testing.T) { leftover(t, p) })
	t.Run("host key mismatch", func(t *testing.T) { hostKeyMismatch(t, p) })
	t.Run("host key unknown", func(t *testing.T) { hostKeyUnknown(t, p) })
	t.Run("login refused", func(t *testing.T) { loginRefused(t, p) })
	t.Run("folder missing", func(t *testing.T) { folderMissing(t, p) })
	t.Run("folder read only", func(t *testing.T) { readOnly(t, p) })
	t.Run("disk full", func(t *testing.T) { diskFull(t, p) })
}

// Body returns n bytes that differ with seed.
func Body(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// Send constructs a transport from opt and sends one message with a
// deadline, so that a hung server fails the test instead of stalling it.
func Send(t testing.TB, opt sftpput.Options, name string, data []byte) (outbound.Sent, error) {
	t.Helper()
	tr, err := sftpput.New(opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tr.Send(ctx, outbound.Message{Key: "B1", Name: name, Body: data})
}

// WantClass fails unless err is a failure of class whose text holds every
// part of want.
func WantClass(t testing.TB, err error, class outbound.Class, want ...string) {
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

// WantNames fails unless dir holds exactly want, hidden names too.
func WantNames(t testing.TB, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, want)
	}
}

// WriteKnownHosts writes a known_hosts file trusting key for addrs.
func WriteKnownHosts(t testing.TB, path string, key ssh.PublicKey, addrs ...string) {
	t.Helper()
	var hosts []string
	for _, a := range addrs {
		hosts = append(hosts, knownhosts.Normalize(a))
	}
	if err := os.WriteFile(path, []byte(knownhosts.Line(hosts, key)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func delivers(t *testing.T, p *Peer) {
	data := Body(300<<10, 1)
	sent, err := Send(t, p.Opt, "AG-0001.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	WantNames(t, p.Local, "AG-0001.txt")
	got, err := os.ReadFile(filepath.Join(p.Local, "AG-0001.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("the server holds %d bytes that differ from the %d sent", len(got), len(data))
	}
	if want := "sftp://" + p.Opt.User + "@" + p.Opt.Addr + path.Join(p.Opt.RemoteDir, "AG-0001.txt"); sent.Ref != want {
		t.Errorf("Ref = %q, want %q", sent.Ref, want)
	}
	os.Remove(filepath.Join(p.Local, "AG-0001.txt"))
}

// resend sends the same name twice, as after a crash between the upload
// and recording it: the second replaces the first.
func resend(t *testing.T, p *Peer) {
	if _, err := Send(t, p.Opt, "AG-0002.txt", Body(1000, 1)); err != nil {
		t.Fatal(err)
	}
	second := Body(700, 2)
	if _, err := Send(t, p.Opt, "AG-0002.txt", second); err != nil {
		t.Fatal(err)
	}
	WantNames(t, p.Local, "AG-0002.txt")
	if got, _ := os.ReadFile(filepath.Join(p.Local, "AG-0002.txt")); !bytes.Equal(got, second) {
		t.Errorf("the server holds %d bytes, want the second send's %d", len(got), len(second))
	}
	os.Remove(filepath.Join(p.Local, "AG-0002.txt"))
}

// leftover: a crash in the middle of an upload leaves the temporary file;
// the resend writes over it and nothing is left.
func leftover(t *testing.T, p *Peer) {
	tmp := filepath.Join(p.Local, fmt.Sprintf(p.Temp, "AG-0003.txt"))
	if err := os.WriteFile(tmp, Body(5000, 9), 0o644); err != nil {
		t.Fatal(err)
	}
	data := Body(10, 3)
	if _, err := Send(t, p.Opt, "AG-0003.txt", data); err != nil {
		t.Fatal(err)
	}
	WantNames(t, p.Local, "AG-0003.txt")
	if got, _ := os.ReadFile(filepath.Join(p.Local, "AG-0003.txt")); !bytes.Equal(got, data) {
		t.Errorf("the server holds %q, want %q", got, data)
	}
	os.Remove(filepath.Join(p.Local, "AG-0003.txt"))
}

func hostKeyMismatch(t *testing.T, p *Peer) {
	dir := t.TempDir()
	_, other := sshdtest.NewKey(t, dir, "impostor")
	kh := filepath.Join(dir, "known_hosts")
	WriteKnownHosts(t, kh, other, p.Opt.Addr)
	opt := p.Opt
	opt.KnownHostsFile = kh
	_, err := Send(t, opt, "AG-0004.txt", Body(10, 4))
	WantClass(t, err, outbound.ClassPermanent, "HOST KEY MISMATCH", ssh.FingerprintSHA256(p.HostKey),
		ssh.FingerprintSHA256(other), kh)
	WantNames(t, p.Local)
}

// hostKeyUnknown: the file lost the server's line after New checked it
// (New itself refuses a file without one).
func hostKeyUnknown(t *testing.T, p *Peer) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	WriteKnownHosts(t, kh, p.HostKey, p.Opt.Addr)
	opt := p.Opt
	opt.KnownHostsFile = kh
	tr, err := sftpput.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	_, other := sshdtest.NewKey(t, dir, "other")
	WriteKnownHosts(t, kh, other, "bank.example:22")
	_, err = tr.Send(context.Background(), outbound.Message{Name: "AG-0005.txt", Body: Body(10, 5)})
	WantClass(t, err, outbound.ClassPermanent, "is not in "+kh, ssh.FingerprintSHA256(p.HostKey), "ssh-keyscan")
	WantNames(t, p.Local)
}

// loginRefused: a key the server does not know. Temporary by decision
// (see Send's documentation and docs/channels/sftp-push.md).
func loginRefused(t *testing.T, p *Peer) {
	key, pub := sshdtest.NewKey(t, t.TempDir(), "unknown")
	opt := p.Opt
	opt.KeyFile = key
	_, err := Send(t, opt, "AG-0006.txt", Body(10, 6))
	WantClass(t, err, outbound.ClassTemporary, "login refused", ssh.FingerprintSHA256(pub))
	WantNames(t, p.Local)
}

func folderMissing(t *testing.T, p *Peer) {
	opt := p.Opt
	opt.RemoteDir = path.Join(opt.RemoteDir, "missing")
	_, err := Send(t, opt, "AG-0007.txt", Body(10, 7))
	WantClass(t, err, outbound.ClassPermanent, "remote_dir", "missing")
	WantNames(t, p.Local)
}

func readOnly(t *testing.T, p *Peer) {
	opt := p.Opt
	p.ReadOnly(&opt)
	_, err := Send(t, opt, "AG-0008.txt", Body(10, 8))
	WantClass(t, err, outbound.ClassPermanent, "permission denied")
	WantNames(t, p.Local)
}

// diskFull uploads 2 MiB onto a disk that has less room.
func diskFull(t *testing.T, p *Peer) {
	opt, local := p.DiskFull(t)
	_, err := Send(t, opt, "AG-0009.txt", Body(2<<20, 9))
	WantClass(t, err, outbound.ClassTemporary, "the server failed")
	WantNames(t, local)
}
