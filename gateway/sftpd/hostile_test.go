package sftpd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// The tests of this file are what one hostile tenant, or anyone who can
// reach the port, tried against the server (docs/sftp.md, "A hostile
// tenant"). Each failed on the server before its control.

// TestOpenFileLimits: one session opened 19,983 uploads and exhausted the
// daemon's descriptors for everyone. Open files are capped per session,
// per tenant (connections and sessions count) and for the server.
func TestOpenFileLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.MaxOpenFilesPerSession = 6
		o.MaxOpenFilesPerTenant = 12
		o.MaxOpenFiles = 18
	})
	create := func(sc *sftp.Client, name string) (*sftp.File, error) {
		return sc.OpenFile("/inbox/"+name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	}
	c, sc := e.sftpClient("alice")
	defer c.Close()

	// A session: its connection (1) and folders (3), and 6 files.
	var files []*sftp.File
	for i := range 6 {
		f, err := create(sc, fmt.Sprintf("a%d", i))
		if err != nil {
			t.Fatalf("upload %d of 6: %v", i+1, err)
		}
		files = append(files, f)
	}
	if _, err := create(sc, "a6"); err == nil || !strings.Contains(err.Error(), "session holds its limit of 6 open files") {
		t.Fatalf("seventh open file of a session: %v", err)
	}
	e.waitLog("sftp refused", "tenant", "alice", "what", "upload", "path", "/inbox/a6", "why", "~session holds its limit of 6")
	// Closing gives the places back (10 held, 8 after).
	for _, f := range files[:2] {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	files = files[2:]

	// A second session of alice (3) and one file there reach the tenant's
	// 12; its next file is refused though that session holds only one.
	sc2, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("second session: %v", err)
	}
	defer sc2.Close()
	f, err := create(sc2, "b0")
	if err != nil {
		t.Fatalf("first upload of the second session: %v", err)
	}
	files = append(files, f)
	if _, err := create(sc2, "b1"); err == nil || !strings.Contains(err.Error(), "the tenant holds 12 open files") {
		t.Fatalf("open file past the tenant's limit: %v", err)
	}
	// A download counts too.
	os.WriteFile(filepath.Join(e.tenants["alice"].ReceiptsDir, "r.receipt.json"), []byte("{}"), 0o644)
	if _, err := sc2.Open("/receipts/r.receipt.json"); err == nil {
		t.Fatal("download past the tenant's limit")
	}

	// bob is not held back by alice's limit: his connection, session and
	// two files reach the server's 18; his third file is refused by it.
	cb, sb := e.sftpClient("bob")
	defer cb.Close()
	for i := range 2 {
		f, err := create(sb, fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatalf("bob's upload %d while alice is at her limit: %v", i+1, err)
		}
		defer f.Close()
	}
	if _, err := create(sb, "c2"); err == nil || !strings.Contains(err.Error(), "limit of 18 open files for all tenants") {
		t.Fatalf("open file past the server's limit: %v", err)
	}
	// alice closes her second session: bob may open again.
	sc2.Close()
	waitFor(t, func() bool {
		f, err := create(sb, "c3")
		if err == nil {
			f.Close()
		}
		return err == nil
	})
	for _, f := range files {
		f.Close()
	}
	e.waitLog("sftp upload", "tenant", "alice", "name", "a5")
}

// TestMaxStartups: 2,000 connections that never logged in were held from
// 100 loopback addresses. Past max_startups "start:rate:full" new ones are
// dropped, at random from start and all of them at full.
func TestMaxStartups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.MaxStartups = Startups{Start: 5, Rate: 30, Full: 10}
		o.MaxConnsPerIP = 100
	})
	// 60 silent connections from 3 addresses, one after another: each
	// gets the server's version line, or is closed at once.
	held := 0
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 60 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%3))}}
		c, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", e.port))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		switch {
		case err == nil && strings.HasPrefix(line, "SSH-2.0-"):
			held++
		case errors.Is(err, io.EOF):
		default:
			t.Fatalf("connection %d: %q, %v", i, line, err)
		}
	}
	t.Logf("%d of 60 silent connections held, %d dropped", held, 60-held)
	if held < 5 || held > 10 {
		t.Errorf("%d of 60 silent connections held, want 5 to 10 (max_startups 5:30:10)", held)
	}
	e.waitLog("sftp refused", "what", "connection", "why", "~max_startups 5:30:10")
	// Once they are gone, a client logs in.
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, func() bool {
		c, err := e.dial("alice", ssh.PublicKeys(e.signer("alice")))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// The drop probability is OpenSSH's: rate% at start, rising linearly to
// 100% at full.
func TestStartupsDropLikeOpenSSH(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want float64 // share dropped
	}{{0, 0}, {9, 0}, {10, 0.30}, {55, 0.65}, {99, 0.99}, {100, 1}, {150, 1}} {
		s := &startups{limit: Startups{10, 30, 100}}
		dropped := 0
		const trials = 20_000
		for range trials {
			s.n = tc.n
			if ok, _ := s.admit(); !ok {
				dropped++
			}
		}
		if got := float64(dropped) / trials; got < tc.want-0.02 || got > tc.want+0.02 {
			t.Errorf("with %d not logged in: %.3f dropped, want %.2f", tc.n, got, tc.want)
		}
	}
}

// TestSessionsCountedAtOnce: the limit of ten sessions per connection
// counted every session the connection ever opened, so a script reusing
// its connection was refused its eleventh. It counts those open at once.
func TestSessionsCountedAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, err := e.dial("alice", ssh.PublicKeys(e.signer("alice")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 2 * maxSessionsPerConn {
		sc, err := sftp.NewClient(c)
		if err != nil {
			t.Fatalf("session %d, opened after the earlier ones closed: %v", i+1, err)
		}
		if _, err := sc.Getwd(); err != nil {
			t.Fatal(err)
		}
		sc.Close()
	}
	var open []*sftp.Client
	defer func() {
		for _, sc := range open {
			sc.Close()
		}
	}()
	for range maxSessionsPerConn {
		// A session closed just before may not be counted out yet.
		var sc *sftp.Client
		waitFor(t, func() bool {
			var err error
			sc, err = sftp.NewClient(c)
			return err == nil
		})
		open = append(open, sc)
	}
	if sc, err := sftp.NewClient(c); err == nil {
		sc.Close()
		t.Fatalf("session %d at once accepted", maxSessionsPerConn+1)
	}
	e.waitLog("sftp refused", "tenant", "alice", "what", "channel", "why", "~more than 10 sessions open")
}

// fakeDisk plays a small file system holding the inboxes, so that a test
// can run out of space without filling the real disk: its free space is
// its size less the bytes of the files in the inboxes.
type fakeDisk struct {
	size int64
	dirs []string
}

func (d *fakeDisk) free(string) (int64, error) {
	free := d.size
	for _, dir := range d.dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return 0, err
		}
		for _, en := range entries {
			if fi, err := en.Info(); err == nil {
				free -= fi.Size()
			}
		}
	}
	return free, nil
}

// TestParallelUploadsKeepMinFreeDisk: min_free_disk was checked per upload
// at open and every 32 MiB, so 15 uploads in parallel filled a 400 MiB
// disk to 0 bytes. Space is reserved across all uploads now: however many
// run at once, the free space stays above the limit.
func TestParallelUploadsKeepMinFreeDisk(t *testing.T) {
	needSFTP(t)
	t.Parallel()
	const (
		minFree = 64 << 20
		each    = 6 << 20
		n       = 15
	)
	disk := &fakeDisk{size: minFree + 20<<20} // room for three uploads
	e := newEnv(t, func(o *Options) {
		o.MinFreeDisk = minFree
		o.freeSpace = disk.free
	})
	disk.dirs = []string{e.tenants["alice"].InboxDir, e.tenants["bob"].InboxDir}
	e.writeLocal("big", each)
	var wg sync.WaitGroup
	var landed atomic.Int32
	for i := range n {
		id := []string{"alice", "bob"}[i%2]
		wg.Go(func() {
			if _, err := e.sftp(id, fmt.Sprintf("put big big%02d\n", i)); err == nil {
				landed.Add(1)
			}
		})
	}
	wg.Wait()
	free, _ := disk.free("")
	t.Logf("%d of %d uploads of %d MiB landed; %d MiB free of the %d MiB limit", landed.Load(), n, each>>20, free>>20, minFree>>20)
	if free < minFree {
		t.Errorf("the uploads left %d bytes free, below min_free_disk %d", free, minFree)
	}
	if landed.Load() == 0 {
		t.Error("no upload landed though there was room for three")
	}
	e.waitLog("sftp refused", "what", "upload", "why", "~not enough free disk space")
	// Nothing of the refused uploads is left, and their reservations are
	// given back: once the landed files are taken away, an upload fits.
	for _, dir := range disk.dirs {
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			if IsTempName(en.Name()) {
				t.Errorf("%s left in %s", en.Name(), dir)
			}
			os.Remove(filepath.Join(dir, en.Name()))
		}
	}
	e.mustSFTP("alice", "put big again\n")
}

// The pool's unit: a reservation counts until it is written or given
// back, and the statfs is skipped only far from the limit.
func TestDiskPool(t *testing.T) {
	probes := 0
	free := int64(100 << 20)
	g := &diskGuard{min: 40 << 20, log: discardLogger(), pools: map[uint64]*diskPool{},
		probe: func(string) (int64, error) { probes++; return free, nil }}
	p := &diskPool{g: g}
	// 60 MiB above the limit: 50 MiB reserved by one upload leave 10.
	if n, err := p.grant("d", 50<<20, 0); err != nil || n != 50<<20 {
		t.Fatalf("grant 50 MiB: %d, %v", n, err)
	}
	if _, err := p.grant("d", 20<<20, 0); !errors.Is(err, errDiskLow) {
		t.Fatalf("grant 20 MiB with 10 left: %v, want %v", err, errDiskLow)
	}
	// Writing turns the reservation into used space; the probe sees it.
	p.wrote(50 << 20)
	free -= 50 << 20
	if _, err := p.grant("d", 20<<20, 0); !errors.Is(err, errDiskLow) {
		t.Fatalf("grant 20 MiB after 50 written: %v, want %v", err, errDiskLow)
	}
	if n, err := p.grant("d", 4<<20, 1<<20); err != nil || n != 5<<20 {
		t.Fatalf("grant 4 MiB with 1 MiB ahead: %d, %v", n, err)
	}
	p.release(5 << 20)
	if err := p.check("d"); err != nil {
		t.Fatalf("check with 10 MiB left: %v", err)
	}
	if probes != 5 {
		t.Errorf("%d probes near the limit, want one per grant (5)", probes)
	}
	// Far from the limit the next probe waits a moment.
	free = 10 << 30
	probes = 0
	p = &diskPool{g: g}
	for range 3 {
		if _, err := p.grant("d", 1<<20, 0); err != nil {
			t.Fatal(err)
		}
	}
	if probes != 1 {
		t.Errorf("%d probes far from the limit, want 1", probes)
	}
}

// TestSparseUploadRefused: a 1 GiB upload of one byte at its end cost 3 s
// of CPU to hash at close. A write that would leave a hole is refused, as
// is a file that has one at its close; nothing lands.
func TestSparseUploadRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, sc := e.sftpClient("alice")
	defer c.Close()

	f, err := sc.OpenFile("/inbox/sparse.xml", os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{'x'}, 1<<30-1); err == nil {
		t.Error("a write 1 GiB ahead was accepted")
	}
	if err := f.Close(); err == nil {
		t.Error("the sparse upload closed without an error")
	}
	e.waitLog("sftp refused", "tenant", "alice", "what", "upload", "path", "/inbox/sparse.xml", "why", "~would leave a hole after byte 0")

	// A hole within the window of writes in flight is refused at close.
	f, err = sc.OpenFile("/inbox/gap.xml", os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("head"), 0)
	f.WriteAt([]byte("tail"), 1<<20)
	if err := f.Close(); err == nil {
		t.Error("an upload with a hole closed without an error")
	}
	e.waitLog("sftp refused", "tenant", "alice", "what", "upload", "path", "/inbox/gap.xml", "why", "~hole after byte 4")
	e.wantInbox("alice")
	if n := e.countLog("sftp upload"); n != 0 {
		t.Errorf("%d uploads landed", n)
	}
}

// Copies of early packets, held to hash an upload in order, are bounded
// for all uploads together; past the bound an upload is hashed again at
// its close, with the same result.
func TestHashCopiesBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, sc := e.sftpClient("alice")
	defer c.Close()
	upload := func(name string) {
		t.Helper()
		f, err := sc.OpenFile("/inbox/"+name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte("world"), 6)
		f.WriteAt([]byte("hello "), 0)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		e.waitLog("sftp upload", "name", name, "size", "11", "sha256", sha([]byte("hello world")))
	}
	upload("copied.txt")
	if n := e.srv.hashCopies.Load(); n != 0 {
		t.Errorf("%d bytes of copies held after the upload closed", n)
	}
	e.srv.hashCopies.Store(maxHashCopies)
	upload("reread.txt")
	if n := e.srv.hashCopies.Load(); n != maxHashCopies {
		t.Errorf("copies %d after an upload past the bound, want %d", n, maxHashCopies)
	}
}
