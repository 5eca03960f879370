package design

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/store"
	"rsc.io/qr"
)

// Store is what the pages read (the delivery a link names, its document
// and body) and write (that the page was opened).
type Store interface {
	View(fn func(store.Tx) error) error
	Update(fn func(store.Tx) error) error
}

// Pages renders the hosted invoice pages (the public listener checks the
// signed link before it asks) and records the first visit of each as
// "opened" in the document's history and on its delivery.
type Pages struct {
	Store  Store
	Config func() *config.Config
	Tenant func(id string) (config.Tenant, bool)
	// Touch tells the receipt writer that a file's receipt changed.
	Touch func(fileID string)
	Log   *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu     sync.Mutex
	pdfFor *config.Config
	pdf    func(*formats.Document) ([]byte, error)
}

// errGone marks a delivery whose invoice the gateway no longer holds.
var errGone = errors.New("the invoice is no longer kept")

// ServePage answers a page or its PDF (httpapi.Pages).
func (p *Pages) ServePage(w http.ResponseWriter, r *http.Request, id string, asPDF bool) {
	dl, doc, body, err := p.load(id)
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, errGone):
		http.Error(w, "Fakturan finns inte längre här. / The invoice is no longer available here.", http.StatusGone)
		return
	case err != nil:
		p.Log.Error("invoice page", "delivery", id, "err", err)
		http.Error(w, "Sidan kan inte visas just nu. / The page cannot be shown right now.", http.StatusServiceUnavailable)
		return
	}
	t, ok := p.Tenant(dl.Tenant)
	if !ok {
		http.Error(w, "Fakturan finns inte längre här. / The invoice is no longer available here.", http.StatusGone)
		return
	}
	body.Letter = LetterOf(t, body, dl.Channel)
	if lang := r.URL.Query().Get("lang"); slices.Contains(formats.Languages, lang) {
		body.Letter.Language = lang
	}
	if asPDF {
		b, err := p.render(body)
		if err != nil {
			p.Log.Error("invoice page: PDF", "delivery", id, "err", err)
			http.Error(w, "PDF:en kan inte visas just nu. / The PDF cannot be shown right now.", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `inline; filename="`+fileName(body)+`"`)
		w.Write(b)
		return
	}
	if r.Method == http.MethodGet {
		p.opened(dl, doc)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p.view(t, dl, body, pdfPath(r))); err != nil {
		p.Log.Error("invoice page: template", "delivery", id, "err", err)
		http.Error(w, "Sidan kan inte visas just nu. / The page cannot be shown right now.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (p *Pages) load(id string) (dl *store.Delivery, doc *store.Doc, body *formats.Document, err error) {
	err = p.Store.View(func(tx store.Tx) error {
		if dl, err = tx.Delivery(id); err != nil {
			return err
		}
		if dl.Collection {
			return store.ErrNotFound
		}
		if doc, err = tx.Doc(dl.DocID); err != nil {
			return err
		}
		body, err = tx.Body(dl.DocID)
		if errors.Is(err, store.ErrNotFound) {
			return errGone // retention removed it
		}
		return err
	})
	return dl, doc, body, err
}

// opened records the first visit: the delivery's Opened time and an event
// in the document's history, which `docs show` and the receipt show.
func (p *Pages) opened(seen *store.Delivery, doc *store.Doc) {
	if !seen.Opened.IsZero() {
		return
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	at := now().UTC()
	var fileID string
	err := p.Store.Update(func(tx store.Tx) error {
		fileID = ""
		dl, err := tx.Delivery(seen.ID)
		if err != nil || !dl.Opened.IsZero() {
			return err
		}
		d, err := tx.Doc(dl.DocID)
		if err != nil {
			return err
		}
		dl.Opened = at
		if err := tx.PutDelivery(dl); err != nil {
			return err
		}
		if err := tx.AppendEvent(d, store.Event{At: at, State: d.State, Channel: dl.Channel, Reason: "opened: the recipient opened the invoice page"}); err != nil {
			return err
		}
		fileID = d.FileID
		if d.Opened.IsZero() {
			d.Opened = at
		}
		return tx.PutDoc(d)
	})
	if err != nil {
		p.Log.Error("invoice page: recording the visit", "delivery", seen.ID, "err", err)
		return
	}
	if fileID != "" && p.Touch != nil {
		p.Touch(fileID)
	}
}

// render draws the invoice PDF in the tenant's design, with the renderers
// of the configuration in force (made again after a reload).
func (p *Pages) render(doc *formats.Document) ([]byte, error) {
	cfg := p.Config()
	p.mu.Lock()
	if p.pdfFor != cfg {
		src, err := deliver.PDFSource(cfg)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.pdf, p.pdfFor = src, cfg
	}
	render := p.pdf
	p.mu.Unlock()
	return render(doc)
}

func fileName(d *formats.Document) string {
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, d.Number)
	if d.Kind == formats.KindCreditNote {
		return "kreditnota-" + n + ".pdf"
	}
	return "faktura-" + n + ".pdf"
}

// swishAppLink is the link that opens the Swish app on a phone with the
// payment prefilled, as the QR code does on a desktop: Swish's
// swish://payment URL with the prefilled data (payee, amount, message;
// none editable), from Swish's QR code specification.
func swishAppLink(pay formats.Payment, doc *formats.Document) string {
	type field struct {
		Value    any  `json:"value"`
		Editable bool `json:"editable"`
	}
	data, _ := json.Marshal(struct {
		Version int   `json:"version"`
		Payee   field `json:"payee"`
		Amount  field `json:"amount"`
		Message field `json:"message"`
	}{1, field{Value: formats.OnlyDigits(pay.Swish)}, field{Value: json.Number(doc.Totals.Payable.String())}, field{Value: swishMessage(pay, doc)}})
	return "swish://payment?data=" + url.QueryEscape(string(data))
}

func swishMessage(pay formats.Payment, doc *formats.Document) string {
	if pay.Reference != "" {
		return pay.Reference
	}
	return doc.Number
}

// qrImage is the code as an SVG image in a data URI: the page loads
// nothing from anywhere else (its policy allows data: images only).
func qrImage(payload string) (string, error) {
	c, err := qr.Encode(payload, qr.M)
	if err != nil {
		return "", err
	}
	const quiet = 4
	n := c.Size + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n, n, n)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(b.String())), nil
}

// offers are the invitations to the other ways the tenant sends by:
// each channel of its priority list that says one (outbound.Descriptor
// Offer) and was not the one used, and each collection channel the tenant
// has an agreement with (AutoGiro, say) where the invoice is not already
// withdrawn by it.
func (p *Pages) offers(t config.Tenant, sentOn, lang string, pay formats.Payment) []string {
	var out []string
	cfg := p.Config()
	for _, name := range t.Priority {
		cc := cfg.ChannelConfig(name)
		if cc == nil || name == sentOn || cc.Descriptor.Offer[lang] == "" {
			continue
		}
		out = append(out, strings.ReplaceAll(cc.Descriptor.Offer[lang], "%s", t.Name))
	}
	// The collection channels the tenant has an agreement with offer
	// themselves too, unless this invoice is already collected by one.
	agreed := make([]string, 0, len(t.Agreements))
	for name := range t.Agreements {
		agreed = append(agreed, name)
	}
	slices.Sort(agreed)
	for _, name := range agreed {
		cc := cfg.ChannelConfig(name)
		if cc == nil || string(pay.Method) == name || cc.Descriptor.Offer[lang] == "" {
			continue
		}
		out = append(out, strings.ReplaceAll(cc.Descriptor.Offer[lang], "%s", t.Name))
	}
	return out
}

// pdfPath is the page's PDF, relative to the page.
func pdfPath(r *http.Request) string {
	parts := strings.Split(strings.TrimSuffix(r.URL.EscapedPath(), "/"), "/")
	return parts[len(parts)-1] + "/faktura.pdf"
}
