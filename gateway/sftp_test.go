package gateway

import (
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
