package durable

import (
	"os"
	"path/filepath"
	"testing"
)

// A file made without a name appears whole under its name when linked,
// with mode 0600; a taken name is reported, not replaced; and a file never
// linked (the process stopped between the write and the link) leaves
// nothing in the folder.
func TestUnnamedFiles(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "F1-1.eml")
	f, ok, err := CreateUnnamed(final)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("no unnamed files (O_TMPFILE) on this file system")
	}
	f.Write([]byte("a whole e-mail"))
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("an unnamed file shows %d entries before its link", len(entries))
	}
	if exists, unsupported, err := LinkUnnamed(f, final); exists || unsupported || err != nil {
		t.Fatalf("link: exists %v, unsupported %v, %v", exists, unsupported, err)
	}
	f.Close()
	if got, _ := os.ReadFile(final); string(got) != "a whole e-mail" {
		t.Errorf("linked file holds %q", got)
	}
	if fi, err := os.Stat(final); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("linked file: %v (%v), want mode 0600", fi.Mode(), err)
	}

	g, _, err := CreateUnnamed(final)
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("again"))
	if exists, _, err := LinkUnnamed(g, final); !exists || err != nil {
		t.Errorf("link over a taken name: exists %v, %v; want exists", exists, err)
	}
	g.Close()
	if got, _ := os.ReadFile(final); string(got) != "a whole e-mail" {
		t.Errorf("a link replaced the file: it holds %q", got)
	}

	h, _, err := CreateUnnamed(filepath.Join(dir, "F1-2.eml"))
	if err != nil {
		t.Fatal(err)
	}
	h.Write([]byte("half an e-mail"))
	h.Close()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("an unlinked file left an entry: %d in the folder, want 1", len(entries))
	}
}
