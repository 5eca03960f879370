package design

import (
	"testing"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound/channels"
)

// The demo's letter: its look, the recipient's language when the input
// gives one, the segment's message for the channel, else the design's.
func TestLetterOf(t *testing.T) {
	demo := *config.Default(t.TempDir(), channels.All()).Tenant("demo")
	doc := &formats.Document{Totals: formats.Totals{Payable: formats.MustAmount("100.00")}}
	l := LetterOf(demo, doc, "email")
	if l.Tenant != "demo" || l.Language != "sv" || l.Segment != "" || l.Message != demo.Design.Message || len(l.Look.LogoPNG) == 0 {
		t.Errorf("e-mail letter: %+v", l)
	}
	l = LetterOf(demo, doc, "print")
	if l.Segment != "paper" || l.Message == demo.Design.Message {
		t.Errorf("paper letter: segment %q, message %q", l.Segment, l.Message)
	}
	doc.Language = "EN"
	if l = LetterOf(demo, doc, "print"); l.Language != "en" || l.Message != demo.Design.Segments[0].MessageEN {
		t.Errorf("English paper letter: %+v", l)
	}
	doc.Language = "de"
	if l = LetterOf(demo, doc, "print"); l.Language != "sv" {
		t.Errorf("a language the renderers do not speak: %q", l.Language)
	}
}
