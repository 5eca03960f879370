package sftpd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// watchInbox records every visible name that appears in dir, with the
// size it had when seen, until stop is called. It is how the tests check
// that the inbox watcher can only ever see complete files.
func watchInbox(t *testing.T, dir string) (stop func() map[string][]int64) {
	seen := map[string][]int64{}
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for !done.Load() {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				if fi, err := e.Info(); err == nil {
					seen[e.Name()] = append(seen[e.Name()], fi.Size())
				}
			}
			time.Sleep(time.Millisecond)
		}
	})
	return func() map[string][]int64 {
		done.Store(true)
		wg.Wait()
		return seen
	}
}

// onlyComplete fails when a name was seen at another size than want. A
// size of -1 allows any: the watcher ignores .part names by their name.
func onlyComplete(t *testing.T, seen map[string][]int64, want map[string]int64) {
	t.Helper()
	for name, sizes := range seen {
		size, ok := want[name]
		if !ok {
			t.Errorf("inbox showed %q, which should never be visible", name)
			continue
		}
		for _, s := range sizes {
			if size >= 0 && s != size {
				t.Errorf("inbox showed %q with %d bytes, want only the complete %d", name, s, size)
			}
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPutLandsAtomically(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	data := e.writeLocal("inv.xml", 3<<20+17)
	stop := watchInbox(t, e.tenants["alice"].InboxDir)
	out := e.mustSFTP("alice", "pwd\nput inv.xml\nls -l\nls /\n")
	seen := stop()
	onlyComplete(t, seen, map[string]int64{"inv.xml": int64(len(data))})
	if len(seen["inv.xml"]) == 0 {
		t.Error("watcher never saw inv.xml")
	}
	e.wantInbox("alice", "inv.xml")
	got, _ := os.ReadFile(filepath.Join(e.tenants["alice"].InboxDir, "inv.xml"))
	if !bytes.Equal(got, data) {
		t.Fatal("uploaded content differs")
	}
	for _, want := range []string{"Remote working directory: /inbox", "inv.xml", "inbox", "receipts", "alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	e.waitLog("sftp login", "tenant", "alice", "ip", "127.0.0.1", "method", "publickey", "key_fp", e.tenants["alice"].fp)
	e.waitLog("sftp upload", "tenant", "alice", "name", "inv.xml", "size", fmt.Sprint(len(data)), "sha256", sha(data))
	e.waitLog("sftp logout", "tenant", "alice", "why", "client closed")
}

func TestPartialThenRenameAndResume(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	a := e.writeLocal("a.xml", 200<<10)
	full := e.writeLocal("b.xml", 300<<10)
	os.WriteFile(filepath.Join(e.local, "b-half"), full[:100<<10], 0o644)
	stop := watchInbox(t, e.tenants["alice"].InboxDir)
	// WinSCP style: upload as .filepart, rename. lftp style with resume:
	// a first part as .part, reput the rest, rename.
	e.mustSFTP("alice", "put a.xml a.xml.filepart\nrename a.xml.filepart a.xml\n"+
		"put b-half b.xml.part\nreput b.xml b.xml.part\nrename b.xml.part b.xml\n")
	seen := stop()
	onlyComplete(t, seen, map[string]int64{"a.xml.filepart": int64(len(a)), "a.xml": int64(len(a)),
		"b.xml.part": -1, "b.xml": int64(len(full))})
	e.wantInbox("alice", "a.xml", "b.xml")
	got, _ := os.ReadFile(filepath.Join(e.tenants["alice"].InboxDir, "b.xml"))
	if !bytes.Equal(got, full) {
		t.Fatalf("resumed file has %d bytes, differs from the %d sent", len(got), len(full))
	}
	e.waitLog("sftp upload", "tenant", "alice", "name", "a.xml.filepart", "sha256", sha(a))
	e.waitLog("sftp rename", "tenant", "alice", "from", "a.xml.filepart", "to", "a.xml")
	e.waitLog("sftp upload", "tenant", "alice", "name", "b.xml.part", "resumed", "true", "sha256", sha(full), "size", fmt.Sprint(len(full)))
	e.waitLog("sftp rename", "tenant", "alice", "from", "b.xml.part", "to", "b.xml")
}

func TestOverwriteAndRemove(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	first := e.writeLocal("one", 10<<10)
	second := e.writeLocal("two", 20<<10)
	e.mustSFTP("alice", "put one inv.csv\nput two inv.csv\nput one gone.csv\nrm gone.csv\n")
	e.wantInbox("alice", "inv.csv")
	got, _ := os.ReadFile(filepath.Join(e.tenants["alice"].InboxDir, "inv.csv"))
	if !bytes.Equal(got, second) {
		t.Fatal("overwrite did not replace the content")
	}
	e.waitLog("sftp upload", "name", "inv.csv", "sha256", sha(first))
	e.waitLog("sftp upload", "name", "inv.csv", "sha256", sha(second))
	e.waitLog("sftp remove", "tenant", "alice", "name", "gone.csv")
}

func TestTenParallelClients(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	const n = 10
	sums := make([]string, n)
	for i := range n {
		sums[i] = sha(e.writeLocal(fmt.Sprintf("f%d", i), 256<<10+i))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	outs := make([]string, n)
	for i := range n {
		wg.Go(func() {
			outs[i], errs[i] = e.sftp("alice", fmt.Sprintf("put f%d\n", i))
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("client %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("f%d", i)
		e.waitLog("sftp upload", "name", want[i], "sha256", sums[i])
	}
	e.wantInbox("alice", want...)
	if c := e.countLog("sftp login", "tenant", "alice"); c != n {
		t.Errorf("%d login lines, want %d", c, n)
	}
}

func TestTraversalLinksAndOtherTenants(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	e.writeLocal("x", 1000)
	os.WriteFile(filepath.Join(e.tenants["bob"].ReceiptsDir, "bob.receipt.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(e.tenants["bob"].InboxDir, "bob.xml"), []byte("<x/>"), 0o644)
	// A symbolic link someone planted in alice's receipts must not lead out.
	os.Symlink("/etc/passwd", filepath.Join(e.tenants["alice"].ReceiptsDir, "planted"))
	batch := strings.Join([]string{
		"put x a",
		"-put x ../x", "-put x /x", "-put x /etc/x", "-put x /inbox/../../x", "-put x ../../bob/inbox/x",
		"-put x /inbox/sub/x", "-put x .hidden", "-put x /receipts/x", "-put x /",
		"-get /etc/passwd", "-get ../../etc/passwd", "-get /inbox/../../../etc/passwd", "-get /receipts/planted",
		"-get /receipts/bob.receipt.json", "-get ../../bob/receipts/bob.receipt.json", "-get a",
		"-ls /etc", "-ls ../../bob/inbox", "-cd /tmp", "-cd ../bob",
		"-mkdir sub", "-mkdir /x", "-rmdir /inbox", "-rm /receipts",
		"-ln -s /etc/passwd link", "-symlink /etc/passwd link2", "-ln a hard", "-ln -s a link3",
		"-rename a /receipts/a", "-rename a ../a", "-rename /receipts/planted b", "-rm ../../bob/inbox/bob.xml",
		"-chmod 777 /receipts", "-chmod 777 /",
		"cd ..", "cd ..", "pwd", "ls", "cd ../../..", "pwd",
	}, "\n") + "\n"
	out := e.mustSFTP("alice", batch)
	if strings.Count(out, "Remote working directory: /\n") != 2 {
		t.Errorf("cd .. did not stop at /:\n%s", out)
	}
	e.wantInbox("alice", "a")
	e.wantInbox("bob", "bob.xml")
	// Nothing appeared anywhere else in the tree, and nothing was fetched.
	filepath.Walk(e.dir, func(p string, fi os.FileInfo, err error) error {
		switch filepath.Base(p) {
		case "x", "passwd", "planted", "bob.receipt.json", "link", "link2", "hard", "sub":
			if filepath.Dir(p) == e.local && filepath.Base(p) != "x" || strings.Contains(p, "inbox") {
				t.Errorf("%s exists", p)
			}
		}
		return nil
	})
	if _, err := os.Lstat(filepath.Join(e.local, "a")); err == nil {
		t.Error("an inbox file could be read back")
	}
	for _, want := range []string{"Permission denied", "No such file", "not found"} {
		if !strings.Contains(out, want) {
			t.Errorf("client output lacks %q:\n%s", want, out)
		}
	}
	for _, kv := range [][]string{
		{"what", "upload", "path", "/x"},
		{"what", "upload", "path", "/etc/x", "why", "~only /inbox and /receipts exist"},
		{"what", "upload", "path", "/inbox/sub/x"},
		{"what", "upload", "path", "/inbox/.hidden", "why", "~reserved"},
		{"what", "upload", "path", "/receipts/x", "why", "~read only"},
		{"what", "stat", "path", "/etc/passwd", "why", "~only /inbox and /receipts exist"},
		{"what", "stat", "path", "/bob/receipts/bob.receipt.json"},
		{"what", "stat", "path", "/receipts/planted", "why", "~not a regular file"},
		{"what", "download", "path", "/inbox/a", "why", "~cannot be read back"},
		{"what", "stat", "path", "/etc"}, // ls stats the path first
		{"what", "mkdir", "why", "~flat"},
		{"what", "rmdir"},
		{"what", "symlink", "why", "~links are not supported"},
		{"what", "link", "why", "~links are not supported"},
		{"what", "rename", "path", "/receipts/a", "why", "~read only"},
		{"what", "remove", "path", "/bob/inbox/bob.xml"},
		{"what", "setstat", "path", "/receipts"},
	} {
		e.waitLog("sftp refused", append([]string{"tenant", "alice"}, kv...)...)
	}
}

func TestOversizeAndDiskLowLeaveNothing(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	t.Run("oversize", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *Options) { o.MaxFileSize = 64 << 10 })
		e.writeLocal("big", 300<<10)
		e.writeLocal("small", 64<<10)
		out, err := e.sftp("alice", "-put big\nput small\n")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		e.wantInbox("alice", "small")
		e.waitLog("sftp refused", "tenant", "alice", "what", "upload", "path", "/inbox/big", "why", "~larger than the limit of 65536 bytes")
		if e.countLog("sftp upload", "name", "big") != 0 {
			t.Error("oversize upload logged as completed")
		}
	})
	t.Run("disk low", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *Options) { o.MinFreeDisk = 1 << 60 })
		e.writeLocal("f", 1000)
		out, err := e.sftp("alice", "put f\n")
		if err == nil || !strings.Contains(out, "Failure") {
			t.Fatalf("upload with a full disk: err %v\n%s", err, out)
		}
		e.wantInbox("alice")
		e.waitLog("sftp refused", "tenant", "alice", "what", "upload", "why", "~not enough free disk space")
	})
}

func TestConnectionKilledMidUpload(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	e.writeLocal("large", 16<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// -l limits the client to ~4 Mbit/s, so the put is surely running
	// when the client is killed.
	cmd := e.sftpCmd(ctx, "alice", e.tenants["alice"].key, "put large\n")
	cmd.Args = append(cmd.Args[:1], append([]string{"-l", "4000"}, cmd.Args[1:]...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inbox := e.tenants["alice"].InboxDir
	deadline := time.Now().Add(15 * time.Second)
	for {
		names := e.inbox("alice")
		if len(names) == 1 && strings.HasPrefix(names[0], ".upload-") {
			if fi, err := os.Stat(filepath.Join(inbox, names[0])); err == nil && fi.Size() > 64<<10 {
				break
			}
		}
		if len(names) > 1 || (len(names) == 1 && !strings.HasPrefix(names[0], ".")) || time.Now().After(deadline) {
			t.Fatalf("upload in progress should show one hidden temporary file, inbox has %q", names)
		}
		time.Sleep(10 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	e.waitLog("sftp upload aborted", "tenant", "alice", "name", "large")
	e.wantInbox("alice")
	if e.countLog("sftp upload", "name", "large") != 0 {
		t.Error("killed upload logged as completed")
	}
}

func TestWrongKeyAndFromOption(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	mallory, _, err := EnsureClientKey(filepath.Join(e.dir, "keys"), "mallory")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.sftpAs("alice", mallory, "ls\n")
	if !isExit(err) || !strings.Contains(out, "Permission denied") {
		t.Fatalf("wrong key: err %v\n%s", err, out)
	}
	e.waitLog("sftp login failed", "user", "alice", "ip", "127.0.0.1", "methods", "publickey", "why", "~not in authorized_keys")
	// bob's key for alice, and a user that does not exist.
	if out, err := e.sftpAs("alice", e.tenants["bob"].key, "ls\n"); !isExit(err) {
		t.Fatalf("bob's key logged in as alice:\n%s", out)
	}
	e.waitLog("sftp login failed", "user", "alice", "key_fp", e.tenants["bob"].fp)
	if out, err := e.sftpAs("nobody", e.tenants["bob"].key, "ls\n"); !isExit(err) {
		t.Fatalf("unknown user logged in:\n%s", out)
	}
	e.waitLog("sftp login failed", "user", "nobody", "why", "no such user")

	// from= restricts alice's key to another network: refused; an edit of
	// authorized_keys takes effect at the next login.
	ak := e.tenants["alice"].AuthorizedKeysFile
	line, _ := os.ReadFile(ak)
	keyLine := strings.TrimSpace(string(line[strings.Index(string(line), "ssh-ed25519"):]))
	os.WriteFile(ak, []byte(`from="10.0.0.0/8,!127.0.0.1" `+keyLine+"\n"), 0o644)
	if out, err := e.sftp("alice", "ls\n"); !isExit(err) {
		t.Fatalf("from= did not restrict:\n%s", out)
	}
	e.waitLog("sftp login failed", "user", "alice", "key_fp", e.tenants["alice"].fp, "why", "~not allowed from 127.0.0.1")
	os.WriteFile(ak, []byte("# comment\n"+`from="10.*,127.0.0.?" `+keyLine+"\n"), 0o644)
	e.mustSFTP("alice", "ls\n")
	e.waitLog("sftp login", "tenant", "alice", "key_fp", e.tenants["alice"].fp)
}

func TestSHA1AndCBCClientsRefused(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		opts []string
		why  string
	}{
		{[]string{"KexAlgorithms=diffie-hellman-group14-sha1"}, "key exchange"},
		{[]string{"KexAlgorithms=diffie-hellman-group1-sha1"}, "key exchange"},
		{[]string{"KexAlgorithms=diffie-hellman-group-exchange-sha1"}, "key exchange"},
		// An AEAD cipher needs no MAC, so a SHA-1 MAC shows only with CTR.
		{[]string{"Ciphers=aes128-ctr", "MACs=hmac-sha1"}, "client to server MAC"},
		{[]string{"Ciphers=aes128-cbc"}, "client to server cipher"},
		{[]string{"HostKeyAlgorithms=ssh-rsa"}, "host key"},
	} {
		out, err := e.sftp("alice", "ls\n", tc.opts...)
		if !isExit(err) {
			t.Errorf("-o %s: logged in (err %v):\n%s", tc.opts, err, out)
		}
		e.waitLog("sftp refused", "ip", "127.0.0.1", "what", "handshake", "why", "~no common algorithm for "+tc.why)
	}
	if e.countLog("sftp login") != 0 {
		t.Error("a refused client logged in")
	}
}

func TestReceipts(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	e := newEnv(t, nil)
	dir := e.tenants["alice"].ReceiptsDir
	receipt := []byte(`{"file":"inv.xml","final":true}`)
	os.WriteFile(filepath.Join(dir, "inv.xml.receipt.json"), receipt, 0o644)
	os.WriteFile(filepath.Join(dir, "next.xml.receipt.json"), receipt, 0o644)
	os.WriteFile(filepath.Join(dir, ".receipt-123"), receipt, 0o644) // the daemon's temporary file
	os.WriteFile(filepath.Join(e.tenants["bob"].ReceiptsDir, "bob.xml.receipt.json"), receipt, 0o644)
	os.Symlink(filepath.Join(e.tenants["bob"].ReceiptsDir, "bob.xml.receipt.json"), filepath.Join(dir, "link.receipt.json"))
	os.Mkdir(filepath.Join(dir, "folder.receipt.json"), 0o750)
	e.writeLocal("x", 10)
	out, err := e.sftp("alice", "cd /receipts\nls -l\nget inv.xml.receipt.json\n-put x\n"+
		"-rename next.xml.receipt.json y\n-rename next.xml.receipt.json /inbox/y\n"+
		"-rm .receipt-123\n-rm link.receipt.json\n-rm folder.receipt.json\n-rm ../../bob/receipts/bob.xml.receipt.json\n"+
		"-rm gone.receipt.json\n-rm /receipts\n"+
		"rm inv.xml.receipt.json\nls\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got, _ := os.ReadFile(filepath.Join(e.local, "inv.xml.receipt.json"))
	if !bytes.Equal(got, receipt) {
		t.Fatalf("receipt fetched as %q", got)
	}
	if !strings.Contains(out, "inv.xml.receipt.json") {
		t.Errorf("ls /receipts does not list the receipt:\n%s", out)
	}
	// The receipt read is deleted; nothing else is, nor renamed, nor added.
	if _, err := os.Lstat(filepath.Join(dir, "inv.xml.receipt.json")); !os.IsNotExist(err) {
		t.Errorf("the receipt read is still there after rm: %v", err)
	}
	for _, p := range []string{filepath.Join(dir, "next.xml.receipt.json"), filepath.Join(dir, ".receipt-123"),
		filepath.Join(dir, "link.receipt.json"), filepath.Join(dir, "folder.receipt.json"),
		filepath.Join(e.tenants["bob"].ReceiptsDir, "bob.xml.receipt.json")} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: %v; only the receipt asked for may go", p, err)
		}
	}
	for _, p := range []string{filepath.Join(dir, "y"), filepath.Join(dir, "x")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s appeared in /receipts", p)
		}
	}
	e.wantInbox("alice")
	e.waitLog("sftp download", "tenant", "alice", "name", "inv.xml.receipt.json", "size", fmt.Sprint(len(receipt)))
	e.waitLog("sftp remove receipt", "tenant", "alice", "name", "inv.xml.receipt.json")
	e.waitLog("sftp refused", "tenant", "alice", "what", "upload", "path", "/receipts/x", "why", "~read only")
	e.waitLog("sftp refused", "tenant", "alice", "what", "rename", "path", "/receipts/next.xml.receipt.json", "why", "~read only")
	e.waitLog("sftp refused", "tenant", "alice", "what", "remove", "path", "/receipts/.receipt-123", "why", "~reserved")
	// A link or folder does not exist for the client (the stat before the
	// rm says why); another tenant's receipts are no path at all.
	e.waitLog("sftp refused", "tenant", "alice", "what", "stat", "path", "/receipts/link.receipt.json", "why", "~not a regular file")
	e.waitLog("sftp refused", "tenant", "alice", "what", "remove", "path", "/receipts/link.receipt.json", "why", "no such file")
	e.waitLog("sftp refused", "tenant", "alice", "what", "remove", "path", "/receipts/folder.receipt.json", "why", "no such file")
	e.waitLog("sftp refused", "tenant", "alice", "what", "remove", "path", "/bob/receipts/bob.xml.receipt.json", "why", "~only /inbox and /receipts exist")
	e.waitLog("sftp refused", "tenant", "alice", "what", "remove", "path", "/receipts", "why", "~flat")
	if n := e.countLog("sftp remove receipt"); n != 1 {
		t.Errorf("%d receipts removed, want 1", n)
	}
}

// TestDurability checks when an upload is synced to disk before the
// client's OK: only on request (fsync@openssh.com, OpenSSH's put -f) by
// default, always with SyncOnClose.
func TestDurability(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	for _, always := range []bool{false, true} {
		t.Run(fmt.Sprint("SyncOnClose=", always), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(o *Options) { o.SyncOnClose = always })
			plain := e.writeLocal("plain.xml", 100<<10)
			synced := e.writeLocal("synced.xml", 100<<10+1)
			e.mustSFTP("alice", "put plain.xml\nput -f synced.xml\n")
			e.wantInbox("alice", "plain.xml", "synced.xml")
			e.waitLog("sftp upload", "name", "plain.xml", "sha256", sha(plain), "synced", fmt.Sprint(always))
			e.waitLog("sftp upload", "name", "synced.xml", "sha256", sha(synced), "synced", "true")
		})
	}
}
