package email

import (
	"strings"

	"github.com/emersion/go-message"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
)

// kindData fills the template fields that tell the kinds apart.
func kindData(d *TemplateData, doc *formats.Document) {
	d.Kind, d.KindEN = doc.Kind.Swedish(), doc.Kind.English()
	d.What, d.WhatEN = strings.ToLower(d.Kind), strings.ToLower(d.KindEN)
	d.The = definite[doc.Kind]
	if d.The == "" {
		d.The = "Fakturan"
	}
	if r := doc.Reminder; doc.Kind == formats.KindReminder && r != nil {
		d.Reminder, d.Reminds = true, r.Invoice
		if r.Fee > 0 {
			d.Fee = r.Fee.Swedish()
		}
		if r.Interest > 0 {
			d.Interest = r.Interest.Swedish()
		}
	}
	if doc.Kind.Correspondence() {
		d.Letter, d.Subject = true, doc.Subject
	}
}

// definite is each kind's name in its definite form, as a sentence
// starts with it.
var definite = map[formats.Kind]string{
	formats.KindInvoice: "Fakturan", formats.KindCreditNote: "Kreditnotan", formats.KindReminder: "Påminnelsen",
	formats.KindLetter: "Brevet", formats.KindStatement: "Kontoutdraget", formats.KindContract: "Avtalet", formats.KindNotice: "Meddelandet",
}

// filePrefix starts the attached PDF's name, in ASCII as every mail
// client and file system takes it: "faktura-", "paminnelse-", "brev-".
func filePrefix(k formats.Kind) string {
	r := strings.NewReplacer("å", "a", "ä", "a", "ö", "o")
	return r.Replace(strings.ToLower(k.Swedish())) + "-"
}

// extraNames are the file names of the attachments beside the PDF.
func extraNames(doc *formats.Document) []string {
	var out []string
	for i, a := range pdf.Extras(doc) {
		out = append(out, pdf.ExtraName(a, i))
	}
	return out
}

// writeExtras attaches the document's attachments (BG-24) beside its PDF.
func writeExtras(w *mimeWriter, doc *formats.Document) {
	for i, a := range pdf.Extras(doc) {
		name := pdf.ExtraName(a, i)
		mime := a.MimeCode
		if mime == "" {
			mime = "application/octet-stream"
		}
		var h message.Header
		h.Set("Content-Transfer-Encoding", "base64")
		h.SetContentDisposition("attachment", map[string]string{"filename": name})
		h.SetContentType(mime, map[string]string{"name": name})
		w.part(headerBytes(h))
		w.base64(a.Data)
	}
}
