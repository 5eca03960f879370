package pdf

import "github.com/multikanal/multikanal/formats"

// Extras are the attachments (BG-24) that travel beside the document's
// PDF: every embedded one but the PDF that Attached takes as the
// document's own rendering. The e-mail attaches them, Kivra adds them as
// parts, print puts them in the envelope after the document's pages. An
// attachment only referenced by URI (BT-124) has no bytes to carry.
func Extras(doc *formats.Document) []formats.Attachment {
	own, ok := Attached(doc)
	var out []formats.Attachment
	for _, a := range doc.Attachments {
		if len(a.Data) == 0 || ok && len(own) > 0 && &a.Data[0] == &own[0] {
			continue
		}
		out = append(out, a)
	}
	return out
}

// ExtraName is the file name an attachment travels under: its own, or
// one made of its id and what its media type says it is.
func ExtraName(a formats.Attachment, i int) string {
	name := a.Filename
	if name == "" {
		name = a.ID
	}
	safe := []rune{}
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			safe = append(safe, r)
		} else {
			safe = append(safe, '_')
		}
	}
	if len(safe) == 0 {
		safe = []rune("bilaga-" + itoa(i+1))
	}
	return string(safe)
}
