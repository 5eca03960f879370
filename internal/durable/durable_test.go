package durable

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noTemps fails when a temporary file is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if IsTemp(e.Name()) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "daemon.json")
	if err := WriteFile(p, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "new" {
		t.Fatalf("read %q, %v; want new", b, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 whatever the umask", fi.Mode().Perm())
	}
	noTemps(t, dir)
}

// A fill that fails leaves the old file as it was and no temporary file.
func TestWriteFailedFillKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	if err := WriteFile(p, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := Write(p, 0o640, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v; want the fill's error naming the file", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("file is %q after a failed write; want old", b)
	}
	noTemps(t, dir)
}

func TestWriteNewNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "http.token")
	if err := WriteNew(p, []byte("first"), 0o640); err != nil {
		t.Fatal(err)
	}
	err := WriteNew(p, []byte("second"), 0o640)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second WriteNew: %v; want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Errorf("secret is %q; want first", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	noTemps(t, dir)
}

// A group puts every file it can in place; one that cannot be renamed
// (its name is a folder) is reported alone and leaves no temporary file.
func TestGroup(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o750)
	os.Mkdir(filepath.Join(dir, "taken"), 0o750)
	var g Group
	paths := []string{filepath.Join(dir, "a"), filepath.Join(dir, "taken"), filepath.Join(other, "b")}
	for _, p := range paths {
		if err := g.Add(p, 0o640, func(w io.Writer) error { _, err := io.WriteString(w, filepath.Base(p)); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Add(filepath.Join(dir, "missing", "c"), 0o640, func(io.Writer) error { return nil }); err == nil {
		t.Error("Add into a missing folder succeeded")
	}
	if g.Len() != 3 {
		t.Fatalf("Len = %d, want 3", g.Len())
	}
	errs := g.Commit()
	if len(errs) != 3 || errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("Commit = %v; want only the second to fail", errs)
	}
	for _, p := range []string{paths[0], paths[2]} {
		b, err := os.ReadFile(p)
		if err != nil || string(b) != filepath.Base(p) {
			t.Errorf("%s: %q, %v", p, b, err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v, want 0640", p, fi.Mode().Perm())
		}
	}
	if g.Len() != 0 {
		t.Errorf("Len after Commit = %d", g.Len())
	}
	noTemps(t, dir)
	noTemps(t, other)
}

// A temporary name stays within NAME_MAX however long the final name, and
// IsTemp knows it; a name a client could pick is not taken for one.
func TestTempNames(t *testing.T) {
	dir := t.TempDir()
	f, err := CreateTemp(filepath.Join(dir, strings.Repeat("x", 255)))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	name := filepath.Base(f.Name())
	if len(name) > 255 || !IsTemp(name) {
		t.Errorf("temporary name %q (%d bytes): IsTemp %v", name, len(name), IsTemp(name))
	}
	for _, n := range []string{"invoice.tmp.xml", "x.tmp", ".hidden"} {
		if IsTemp(n) {
			t.Errorf("IsTemp(%q) = true", n)
		}
	}
}

func TestSyncFileSystems(t *testing.T) {
	if err := SyncFileSystems(t.TempDir(), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := SyncFileSystems(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("SyncFileSystems of a missing folder succeeded")
	}
}
