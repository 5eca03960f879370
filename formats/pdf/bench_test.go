package pdf

import (
	"bytes"
	"io"
	"syscall"
	"testing"
	"time"

	bqr "github.com/boombuler/barcode/qr"
	skip2 "github.com/skip2/go-qrcode"
	"rsc.io/qr"

	"github.com/multikanal/multikanal/formats"
)

// benchRender renders an invoice with a Swish QR code and reports pages
// per second. With 10 lines it is the one-page case BOUNDS.md measured.
func benchRender(b *testing.B, opt Options, d *formats.Document) {
	r, err := NewRenderer(opt)
	if err != nil {
		b.Fatal(err)
	}
	var first bytes.Buffer
	if err := r.Render(&first, d); err != nil {
		b.Fatal(err)
	}
	perDoc := PageCount(first.Bytes())
	pages := 0
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var cw countWriter
		if err := r.Render(&cw, d); err != nil {
			b.Fatal(err)
		}
		pages += perDoc
	}
	// The machines this runs on are shared: pages per CPU second (all
	// threads, GC included) is the figure that does not depend on the load.
	b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
	b.ReportMetric(float64(pages)/(cpuTime()-cpu0).Seconds(), "pages/cpu-s")
	b.ReportMetric(float64(first.Len()), "bytes/pdf")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

func BenchmarkRender(b *testing.B) {
	swish := Options{SwishPayee: "1234567890"}
	b.Run("1page", func(b *testing.B) { benchRender(b, swish, swedishInvoice(10)) })
	b.Run("2pages", func(b *testing.B) { benchRender(b, swish, swedishInvoice(40)) })
	b.Run("1page-logo", func(b *testing.B) {
		benchRender(b, Options{SwishPayee: "1234567890", Logo: testLogo()}, swedishInvoice(10))
	})
	// A paper invoice with its page's link: two QR codes on one page.
	link := swedishInvoice(8)
	link.Letter = &formats.Letter{Language: "sv", Link: "https://faktura.demo.example/i/F0000001-0000001.print/tb8qqo/Xc2k7vQ4p1Lr9sZbW3yT0g"}
	b.Run("1page-link", func(b *testing.B) { benchRender(b, swish, link) })
}

// BenchmarkNewRenderer is the cost of a Renderer once the process has made
// the font subsets: the logo.
func BenchmarkNewRenderer(b *testing.B) {
	logo := testLogo()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := NewRenderer(Options{Logo: logo}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFontSubsets is the one-off cost per process of subsetting and
// compressing the two faces.
func BenchmarkFontSubsets(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := buildFontSet("go"); err != nil {
			b.Fatal(err)
		}
	}
}

const benchPayload = "C1234567890;89908,62;12345678903;0"

func BenchmarkQR(b *testing.B) {
	b.Run("rsc.io/qr", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := qr.Encode(benchPayload, qr.M); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("skip2/go-qrcode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			q, err := skip2.New(benchPayload, skip2.Medium)
			if err != nil {
				b.Fatal(err)
			}
			q.DisableBorder = true
			_ = q.Bitmap()
		}
	})
	b.Run("boombuler/barcode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c, err := bqr.Encode(benchPayload, bqr.M, bqr.Auto)
			if err != nil {
				b.Fatal(err)
			}
			n := c.Bounds().Dx()
			for y := 0; y < n; y++ {
				for x := 0; x < n; x++ {
					_ = c.At(x, y)
				}
			}
		}
	})
}
