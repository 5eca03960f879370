package kivra

import (
	"math/rand/v2"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// BenchmarkRender renders a payable invoice with a PDF of 52 KB (70 KB as
// base64, the size the daemon's invoices have), already drawn: what it
// measures is the request body around the PDF, most of it the PDF's base64.
func BenchmarkRender(b *testing.B) {
	pdf := make([]byte, 52<<10)
	rnd := rand.NewChaCha8([32]byte{})
	rnd.Read(pdf) // a drawn PDF is compressed: bytes of every value
	c := New(Options{PDF: func(*formats.Document) ([]byte, error) { return pdf, nil }})
	d := invoice()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Render(d, "191212121212", "F0000001-0000001.kivra"); err != nil {
			b.Fatal(err)
		}
	}
}
