package email_test

import (
	"os"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
	"github.com/multikanal/multikanal/outbound/email"
)

// BenchmarkRender renders the commonest consumer e-mail as the daemon
// does: the demo's design (text and HTML, the logo inline, the page's link)
// with the invoice PDF, drawn in the same design with its Swish QR code,
// attached: "streamed" as the daemon does (the PDF encoded into the
// message as it is drawn), "with-pdf" with the PDF drawn into a buffer
// first, "message" without the PDF's drawing (the PDF rendered once), so
// they show apart what each costs.
func BenchmarkRender(b *testing.B) {
	logo, err := os.ReadFile("../../config/demo/demo-logo.png")
	if err != nil {
		b.Fatal(err)
	}
	look := &formats.Look{LogoPNG: logo, Colour: "#0B5CAD", Phone: "08-123 456 78", Email: "kundservice@demo.example",
		Web: "https://demo.example", Footer: "Demo AB · Exempelgatan 1, 111 22 Stockholm · Godkänd för F-skatt"}
	r, err := pdf.NewRenderer(pdf.Options{Look: look, SwishPayee: "1231181189"})
	if err != nil {
		b.Fatal(err)
	}
	d := invoice()
	d.Lines = []formats.Line{
		{ID: "1", Quantity: "1200", Unit: "KWH", NetAmount: 148800, Item: formats.LineItem{Name: "Elhandel, rörligt pris", VATCategory: "S", VATRate: "25"}, Price: formats.Price{Amount: "1.24"}},
		{ID: "2", Quantity: "1", Unit: "C62", NetAmount: 3920, Item: formats.LineItem{Name: "Månadsavgift", VATCategory: "S", VATRate: "25"}, Price: formats.Price{Amount: "39.20"}},
	}
	d.Letter = &formats.Letter{Tenant: "demo", Language: "sv", Attach: true, Look: look,
		Message: "Betala enkelt med Swish: skanna koden på fakturan med Swish-appen.",
		Link:    "https://demo.example/i/F0000001-0000001.email/20260501/c2lnbmF0dXJlLXRoYXQtaXMtbG9uZy1lbm91Z2g"}
	render := func(doc *formats.Document) ([]byte, error) {
		var buf []byte
		w := sliceWriter{&buf}
		err := r.Render(w, doc)
		return buf, err
	}
	once, err := render(d)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		o    email.Options
	}{
		{"streamed", email.Options{WritePDF: r.Render}},
		{"with-pdf", email.Options{PDF: render}},
		{"message", email.Options{PDF: func(*formats.Document) ([]byte, error) { return once, nil }}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := email.New(bc.o)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				m, err := c.Render(d, "kund@example.se", "F0000001-0000001.email")
				if err != nil {
					b.Fatal(err)
				}
				size = len(m.Body)
			}
			b.ReportMetric(float64(size), "bytes/msg")
		})
	}
}

type sliceWriter struct{ b *[]byte }

func (w sliceWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }
