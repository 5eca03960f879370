package email_test

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound/email"
)

// A PDF written into the message as it is rendered (WritePDF), with the
// base64 of what PDFs and logos repeat kept and copied, gives the message
// the PDF as bytes gives: for PDFs that start alike and differ after, for
// several billers in turn, a long logo, and from several goroutines.
func TestStreamedPDFAsBytes(t *testing.T) {
	head := func(biller, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*31 + biller*7 + i>>9)
		}
		return b
	}
	heads := [][]byte{head(1, 30_011), head(2, 57*400), head(3, 4_000)}
	tail := func(i int) []byte { return []byte(fmt.Sprintf("%d %s", i, bytes.Repeat([]byte{byte(i)}, i%150))) }
	logo := head(9, 7_000)
	type biller struct{ head, logo []byte }
	docFor := func(i int) (*formats.Document, []byte) {
		d := invoice()
		d.Number = fmt.Sprintf("2026-%04d", i)
		d.Letter = &formats.Letter{Tenant: "acme", Language: "sv", Attach: true, Link: "https://faktura.acme.example/i/x",
			Look: &formats.Look{LogoPNG: logo, Colour: "#0B5CAD"}}
		h := heads[i%len(heads)]
		return d, append(bytes.Clone(h), tail(i)...)
	}
	pdfOf := map[string][]byte{}
	var mu sync.Mutex
	streamed := channel(t, email.Options{From: "Acme <faktura@acme.example>", WritePDF: func(w io.Writer, d *formats.Document) error {
		mu.Lock()
		p := pdfOf[d.Number]
		mu.Unlock()
		h := len(heads[0])
		for _, hh := range heads {
			if bytes.HasPrefix(p, hh) {
				h = len(hh)
			}
		}
		// As the renderer writes: the biller's start, then the rest.
		if _, err := w.Write(p[:h]); err != nil {
			return err
		}
		_, err := w.Write(p[h:])
		return err
	}})
	plain := channel(t, email.Options{From: "Acme <faktura@acme.example>", PDF: func(d *formats.Document) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		return pdfOf[d.Number], nil
	}})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < 60; i += 4 {
				d, pdf := docFor(i)
				mu.Lock()
				pdfOf[d.Number] = pdf
				mu.Unlock()
				want, err := plain.Render(d, "orjan@example.se", "K"+d.Number)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := streamed.Render(d, "orjan@example.se", "K"+d.Number)
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got.Body, want.Body) {
					t.Errorf("message %d: the streamed PDF's message differs from the one with the PDF as bytes", i)
				}
			}
		})
	}
	wg.Wait()
}
