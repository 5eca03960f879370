// Package paper is the paper channel, "print" in the configuration: per
// cut-off, a ZIP with one print-ready PDF per invoice (the address placed
// for a window envelope) and a manifest the print house's machines read,
// sent to the print house that prints, envelopes and posts them. (The
// package is not called print, which would shadow Go's builtin.)
package paper

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
	"github.com/multikanal/multikanal/outbound"
)

// Options configure the print channel.
type Options struct {
	// PDF renders an invoice; the gateway gives formats/pdf with the
	// invoice's own PDF preferred when it carries one.
	PDF func(*formats.Document) ([]byte, error)
	// Envelope is the envelope format the print house should use; default C5.
	Envelope string
	// Postage is the postage class; default "B" (ekonomibrev).
	Postage string
}

// Channel is the print channel.
type Channel struct {
	o Options
	// rendering lets one batch render at a time: a batch already draws its
	// letters on every core, and each holds its ZIP in memory, so batches
	// rendered side by side only add memory (four workers' 500-letter
	// batches were ~160 MB at once).
	rendering sync.Mutex
	zips      spare
}

// New returns the print channel.
func New(o Options) *Channel {
	if o.Envelope == "" {
		o.Envelope = "C5"
	}
	if o.Postage == "" {
		o.Postage = "B"
	}
	return &Channel{o: o, zips: spare{limit: maxSpare}}
}

// Name is "print".
func (*Channel) Name() string { return Name }

// Eligible whenever the buyer has a postal address: paper always works, but
// only with somewhere to send it.
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	if !doc.Buyer.Address.Postal() {
		return outbound.Eligibility{Reason: "no complete postal address for the buyer (street, postal code and city)"}
	}
	return outbound.Eligibility{OK: true, Address: strings.Join(addressBlock(doc), ", "), Reason: "postal address in the invoice"}
}

// addressBlock is the recipient block as it is printed in the window.
func addressBlock(doc *formats.Document) []string {
	a := doc.Buyer.Address
	block := []string{doc.Buyer.DisplayName(), a.Street}
	if a.Additional != "" {
		block = append(block, a.Additional)
	}
	if a.Line3 != "" {
		block = append(block, a.Line3)
	}
	block = append(block, strings.TrimSpace(a.PostalCode+" "+a.City))
	if a.Country != "" && a.Country != "SE" {
		block = append(block, a.Country)
	}
	return block
}

// ManifestEntry is one letter in a print batch.
type ManifestEntry struct {
	Key     string   `json:"key"`
	File    string   `json:"file"`
	Invoice string   `json:"invoice"`
	Kind    string   `json:"kind"`
	Address []string `json:"address"`
	Country string   `json:"country"`
	Pages   int      `json:"pages"`
	// Inserts are the document's attachments (BG-24) printed after its
	// pages in the same envelope, in order; Pages counts them too.
	Inserts  []string `json:"inserts,omitempty"`
	Envelope string   `json:"envelope"`
	Postage  string   `json:"postage"`
}

// Manifest describes a print batch.
type Manifest struct {
	Batch   string          `json:"batch"`
	Biller  string          `json:"biller"`
	Created string          `json:"created"`
	Letters int             `json:"letters"`
	Pages   int             `json:"pages"`
	Items   []ManifestEntry `json:"items"`
}

// RenderBatch makes the ZIP: NNNN-<invoice>.pdf per letter in batch order,
// manifest.csv and manifest.json. The ZIP's bytes depend only on the batch,
// so a resend after a crash is the same file under the same name. The
// message's Release gives its body to the next batch to build in.
func (c *Channel) RenderBatch(b outbound.Batch) (outbound.Message, error) {
	if c.o.PDF == nil {
		return outbound.Message{}, errors.New("print: no PDF renderer configured")
	}
	c.rendering.Lock()
	defer c.rendering.Unlock()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// A fixed time keeps the archive byte-stable across resends.
	stamp := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if len(b.Items) > 0 && !b.Items[0].Doc.IssueDate.IsZero() {
		stamp = b.Items[0].Doc.IssueDate.Time()
	}
	m := Manifest{Batch: b.Key, Biller: b.Biller.ID, Created: stamp.Format("2006-01-02"), Letters: len(b.Items)}
	err := c.renderInOrder(b.Items, func(i int, body []byte) error {
		if i == 0 {
			// The letters of a batch are about the same size: room for
			// all of them now saves the copies of a doubling buffer, and
			// the buffer of a batch already sent saves new memory.
			buf = *bytes.NewBuffer(c.zips.take(64<<10 + len(b.Items)*(len(body)+len(body)/8+128)))
		}
		doc := b.Items[i].Doc
		name := fmt.Sprintf("%04d-%s.pdf", i+1, safe(doc.Number))
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: stamp})
		if err != nil {
			return err
		}
		if _, err := w.Write(body); err != nil {
			return err
		}
		pages := pdf.PageCount(body)
		inserts, more, err := addInserts(zw, doc, name, stamp)
		if err != nil {
			return err
		}
		pages += more
		m.Pages += pages
		m.Items = append(m.Items, ManifestEntry{Key: b.Items[i].Key, File: name, Invoice: doc.Number, Kind: string(doc.Kind),
			Address: addressBlock(doc), Country: orSE(doc.Buyer.Address.Country), Pages: pages, Inserts: inserts, Envelope: c.o.Envelope, Postage: c.o.Postage})
		return nil
	})
	if err != nil {
		return outbound.Message{}, err
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return outbound.Message{}, err
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: stamp})
	if err != nil {
		return outbound.Message{}, err
	}
	if _, err := w.Write(js); err != nil {
		return outbound.Message{}, err
	}
	if w, err = zw.CreateHeader(&zip.FileHeader{Name: "manifest.csv", Method: zip.Deflate, Modified: stamp}); err != nil {
		return outbound.Message{}, err
	}
	if err := writeCSV(w, m.Items); err != nil {
		return outbound.Message{}, err
	}
	if err := zw.Close(); err != nil {
		return outbound.Message{}, err
	}
	body := buf.Bytes()
	return outbound.Message{Key: b.Key, Name: b.Key + ".zip", ContentType: "application/zip", Body: body,
		Release: func() { c.zips.put(body) }}, nil
}

// writeCSV writes manifest.csv: one row per letter, the address in five
// columns with the postal code and city in the fifth.
func writeCSV(w io.Writer, items []ManifestEntry) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.Write([]string{"file", "invoice", "kind", "name", "address1", "address2", "address3", "postal_code_city", "country", "pages", "envelope", "postage", "key"})
	for _, e := range items {
		lines := append([]string{}, e.Address...)
		for len(lines) < 5 {
			lines = append(lines[:len(lines)-1], "", lines[len(lines)-1])
		}
		cw.Write([]string{e.File, e.Invoice, e.Kind, lines[0], lines[1], lines[2], lines[3], lines[4], e.Country,
			fmt.Sprint(e.Pages), e.Envelope, e.Postage, e.Key})
	}
	cw.Flush()
	return cw.Error()
}

// renderInOrder draws the batch's letters on every core and hands each
// PDF to add in batch order as soon as it and all before it are drawn. At
// most two letters per core are drawn ahead of add, so a batch holds its
// ZIP and a few letters, not every letter twice. After an error no more
// letters are drawn; the first error is returned.
func (c *Channel) renderInOrder(items []outbound.BatchItem, add func(i int, pdf []byte) error) error {
	type result struct {
		pdf []byte
		err error
	}
	workers := min(runtime.GOMAXPROCS(0), len(items))
	window := make(chan struct{}, 2*workers)
	results := make([]chan result, len(items))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	next := make(chan int)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				p, err := c.o.PDF(items[i].Doc)
				if err != nil {
					err = fmt.Errorf("print: %s: %w", items[i].Doc.Label(), err)
				}
				results[i] <- result{p, err}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range items {
			select {
			case window <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case next <- i:
			case <-stop:
				return
			}
		}
	}()
	var err error
	for i := range items {
		r := <-results[i]
		<-window
		if err = r.err; err == nil {
			err = add(i, r.pdf)
		}
		if err != nil {
			break
		}
	}
	close(stop)
	wg.Wait()
	return err
}

func orSE(c string) string {
	if c == "" {
		return "SE"
	}
	return c
}

// safe keeps a file name to letters, digits, dot, dash and underscore.
func safe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "utan-nummer"
	}
	return string(b)
}
