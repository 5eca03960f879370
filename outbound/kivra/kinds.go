package kivra

import (
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
)

// kindNames are the PDF's file name prefix and the subject's word for a
// kind: "faktura", "Faktura"; "paminnelse", "Påminnelse".
func kindNames(k formats.Kind) (file, subject string) {
	subject = k.Swedish()
	file = strings.NewReplacer("å", "a", "ä", "a", "ö", "o").Replace(strings.ToLower(subject))
	return file, subject
}

// extraParts are the document's attachments (BG-24) as parts of the
// content beside its PDF: Kivra shows every part to the recipient.
func extraParts(doc *formats.Document) []part {
	var out []part
	for i, a := range pdf.Extras(doc) {
		ct := a.MimeCode
		if ct == "" {
			ct = "application/octet-stream"
		}
		out = append(out, part{Name: pdf.ExtraName(a, i), Data: a.Data, ContentType: ct})
	}
	return out
}
