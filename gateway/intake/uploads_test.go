package intake

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/sftpd"
)

// The SFTP server's hash of an upload is used only for the file as it
// landed: appended to, replaced or touched, the file is hashed again.
func TestUploadHashTrustedOnlyUnchanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.xml")
	landed := func() {
		t.Helper()
		if err := os.WriteFile(path, []byte("landed"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stat := func() os.FileInfo {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	var u uploadHashes
	report := func() { u.add(sftpd.Upload{Tenant: "demo", Path: path, SHA256: "cafe", File: stat()}) }

	landed()
	report()
	if sum, ok := u.take(path, stat()); !ok || sum != "cafe" {
		t.Errorf("unchanged file: %q %v, want the reported hash", sum, ok)
	}
	if _, ok := u.take(path, stat()); ok {
		t.Error("a hash was used twice")
	}
	for name, change := range map[string]func(){
		"appended": func() {
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("more")
			f.Close()
		},
		"replaced": func() {
			os.WriteFile(path+".new", []byte("landed"), 0o644)
			os.Rename(path+".new", path)
		},
		"touched": func() { os.Chtimes(path, time.Now(), time.Now().Add(time.Hour)) },
	} {
		landed()
		report()
		change()
		if _, ok := u.take(path, stat()); ok {
			t.Errorf("%s file: the old hash was trusted", name)
		}
	}
}

// The files of one SFTP session's burst wait for each other, at most
// BurstHold, and are released together; a file on its own, the first of a
// burst and files of other sessions do not wait.
func TestUploadBurstHold(t *testing.T) {
	var u uploadHashes
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	land := func(session uint64, name string, ms int) {
		u.addAt(sftpd.Upload{Tenant: "demo", Path: "/in/" + name, SHA256: "cafe", Session: session}, at(ms))
	}
	held := func(name string, ms int) (time.Time, bool) { return u.hold("/in/"+name, at(ms)) }

	land(1, "single", 0)
	if _, ok := held("single", 0); ok {
		t.Error("a file on its own waits")
	}
	if _, ok := held("unknown", 0); ok {
		t.Error("a file that did not come over SFTP waits")
	}

	// Session 2 lands a file every 2 ms from 1000 ms on.
	for i := range 5 {
		land(2, fmt.Sprintf("b%d", i), 1000+2*i)
	}
	land(3, "other", 1009) // another session, on its own
	if _, ok := held("b0", 1008); ok {
		t.Error("the first file of a burst waits")
	}
	if _, ok := held("other", 1009); ok {
		t.Error("a file of another session waits for a burst")
	}
	until, ok := held("b1", 1009)
	if want := at(1008).Add(BurstGap); !ok || !until.Equal(want) {
		t.Errorf("b1 at 1009 ms: held %v until %v, want until the burst's last file + BurstGap (%v)", ok, until.Sub(t0), want.Sub(t0))
	}
	// Quiet for BurstGap: every file of the burst goes, together.
	for i := 1; i < 5; i++ {
		if _, ok := held(fmt.Sprintf("b%d", i), 1008+int(BurstGap/time.Millisecond)); ok {
			t.Errorf("b%d still held once the session was quiet for BurstGap", i)
		}
	}

	// A session that never pauses: its files wait at most BurstHold.
	hold := int(BurstHold / time.Millisecond)
	n := hold + 200 // a file a millisecond, for longer than BurstHold
	for i := range n {
		land(4, fmt.Sprintf("c%04d", i), 2000+i)
	}
	until, ok = held("c0001", 2050)
	if want := at(2001).Add(BurstHold); !ok || !until.Equal(want) {
		t.Errorf("c0001 while the burst goes on: held %v until %v, want %v (BurstHold after it landed)", ok, until.Sub(t0), want.Sub(t0))
	}
	if _, ok := held("c0001", 2001+hold); ok {
		t.Error("c0001 held longer than BurstHold")
	}
	if _, ok := held(fmt.Sprintf("c%04d", hold/2), 2001+hold); ok {
		t.Error("a file of the same burst is still held after the others were released")
	}
	land(4, "next", 2000+n)
	if until, ok := held("next", 2000+n); !ok || !until.Equal(at(2000+n).Add(BurstGap)) {
		t.Errorf("the next file of the burst: held %v until %v, want a new wait", ok, until.Sub(t0))
	}
}
