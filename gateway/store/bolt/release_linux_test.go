package bolt

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// rssFileKB is the file-backed part of this process's resident memory.
func rssFileKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssFile:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Skip("the kernel does not report RssFile")
	return 0
}

// Reading the store maps its pages into the daemon's resident memory;
// releaseMap takes them out again, and the data reads back the same.
func TestReleaseMapDropsReadPages(t *testing.T) {
	s, _ := openTemp(t)
	value := bytes.Repeat([]byte("x"), 4000)
	for batch := range 8 {
		err := s.h.Load().db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bBodies)
			for i := range 1000 {
				if err := b.Put(fmt.Appendf(nil, "k%d-%04d", batch, i), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	read := func() {
		t.Helper()
		n := 0
		s.h.Load().db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bBodies).ForEach(func(k, v []byte) error {
				if !bytes.Equal(v, value) {
					t.Fatalf("%s reads back wrong", k)
				}
				n++
				return nil
			})
		})
		if n != 8000 {
			t.Fatalf("read %d values, want 8000", n)
		}
	}
	if err := releaseMap(s.h.Load().db); err != nil {
		t.Fatal(err)
	}
	before := rssFileKB(t)
	read()
	mapped := rssFileKB(t)
	if mapped-before < 20_000 {
		t.Skipf("reading 32 MB of the store added only %d kB of RSS; nothing to release here", mapped-before)
	}
	if err := releaseMap(s.h.Load().db); err != nil {
		t.Fatal(err)
	}
	after := rssFileKB(t)
	if after-before > (mapped-before)/4 {
		t.Errorf("RssFile %d kB before reading, %d kB after, %d kB after the release: the pages stay resident", before, mapped, after)
	}
	read()
}
