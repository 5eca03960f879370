package ubl

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// The entries of an archive are read on several goroutines; what comes out
// is what reading them one after the other gives: the same items in the
// same order, and the total size limit cutting at the same entry with the
// same errors, wherever it falls.
func TestZIPParallelAsSequential(t *testing.T) {
	files := examples(t, "openpeppol-examples")
	var entries []zipEntry
	var sizes []int64
	for i := range 60 {
		name := files[i%len(files)]
		raw := readFile(t, name)
		switch i % 13 {
		case 5:
			raw = []byte("%PDF-1.7 not an invoice")
		case 9:
			raw = raw[:len(raw)/2] // cut: not well-formed
		}
		entries = append(entries, zipEntry{fmt.Sprintf("e%02d.xml", i), raw})
		sizes = append(sizes, int64(len(raw)))
		if i%17 == 3 {
			entries = append(entries, zipEntry{fmt.Sprintf("dir%02d/", i), nil})
			sizes = append(sizes, 0)
		}
	}
	b := makeZIP(t, entries)
	read := func(workers int, limit int64) ([]formats.Item, string) {
		defer func(w func() int, m int64) { zipWorkers, maxTotalSize = w, m }(zipWorkers, maxTotalSize)
		zipWorkers, maxTotalSize = func() int { return workers }, limit
		var items []formats.Item
		err := Format{}.Read(formats.Input{R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
			items = append(items, it)
			return nil
		})
		return items, fmt.Sprint(err)
	}
	var limits []int64
	var sum int64
	for i, s := range sizes {
		sum += s
		if i%7 == 2 {
			limits = append(limits, sum, sum-1, sum+1, sum-s/2)
		}
	}
	limits = append(limits, 4<<30)
	for _, limit := range limits {
		want, wantErr := read(1, limit)
		for round := range 3 {
			got, gotErr := read(8, limit)
			if gotErr != wantErr {
				t.Fatalf("limit %d, round %d: Read returned %q, one after the other %q", limit, round, gotErr, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("limit %d, round %d: %d items, one after the other %d", limit, round, len(got), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Index != w.Index || g.Source != w.Source || fmt.Sprint(g.Err) != fmt.Sprint(w.Err) || !reflect.DeepEqual(g.Doc, w.Doc) {
					t.Fatalf("limit %d, round %d: item %d is %d %s %v, one after the other %d %s %v", limit, round, i, g.Index, g.Source, g.Err, w.Index, w.Source, w.Err)
				}
			}
		}
	}
}
