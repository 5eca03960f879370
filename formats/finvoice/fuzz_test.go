package finvoice

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzRead: Read never panics; a document it returns that Check accepts
// is written, and what is written reads back with the same essentials.
func FuzzRead(f *testing.F) {
	if golden, err := os.ReadFile(filepath.Join("testdata", "batch.golden.xml")); err == nil {
		f.Add(golden)
	}
	var one bytes.Buffer
	b := testBatch()
	b.Items = b.Items[1:2]
	if err := WriteBatch(&one, b); err == nil {
		f.Add(one.Bytes())
	}
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-15"?><Finvoice Version="3.0"/>`))
	f.Add([]byte("<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"x\"/>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, m := range msgs {
			if Check(m.Doc) != nil {
				continue
			}
			var out bytes.Buffer
			to := Address{ID: "003713669598", Intermediator: "003721291126"}
			if err := WriteBatch(&out, Batch{Created: time.Unix(0, 0), Intermediator: "OKOYFIHH", Items: []Item{{ID: "fuzz", To: to, Doc: m.Doc}}}); err != nil {
				t.Fatalf("Check accepted the document but WriteBatch refused it: %v", err)
			}
			back, err := Read(&out)
			if err != nil {
				t.Fatalf("what WriteBatch wrote does not read: %v", err)
			}
			if back[0].Doc.Number != m.Doc.Number || back[0].Doc.Totals.Payable != m.Doc.Totals.Payable ||
				back[0].Doc.PaymentReference() != m.Doc.PaymentReference() {
				t.Fatalf("a written document read back as another: %q %s %q", back[0].Doc.Number, back[0].Doc.Totals.Payable, back[0].Doc.PaymentReference())
			}
		}
	})
}
