package ubl

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

func benchRead(b *testing.B, data []byte, docs int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	in := formats.Input{R: bytes.NewReader(data), Size: int64(len(data))}
	for b.Loop() {
		n := 0
		err := Format{}.Read(in, func(it formats.Item) error {
			if it.Err != nil {
				b.Fatal(it.Err)
			}
			n++
			return nil
		})
		if err != nil || n != docs {
			b.Fatalf("%d documents, err %v", n, err)
		}
	}
	b.ReportMetric(float64(docs*b.N)/b.Elapsed().Seconds(), "invoices/s")
}

func BenchmarkReadBaseExample(b *testing.B) {
	files := examples(b, "openpeppol-examples")
	benchRead(b, readFile(b, filepath.Join(filepath.Dir(files[0]), "base-example.xml")), 1)
}

// BenchmarkReadZIP reads a batch of 100 invoices in one archive.
func BenchmarkReadZIP(b *testing.B) {
	files := examples(b, "openpeppol-examples")
	var entries []zipEntry
	for i := range 100 {
		name := files[i%len(files)]
		entries = append(entries, zipEntry{filepath.Base(name) + string(rune('a'+i%26)), readFile(b, name)})
	}
	benchRead(b, makeZIP(b, entries), 100)
}

// BenchmarkReadZIP5000 is the commonest large batch: 5,000 invoices of
// about 8 KB in one archive.
func BenchmarkReadZIP5000(b *testing.B) {
	files := examples(b, "openpeppol-examples")
	var entries []zipEntry
	for i := range 5000 {
		name := files[i%len(files)]
		entries = append(entries, zipEntry{fmt.Sprintf("%04d-%s", i, filepath.Base(name)), readFile(b, name)})
	}
	benchRead(b, makeZIP(b, entries), 5000)
}

// BenchmarkParseTree parses one invoice held in memory with each parser:
// scan is parseTree (scanTree), encoding-xml is decodeTree, which parseTree
// leaves large and unusual documents to.
func BenchmarkParseTree(b *testing.B) {
	files := examples(b, "openpeppol-examples")
	data := readFile(b, filepath.Join(filepath.Dir(files[0]), "base-example.xml"))
	for _, p := range []struct {
		name  string
		parse func(*byteReader) (*node, error)
	}{{"scan", parseTree}, {"encoding-xml", decodeTree}} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				br := newByteReader(bytes.NewReader(data))
				if _, err := p.parse(br); err != nil {
					b.Fatal(err)
				}
				br.release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(data)), "ns/byte")
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	files := examples(b, "openpeppol-examples")
	doc := readOne(b, readFile(b, filepath.Join(filepath.Dir(files[0]), "base-example.xml")))
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invoices/s")
}
