package email_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound/email"
)

// Messages rendered into the buffers of released ones are the messages a
// channel that never reuses gives, byte for byte: short after long, long
// after short, and with a released body overwritten afterwards by the next
// message rather than changing a message still held.
func TestReleasedBodiesAreReusedSafely(t *testing.T) {
	pdfs := [][]byte{bytes.Repeat([]byte("%PDF-1.7 long "), 4000), []byte("%PDF-1.7 short"), bytes.Repeat([]byte("%PDF-1.7 mid "), 900)}
	opts := func() email.Options {
		return email.Options{From: "Faktura <faktura@acme.example>", PDF: func(d *formats.Document) ([]byte, error) {
			var i int
			fmt.Sscanf(d.Number, "2026-%d", &i)
			return pdfs[i%len(pdfs)], nil
		}}
	}
	reusing, fresh := channel(t, opts()), channel(t, opts())
	var held []byte // a body not released: must never change
	var heldCopy []byte
	for i := range 12 {
		d := invoice()
		d.Number = fmt.Sprintf("2026-%04d", i)
		m, err := reusing.Render(d, "orjan@example.se", fmt.Sprintf("F0000001-%07d", i))
		if err != nil {
			t.Fatal(err)
		}
		if m.Release == nil {
			t.Fatal("the e-mail channel's message has no Release")
		}
		want, err := fresh.Render(d, "orjan@example.se", fmt.Sprintf("F0000001-%07d", i))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Body, want.Body) {
			t.Fatalf("message %d in a reused buffer differs from a fresh rendering", i)
		}
		if i == 4 {
			held, heldCopy = m.Body, bytes.Clone(m.Body)
			continue
		}
		m.Release()
	}
	if !bytes.Equal(held, heldCopy) {
		t.Error("a message that was not released was overwritten by later ones")
	}
}
