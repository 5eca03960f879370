package paper

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

func letter(number string) *formats.Document {
	return &formats.Document{
		Kind: formats.KindInvoice, Number: number, Currency: "SEK",
		IssueDate: formats.Date{Year: 2024, Month: 4, Day: 2},
		Buyer: formats.Party{Name: "Anna Andersson",
			Address: formats.Address{Street: "Storgatan 1", PostalCode: "111 22", City: "Stockholm"}},
	}
}

func letters(n int) outbound.Batch {
	b := outbound.Batch{Key: "print-acme-F1", Biller: outbound.Biller{ID: "acme"}}
	for i := range n {
		b.Items = append(b.Items, outbound.BatchItem{Key: fmt.Sprintf("d%d", i), Doc: letter(fmt.Sprintf("INV-%d", i))})
	}
	return b
}

// fakePDF stands in for the PDF renderer: its "PDF" names the invoice,
// and it takes a random short time, so letters finish out of order.
func fakePDF(doc *formats.Document) ([]byte, error) {
	time.Sleep(time.Duration(rand.N(300)) * time.Microsecond)
	return []byte("%PDF-1.7 letter " + doc.Number + "\n/Type /Page\n%%EOF\n"), nil
}

func TestRenderBatchKeepsOrder(t *testing.T) {
	c := New(Options{PDF: fakePDF})
	m, err := c.RenderBatch(letters(200))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "print-acme-F1.zip" || m.ContentType != "application/zip" {
		t.Errorf("message %q %q", m.Name, m.ContentType)
	}
	zr, err := zip.NewReader(bytes.NewReader(m.Body), int64(len(m.Body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 202 {
		t.Fatalf("%d files in the ZIP, want 200 letters and two manifests", len(zr.File))
	}
	for i, f := range zr.File[:200] {
		if want := fmt.Sprintf("%04d-INV-%d.pdf", i+1, i); f.Name != want {
			t.Fatalf("file %d is %s, want %s", i, f.Name, want)
		}
		r, _ := f.Open()
		body, _ := io.ReadAll(r)
		if !strings.Contains(string(body), fmt.Sprintf("letter INV-%d\n", i)) {
			t.Fatalf("%s holds %q", f.Name, body)
		}
	}
	r, _ := zr.File[200].Open()
	var man Manifest
	if err := json.NewDecoder(r).Decode(&man); err != nil {
		t.Fatal(err)
	}
	if man.Letters != 200 || len(man.Items) != 200 || man.Items[199].Key != "d199" || man.Items[199].File != "0200-INV-199.pdf" || man.Pages != 200 {
		t.Errorf("manifest: %d letters, %d items, %d pages, last %+v", man.Letters, len(man.Items), man.Pages, man.Items[len(man.Items)-1])
	}
	// The same batch is the same bytes: a resend replaces the file.
	again, err := c.RenderBatch(letters(200))
	if err != nil || !bytes.Equal(again.Body, m.Body) {
		t.Errorf("second rendering differs (%v)", err)
	}
}

// A letter that cannot be drawn fails the batch, naming the invoice, and
// no more letters are drawn after it.
func TestRenderBatchStopsAtError(t *testing.T) {
	var drawn atomic.Int64
	c := New(Options{PDF: func(doc *formats.Document) ([]byte, error) {
		drawn.Add(1)
		if doc.Number == "INV-10" {
			return nil, errors.New("font missing")
		}
		return fakePDF(doc)
	}})
	_, err := c.RenderBatch(letters(5000))
	if err == nil || !strings.Contains(err.Error(), "INV-10") || !strings.Contains(err.Error(), "font missing") {
		t.Fatalf("err = %v", err)
	}
	if n := drawn.Load(); n > 200 {
		t.Errorf("%d letters drawn after the error at letter 11", n)
	}
}

// Letters are drawn at most a small window ahead of the one being added to
// the ZIP, so a batch never holds all its PDFs at once.
func TestRenderBatchWindow(t *testing.T) {
	var inFlight, most atomic.Int64
	c := New(Options{PDF: func(doc *formats.Document) ([]byte, error) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return fakePDF(doc)
	}})
	items := letters(300).Items
	err := c.renderInOrder(items, func(i int, pdf []byte) error {
		inFlight.Add(-1)
		time.Sleep(50 * time.Microsecond) // a slow writer
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if limit := int64(2*min(len(items), runtime.GOMAXPROCS(0))) + 1; most.Load() > limit {
		t.Errorf("%d letters drawn and not yet added at once, limit %d", most.Load(), limit)
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// A batch is the same bytes from one version to the next as from one
// rendering to the next: the print house's machines read its manifests,
// and a resend after an upgrade replaces the file it sent before.
func TestRenderBatchGolden(t *testing.T) {
	b := letters(3)
	abroad := b.Items[1].Doc
	abroad.Buyer.Address = formats.Address{Street: "Storgata 1", Additional: "c/o Berg", Line3: "Leil. 4", PostalCode: "0155", City: "Oslo", Country: "NO"}
	// The invoice's own PDF and a time sheet printed after it.
	b.Items[2].Doc.Attachments = []formats.Attachment{{ID: "INV-2", MimeCode: "application/pdf", Data: []byte("%PDF-1.4 own\n%%EOF\n")},
		{ID: "ts", MimeCode: "application/pdf", Filename: "tidrapport.pdf", Data: []byte("%PDF-1.4 ts /Type /Page\n%%EOF\n")}}
	m, err := New(Options{PDF: fakePDF}).RenderBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "batch.zip")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, m.Body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(want, m.Body) {
		t.Errorf("the batch differs from %s (go test -update rewrites it): %v", golden, err)
	}
}
