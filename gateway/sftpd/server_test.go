package sftpd

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// sftpClient opens an SFTP session over the Go ssh client, for tests that
// need to hold a session open.
func (e *testEnv) sftpClient(id string) (*ssh.Client, *sftp.Client) {
	e.t.Helper()
	c, err := e.dial(id, ssh.PublicKeys(e.signer(id)))
	if err != nil {
		e.t.Fatalf("login as %s: %v", id, err)
	}
	sc, err := sftp.NewClient(c)
	if err != nil {
		e.t.Fatalf("sftp session: %v", err)
	}
	return c, sc
}

func TestReloadKeepsSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, sc := e.sftpClient("alice")
	defer c.Close()
	if err := e.srv.SetTenants([]Tenant{e.tenants["bob"].Tenant}); err != nil {
		t.Fatal(err)
	}
	// alice's open session goes on; new logins as alice are refused.
	f, err := sc.Create("/inbox/after-reload.xml")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("<x/>"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	e.wantInbox("alice", "after-reload.xml")
	e.waitLog("sftp upload", "tenant", "alice", "name", "after-reload.xml")
	if _, err := e.dial("alice", ssh.PublicKeys(e.signer("alice"))); err == nil {
		t.Fatal("removed tenant logged in")
	}
	e.waitLog("sftp login failed", "user", "alice", "why", "no such user")

	bad := e.tenants["bob"].Tenant
	bad.PasswordHash = "plaintext"
	if err := e.srv.SetTenants([]Tenant{bad}); err == nil || !strings.Contains(err.Error(), "plain text") {
		t.Errorf("plain text password accepted: %v", err)
	}
	if err := e.srv.SetTenants([]Tenant{bad, bad}); err == nil {
		t.Error("duplicate tenant accepted")
	}
}

// TestSessionDetails covers what pkg/sftp clients do beyond OpenSSH's put:
// writes out of order, fsetstat while writing, exclusive create, rename
// without overwrite, and a shutdown in the middle of an upload.
func TestSessionDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, sc := e.sftpClient("alice")
	defer c.Close()

	// Out of order writes still give the right sha256, and setstat on a
	// file being written is accepted.
	f, err := sc.OpenFile("/inbox/ooo.csv", os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("world"), 6)
	f.WriteAt([]byte("hello "), 0)
	if err := f.Chmod(0o600); err != nil {
		t.Errorf("fsetstat while writing: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	e.waitLog("sftp upload", "name", "ooo.csv", "size", "11", "sha256", sha([]byte("hello world")))
	if err := sc.Chtimes("/inbox/ooo.csv", time.Now(), time.Now()); err != nil {
		t.Errorf("setstat times: %v", err)
	}
	if err := sc.Truncate("/inbox/ooo.csv", 1); err == nil {
		t.Error("truncate by setstat accepted")
	}

	// Exclusive create of an existing name, plain rename onto an existing
	// name, and resume of a final name are refused with a status.
	if _, err := sc.OpenFile("/inbox/ooo.csv", os.O_WRONLY|os.O_CREATE|os.O_EXCL); err == nil {
		t.Error("exclusive create of an existing file accepted")
	}
	w, _ := sc.Create("/inbox/other.csv")
	w.Close()
	if err := sc.Rename("/inbox/other.csv", "/inbox/ooo.csv"); err == nil {
		t.Error("rename onto an existing name accepted")
	}
	if err := sc.PosixRename("/inbox/other.csv", "/inbox/ooo.csv"); err != nil {
		t.Errorf("posix-rename onto an existing name: %v", err)
	}
	if _, err := sc.OpenFile("/inbox/ooo.csv", os.O_WRONLY|os.O_APPEND); err == nil {
		t.Error("append to a final name accepted")
	}
	if err := sc.Mkdir("/inbox/sub"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("mkdir: %v, want permission denied", err)
	}
	if _, err := sc.ReadLink("/inbox/ooo.csv"); err == nil {
		t.Error("readlink of a file succeeded")
	}
	if _, err := sc.Stat("/receipts/../../etc"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat outside: %v, want no such file", err)
	}
	e.waitLog("sftp refused", "what", "setstat", "why", "~size")
	e.waitLog("sftp refused", "what", "rename", "path", "/inbox/ooo.csv", "why", "~exists")
	e.waitLog("sftp refused", "what", "upload", "path", "/inbox/ooo.csv", "why", "~may be in processing")
	e.wantInbox("alice", "ooo.csv")

	// The server stops during an upload: the upload is discarded and
	// Serve returns (checked by the cleanup of newEnv).
	f, err = sc.Create("/inbox/interrupted.csv")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 100<<10))
	e.srv.closeAll()
	waitFor(t, func() bool { return e.countLog("sftp upload aborted", "name", "interrupted.csv") == 1 })
	e.wantInbox("alice", "ooo.csv")
}

// TestServeStopsWithContext checks that Serve returns once its context is
// done, with a session open.
func TestServeStopsWithContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, err := New(Options{Listen: "127.0.0.1:0", HostKeyDir: filepath.Join(dir, "k"), Logger: discardLogger()},
		[]Tenant{{ID: "t", InboxDir: filepath.Join(dir, "i"), ReceiptsDir: filepath.Join(dir, "r"), PasswordHash: bcryptTest(t, "pw")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	waitFor(t, func() bool { return srv.Addr() != nil })
	c, err := ssh.Dial("tcp", srv.Addr().String(), &ssh.ClientConfig{User: "t", Auth: []ssh.AuthMethod{ssh.Password("pw")},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// TestFsyncExtension checks fsync@openssh.com with pkg/sftp's client: it
// is announced, syncs an upload in progress, and is harmless on a
// download.
func TestFsyncExtension(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	os.WriteFile(filepath.Join(e.tenants["alice"].ReceiptsDir, "r.json"), []byte("{}"), 0o644)
	c, sc := e.sftpClient("alice")
	defer c.Close()
	if v, ok := sc.HasExtension("fsync@openssh.com"); !ok || v != "1" {
		t.Fatalf("fsync@openssh.com announced as %q, %v", v, ok)
	}
	if _, ok := sc.HasExtension("posix-rename@openssh.com"); !ok {
		t.Error("posix-rename@openssh.com no longer announced")
	}
	f, err := sc.Create("/inbox/durable.xml")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("<x/>"))
	if err := f.Sync(); err != nil {
		t.Fatalf("fsync: %v", err)
	}
	f.Write([]byte("\n"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	e.waitLog("sftp upload", "name", "durable.xml", "size", "5", "synced", "true")
	r, err := sc.Open("/receipts/r.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		t.Errorf("fsync of a download: %v", err)
	}
	r.Close()
}
