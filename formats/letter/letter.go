// Package letter reads the letters an ERP sends through the gateway: a
// ZIP archive holding an index (index.csv) and the PDFs it names, one
// document per index row: a letter, an account statement, a contract or
// a notice (a price change, new terms), each the ERP's own PDF with the
// recipient's keys, a subject and the channels it may take.
// docs/formats/letters.md describes the format.
//
// It reads; it does not route (the gateway does, as for any document,
// with the tenant as the sender) and it does not draw PDFs.
package letter

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Format is the letters archive. Its zero value reads with the current
// time deciding a 10-digit personnummer's century.
type Format struct {
	// Channels are the channel names the channels column may use; nil
	// takes any name (routing refuses an unknown one).
	Channels []string
	// Now decides the century of a 10-digit personnummer; nil for
	// time.Now.
	Now func() time.Time
}

var _ formats.Reader = Format{}

// Name is "letters".
func (Format) Name() string { return "letters" }

// IndexName is the index's name at the archive's root.
const IndexName = "index.csv"

// Limits: a letter's PDF, and all of an archive's.
const (
	MaxPDF   = 20 << 20
	MaxTotal = 1 << 30
	MaxRows  = 100_000
)

// Sniff recognises a ZIP archive whose first entry is the index or a PDF:
// a Peppol ZIP starts with XML. (Only the first entry's local header is
// in the first bytes; the central directory is at the end.)
func (Format) Sniff(head []byte) bool {
	if len(head) < 30 || !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return false
	}
	n := int(head[26]) | int(head[27])<<8
	if 30+n > len(head) {
		return false
	}
	name := strings.ToLower(string(head[30 : 30+n]))
	return name == IndexName || strings.HasSuffix(name, ".pdf")
}

// Columns are the index's columns; file and subject are required.
var Columns = []string{
	"file", "kind", "subject", "number", "date", "language", "customer_group", "channels", "attachments",
	"name", "customer_number", "personal_id", "orgnr", "peppol_id", "email", "mobile",
	"street", "additional", "postal_code", "city", "country",
}

// Read emits one item per index row, in order, then one skipped item per
// PDF of the archive no row names.
func (f Format) Read(in formats.Input, emit func(formats.Item) error) error {
	zr, err := zip.NewReader(in.R, in.Size)
	if err != nil {
		return fmt.Errorf("letters: the ZIP archive cannot be read (%w); check that the upload was complete", err)
	}
	entries := map[string]*zip.File{}
	var index *zip.File
	for _, e := range zr.File {
		name := path.Clean(strings.ReplaceAll(e.Name, "\\", "/"))
		if strings.EqualFold(name, IndexName) {
			index = e
			continue
		}
		entries[name] = e
	}
	if index == nil {
		return fmt.Errorf("letters: the archive has no %s at its root: a letters archive holds %s and the PDFs it names (docs/formats/letters.md)", IndexName, IndexName)
	}
	rows, err := readIndex(index)
	if err != nil {
		return err
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	named := map[string]bool{}
	var total int64
	for i, row := range rows {
		it := formats.Item{Index: i, Source: fmt.Sprintf("%s line %d", IndexName, i+2)}
		it.Doc, it.Err = f.document(row, entries, named, &total, now())
		if it.Err != nil {
			it.Err = fmt.Errorf("%s: %w", it.Source, it.Err)
		} else {
			it.Doc.Source = it.Source
		}
		if err := emit(it); err != nil {
			return err
		}
	}
	var rest []string
	for name, e := range entries {
		if !named[name] && !e.FileInfo().IsDir() {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for i, name := range rest {
		err := fmt.Errorf("entry %s: %w: no row of %s names it", name, formats.ErrSkipped, IndexName)
		if e := emit(formats.Item{Index: len(rows) + i, Source: "entry " + name, Err: err}); e != nil {
			return e
		}
	}
	return nil
}

// readIndex reads the index: a header naming its columns, then one row
// per document; ';' or ',' between fields, UTF-8 (a byte order mark is
// passed over).
func readIndex(e *zip.File) ([]map[string]string, error) {
	rc, err := e.Open()
	if err != nil {
		return nil, fmt.Errorf("letters: %s: %w", IndexName, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("letters: %s: %w", IndexName, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	first, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = ';'
	if bytes.Count(first, []byte(",")) > bytes.Count(first, []byte(";")) {
		r.Comma = ','
	}
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("letters: %s: %w", IndexName, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("letters: %s holds no rows: write a header (file;subject;...) and one row per document", IndexName)
	}
	if len(recs)-1 > MaxRows {
		return nil, fmt.Errorf("letters: %s has %d rows, at most %d are read: split the archive", IndexName, len(recs)-1, MaxRows)
	}
	head := recs[0]
	for i, h := range head {
		head[i] = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(Columns, head[i]) {
			return nil, fmt.Errorf("letters: %s line 1: unknown column %q: the columns are %s", IndexName, h, strings.Join(Columns, ", "))
		}
	}
	for _, req := range []string{"file", "subject"} {
		if !slices.Contains(head, req) {
			return nil, fmt.Errorf("letters: %s line 1: the column %q is required", IndexName, req)
		}
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, v := range rec {
			if i < len(head) {
				row[head[i]] = strings.TrimSpace(v)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// document makes one row's document.
func (f Format) document(row map[string]string, entries map[string]*zip.File, named map[string]bool, total *int64, now time.Time) (*formats.Document, error) {
	kind := formats.KindLetter
	if v := row["kind"]; v != "" {
		k, ok := formats.ParseKind(v)
		if !ok || !k.Correspondence() {
			return nil, fmt.Errorf("kind %q: a letters archive sends letter, statement, contract or notice", v)
		}
		kind = k
	}
	if row["subject"] == "" {
		return nil, errors.New("subject is empty: every document needs one (the e-mail's and Kivra's subject)")
	}
	if row["name"] == "" {
		return nil, errors.New("name is empty: the recipient's name is printed on the envelope and shown in Kivra")
	}
	d := &formats.Document{Kind: kind, Subject: row["subject"], Number: row["number"], Language: row["language"], CustomerGroup: row["customer_group"]}
	if v := row["date"]; v != "" {
		date, err := formats.ParseDate(v)
		if err != nil {
			return nil, fmt.Errorf("date: %w", err)
		}
		d.IssueDate = date
	}
	b := &d.Buyer
	b.Name, b.CustomerNumber = row["name"], row["customer_number"]
	b.Contact = formats.Contact{Email: row["email"], Phone: row["mobile"]}
	b.Address = formats.Address{Street: row["street"], Additional: row["additional"], PostalCode: row["postal_code"], City: row["city"],
		Country: strings.ToUpper(row["country"])}
	if b.Address.Country == "" && b.Address.Postal() {
		b.Address.Country = "SE"
	}
	if v := row["personal_id"]; v != "" {
		pnr, err := formats.CheckPersonnummer(v, now)
		if err != nil {
			return nil, fmt.Errorf("personal_id: %w", err)
		}
		b.PersonalID = pnr
	}
	if v := row["orgnr"]; v != "" {
		o, err := formats.CheckOrgnr(v)
		if err != nil {
			return nil, fmt.Errorf("orgnr: %w", err)
		}
		b.LegalID = formats.Identifier{Scheme: "0007", Value: o}
	}
	if v := row["peppol_id"]; v != "" {
		scheme, value, ok := strings.Cut(v, ":")
		if !ok {
			return nil, fmt.Errorf("peppol_id %q: write it as scheme:value, like 0007:5567432108", v)
		}
		b.Endpoint = formats.Identifier{Scheme: scheme, Value: value}
	}
	for _, c := range splitList(strings.ToLower(row["channels"])) {
		if f.Channels != nil && !slices.Contains(f.Channels, c) {
			return nil, fmt.Errorf("channels: unknown channel %q: the channels are %s", c, strings.Join(f.Channels, ", "))
		}
		d.Channels = append(d.Channels, c)
	}
	files := append([]string{row["file"]}, splitList(row["attachments"])...)
	for i, name := range files {
		a, err := attachment(name, entries, total, i == 0)
		if err != nil {
			return nil, err
		}
		named[path.Clean(name)] = true
		d.Attachments = append(d.Attachments, a)
	}
	if d.Number == "" {
		d.Number = strings.TrimSuffix(path.Base(row["file"]), path.Ext(row["file"]))
	}
	d.Attachments[0].ID = d.Number
	return d, nil
}

// attachment reads a file of the archive a row names; the first (the
// document itself) must be a PDF.
func attachment(name string, entries map[string]*zip.File, total *int64, main bool) (formats.Attachment, error) {
	clean := path.Clean(strings.ReplaceAll(name, "\\", "/"))
	e, ok := entries[clean]
	switch {
	case name == "" && main:
		return formats.Attachment{}, errors.New("file is empty: name the PDF in the archive that is the document")
	case !ok:
		return formats.Attachment{}, fmt.Errorf("%q is not in the archive: name a file the archive holds, with its folder", name)
	case e.UncompressedSize64 > MaxPDF:
		return formats.Attachment{}, fmt.Errorf("%s: %d bytes, more than the %d a document or attachment may have", name, e.UncompressedSize64, MaxPDF)
	}
	rc, err := e.Open()
	if err != nil {
		return formats.Attachment{}, fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxPDF+1))
	if err != nil {
		return formats.Attachment{}, fmt.Errorf("%s: %w", name, err)
	}
	if *total += int64(len(data)); *total > MaxTotal {
		return formats.Attachment{}, fmt.Errorf("%s: the archive's files add up to more than %d bytes: split it", name, MaxTotal)
	}
	mime := mimeOf(clean, data)
	if main && mime != "application/pdf" {
		return formats.Attachment{}, fmt.Errorf("%s: %s, not a PDF: the document is the ERP's PDF", name, formats.Describe(data[:min(len(data), formats.SniffSize)]))
	}
	return formats.Attachment{Filename: path.Base(clean), MimeCode: mime, Data: data}, nil
}

// mimeOf says what an attached file is, by its bytes, else its name.
func mimeOf(name string, data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		return "image/png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case strings.HasSuffix(strings.ToLower(name), ".csv"):
		return "text/csv"
	case strings.HasSuffix(strings.ToLower(name), ".txt"):
		return "text/plain"
	}
	return "application/octet-stream"
}

// splitList reads "a|b" or "a,b".
func splitList(s string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ',' }) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
