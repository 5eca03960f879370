package kivra

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// An invoice's attachments (BG-24) are parts of the content beside its
// PDF; a letter goes as Kivra's letter with the ERP's subject; a reminder
// as a payable invoice. On the old code the attachments stayed behind and
// a letter was called an invoice.
func TestKindsAndAttachments(t *testing.T) {
	doc := invoice()
	// The invoice's own PDF (its rendering, as the gateway's PDF source
	// takes it) and a time sheet.
	doc.Attachments = []formats.Attachment{{ID: doc.Number, MimeCode: "application/pdf", Data: []byte(minimalPDF)},
		{ID: "ts", MimeCode: "application/pdf", Filename: "tidrapport.pdf", Data: []byte("%PDF-1.4 ts")}}
	m, err := New(Options{PDF: fakePDF}).Render(doc, "191212121212", "K1")
	if err != nil {
		t.Fatal(err)
	}
	var c content
	json.Unmarshal(m.Body, &c)
	if len(c.Parts) != 2 || c.Parts[1].Name != "tidrapport.pdf" || string(c.Parts[1].Data) != "%PDF-1.4 ts" ||
		!bytes.Contains(m.Body, []byte(`"data":"`+base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 ts"))+`"`)) {
		t.Errorf("parts: %+v", c.Parts)
	}
	letter := &formats.Document{Kind: formats.KindLetter, Number: "B-1", Subject: "Välkommen", Buyer: formats.Party{Name: "T", PersonalID: "191212121212"}}
	m, err = New(Options{PDF: fakePDF}).Render(letter, "191212121212", "K2")
	if err != nil {
		t.Fatal(err)
	}
	c = content{}
	json.Unmarshal(m.Body, &c)
	if c.Type != "letter" || c.Subject != "Välkommen" || c.Payment != nil || c.Parts[0].Name != "brev-B-1.pdf" {
		t.Errorf("letter: %+v", c)
	}
	rem := invoice()
	rem.Kind, rem.Number = formats.KindReminder, "2018210-P1"
	m, err = New(Options{PDF: fakePDF}).Render(rem, "191212121212", "K3")
	if err != nil {
		t.Fatal(err)
	}
	c = content{}
	json.Unmarshal(m.Body, &c)
	if c.Type != "invoice" || c.Subject != "Påminnelse 2018210-P1" || c.Payment == nil || !c.Payment.Payable {
		t.Errorf("reminder: %+v", c)
	}
}
