package paper

import (
	"math/rand/v2"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// BenchmarkRenderBatch assembles a batch of 500 letters (print's default
// max_count) of 40 KB each, a ZIP of 20 MB as the daemon's are. The letters
// are drawn once beforehand: what it measures is the batch around them.
func BenchmarkRenderBatch(b *testing.B) {
	body := make([]byte, 40<<10)
	rnd := rand.NewChaCha8([32]byte{})
	rnd.Read(body) // compressed streams: bytes of every value
	copy(body, "%PDF-1.7\n1 0 obj <</Type /Page>> endobj\n")
	copy(body[len(body)-6:], "%%EOF\n")
	c := New(Options{PDF: func(*formats.Document) ([]byte, error) { return body, nil }})
	batch := letters(500)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.RenderBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
}
