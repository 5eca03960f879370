package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/store"
)

func TestIgnoredNames(t *testing.T) {
	for name, want := range map[string]bool{
		".hidden.xml": true, "a.xml.part": true, "a.XML.FILEPART": true, "a.tmp": true,
		"a.xml": false, "part.xml": false, "a.partial": false,
	} {
		if got := ignoredName(name); got != want {
			t.Errorf("ignoredName(%q) = %v, want %v", name, got, want)
		}
	}
}

// A file is not taken while a writer holds it open, nor under a temporary
// name; it is taken as soon as it is closed or renamed.
func TestInboxWaitsForWriters(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(examples, "base-example.xml"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	d, _ := runDaemon(t, map[string]*fakeTransport{"peppol": {}}, "vat-category-E.xml")
	inbox := d.inboxDir("demo")

	slow := filepath.Join(inbox, "slow.xml")
	w, err := os.Create(slow)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body[:len(body)/2])
	part := filepath.Join(inbox, "upload.xml.part")
	os.WriteFile(part, body[:100], 0o644)

	time.Sleep(700 * time.Millisecond) // longer than the lease check interval, shorter than the settle time
	for _, p := range []string{slow, part} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s was taken while incomplete: %v", filepath.Base(p), err)
		}
	}
	w.Write(body[len(body)/2:])
	w.Close()
	closed := time.Now()
	waitUntil(t, func() bool { _, err := os.Stat(slow); return os.IsNotExist(err) })
	t.Logf("slow.xml taken %v after the writer closed it", time.Since(closed).Round(time.Millisecond))

	if err := os.Rename(part, filepath.Join(inbox, "renamed.xml")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { _, err := os.Stat(filepath.Join(inbox, "renamed.xml")); return os.IsNotExist(err) })
	if _, err := os.Stat(filepath.Join(d.receiptsDir("demo"), "upload.xml.part.receipt.json")); err == nil {
		t.Error("the .part name got a receipt of its own")
	}
}

// Many files at once are claimed in groups: every one ends recorded, each
// once, and a file whose bytes another file of the same group had is a
// duplicate.
func TestManyFilesClaimedInGroups(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	const n = claimGroup + 44
	dir := d.inboxDir("demo")
	// Written first, renamed in together, so the inbox sees them at once.
	for i := range n {
		body := fmt.Sprintf("not an invoice %d\n", i)
		if i == n-1 {
			body = "not an invoice 7\n" // the same bytes as file 7
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(".f%04d.txt", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		os.Rename(filepath.Join(dir, fmt.Sprintf(".f%04d.txt", i)), filepath.Join(dir, fmt.Sprintf("f%04d.txt", i)))
	}
	states := map[store.FileState]int{}
	waitUntil(t, func() bool {
		clear(states)
		total := 0
		d.store.View(func(tx store.Tx) error {
			return tx.ForEachFile(func(f *store.File) error {
				total++
				states[f.State]++
				return nil
			})
		})
		return total == n && states[store.FileRejected]+states[store.FileDuplicate] == n
	})
	if states[store.FileDuplicate] != 1 || states[store.FileRejected] != n-1 {
		t.Errorf("file states %v, want %d rejected (not invoices) and 1 duplicate", states, n-1)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left in the inbox", len(left))
	}
	if spooled, _ := os.ReadDir(filepath.Join(d.dataDir, "spool")); len(spooled) != n {
		t.Errorf("%d files in the spool, want %d", len(spooled), n)
	}
}
