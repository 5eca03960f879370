package ubl

import (
	"bytes"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic, every item
// has exactly one of Doc and Err, and every document read must survive
// Write and read back without error.
//
// Run it with -fuzzminimizetime=100x: the seeds are whole invoices, and
// minimising every new input for the default minute leaves almost no time
// for fuzzing (23 execs in 3 minutes instead of millions).
func FuzzRead(f *testing.F) {
	for _, name := range examples(f, "openpeppol-examples") {
		f.Add(readFile(f, name))
	}
	f.Add([]byte(swedishXML))
	f.Add(sbdh([]byte(swedishXML)))
	f.Add(makeZIP(f, []zipEntry{{"a.xml", []byte(swedishXML)}, {"b.pdf", []byte("%PDF-1.4")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !(Format{}).Sniff(b[:min(len(b), formats.SniffSize)]) {
			return
		}
		_ = Format{}.Read(formats.Input{R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
			if (it.Doc == nil) == (it.Err == nil) {
				t.Fatalf("item %d: Doc %v and Err %v", it.Index, it.Doc != nil, it.Err)
			}
			if it.Doc == nil {
				return nil
			}
			var buf bytes.Buffer
			if err := Write(&buf, it.Doc); err != nil {
				t.Fatalf("Write: %v", err)
			}
			items := readBytes(t, buf.Bytes())
			if len(items) != 1 || items[0].Err != nil {
				t.Fatalf("written document does not read back: %v\n%s", items[0].Err, buf.Bytes())
			}
			return nil
		})
	})
}
