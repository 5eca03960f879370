package csv

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// FuzzRead feeds Read arbitrary bytes. Read must not panic, must emit
// consistent items, and every document it reads must survive Write and a
// second Read unchanged.
func FuzzRead(f *testing.F) {
	src, err := readExample()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src)
	for _, sep := range []rune{';', ','} {
		for _, mark := range []byte{',', '.'} {
			f.Add(variant(f, src, sep, mark, "windows-1252"))
		}
	}
	var buf bytes.Buffer
	for i := range 8 {
		buf.Reset()
		if err := Write(&buf, genDoc(i)); err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte(nil), buf.Bytes()...))
	}
	f.Add([]byte(mini + "1;2025-01-01;S;B;x;1,250;10;25\n"))
	f.Add([]byte(mini + "1;2025-01-01;S;B;\"x\ny\";1;1,5;25\n1;2025-01-01;S;B;z;1;1;0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		format := Format{MaxRowBytes: 4096, MaxInvoiceRows: 20}
		var got []*formats.Document
		index := 0
		err := format.Read(formats.Input{R: bytes.NewReader(data), Size: int64(len(data))}, func(it formats.Item) error {
			if it.Index != index || (it.Doc == nil) == (it.Err == nil) || it.Source == "" {
				t.Fatalf("inconsistent item %d: %+v", index, it)
			}
			index++
			if it.Doc != nil {
				d := it.Doc
				if d.Totals.Payable != d.Totals.TaxExclusive+*d.Totals.TaxTotal || len(d.Lines) == 0 {
					t.Fatalf("document %s does not add up: %+v", d.Number, d.Totals)
				}
				got = append(got, d)
			}
			return nil
		})
		if err != nil && index > 0 {
			t.Fatalf("Read failed after emitting %d items: %v", index, err)
		}
		if len(got) == 0 {
			return
		}
		buf.Reset()
		if err := Write(&buf, got...); err != nil {
			t.Fatalf("Write refuses what Read read: %v", err)
		}
		again := docs(t, buf.Bytes())
		for i := range again {
			a, b := *again[i], *got[i]
			a.Source, b.Source = "", ""
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip changed document %d:\n read %+v\nagain %+v\nfile %q", i, b, a, buf.Bytes())
			}
		}
	})
}
