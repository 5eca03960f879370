package paper

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// BenchmarkRenderBatch assembles a batch of 500 letters (print's default
// max_count) of 40 KB each, a ZIP of 20 MB as the daemon's are. The letters
// are drawn once beforehand and each handed over as a copy of its own, as
// the renderer's are: what it measures is the batch around them. Each
// message is released once "sent", as the engine does on a transport done
// with the body when its Send returns (the spool). "alone"
// renders batch after batch; "busy" has the heap churn between two
// batches as the daemon's does, its other channels allocating ~100 MB
// while the next 500 print letters come in (the churn is not timed).
func BenchmarkRenderBatch(b *testing.B) {
	body := make([]byte, 40<<10)
	rnd := rand.NewChaCha8([32]byte{})
	rnd.Read(body) // compressed streams: bytes of every value
	copy(body, "%PDF-1.7\n1 0 obj <</Type /Page>> endobj\n")
	copy(body[len(body)-6:], "%%EOF\n")
	batch := letters(500)
	for _, churn := range []struct {
		name string
		n    int
	}{{"alone", 0}, {"busy", 1500}} {
		b.Run(churn.name, func(b *testing.B) {
			c := New(Options{PDF: func(*formats.Document) ([]byte, error) { return bytes.Clone(body), nil }})
			b.ReportAllocs()
			for b.Loop() {
				m, err := c.RenderBatch(batch)
				if err != nil {
					b.Fatal(err)
				}
				if m.Release != nil {
					m.Release() // sent, as the engine does on the spool
				}
				b.StopTimer()
				for range churn.n {
					sink = make([]byte, 64<<10)
				}
				b.StartTimer()
			}
		})
	}
}

var sink []byte
