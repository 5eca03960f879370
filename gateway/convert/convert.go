// Package convert is `multikanal convert`: a file read, validated and
// routed the way the daemon would, offline, without a store or a daemon,
// and every channel's rendering of its documents written to a folder.
// It uses the daemon's own parts (the readers, routing, the channels), so
// what it says is what the daemon would do, but for what only the daemon
// knows (the registry: no AutoGiro mandate is known offline).
package convert

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/validate"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/design"
	"github.com/multikanal/multikanal/gateway/intake"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/outbound"
)

// Converted is what `multikanal convert` found in one file: the offline
// run of detect, parse, validate and route, without a daemon or a store.
type Converted struct {
	File      string         `json:"file"`
	Format    string         `json:"format,omitempty"`
	Error     string         `json:"error,omitempty"` // the file as a whole is unreadable
	Valid     int            `json:"valid"`
	Rejected  int            `json:"rejected"`
	Documents []ConvertedDoc `json:"documents,omitempty"` // only when Convert is given no callback
}

// ConvertedDoc is one document of a converted file.
type ConvertedDoc struct {
	Index    int               `json:"index"`
	Source   string            `json:"source,omitempty"`
	Valid    bool              `json:"valid"`
	Error    string            `json:"error,omitempty"`
	Problems []formats.Problem `json:"problems,omitempty"`
	Channel  string            `json:"channel,omitempty"` // where it would go
	Route    []api.RouteStep   `json:"route,omitempty"`
	Invoice  *formats.Document `json:"invoice,omitempty"`
}

// ErrUnreadable marks a file that could not be read at all.
var ErrUnreadable = errors.New("unreadable input")

// Convert reads one file the way the daemon would for the tenant and says
// for every document whether it is valid and where it would go. With each
// set it streams: each document goes to each as it is read and none is
// kept, so memory stays flat however large the file; with each nil the
// documents are collected in the result.
func Convert(cfg *config.Config, tenantID, path string, each func(ConvertedDoc) error) (*Converted, error) {
	t := cfg.Tenant(tenantID)
	if t == nil {
		return nil, fmt.Errorf("tenant %q is not in the configuration", tenantID)
	}
	out := &Converted{File: path}
	if each == nil {
		each = func(cd ConvertedDoc) error { out.Documents = append(out.Documents, cd); return nil }
	}
	f, err := os.Open(path)
	if err != nil {
		out.Error = err.Error()
		return out, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		out.Error = fmt.Sprintf("%s is not a regular file", path)
		return out, fmt.Errorf("%w: %s", ErrUnreadable, out.Error)
	}
	head := make([]byte, formats.SniffSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		out.Error = err.Error()
		return out, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	reader, err := formats.Detect(head[:n], intake.Readers(cfg))
	if err != nil {
		out.Error = err.Error()
		return out, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	out.Format = reader.Name()
	all, err := deliver.Channels(cfg, nil)
	if err != nil {
		return nil, err
	}
	var channels route.ChannelList
	for _, ch := range all {
		channels = append(channels, route.Listed{Channel: ch, Descriptor: cfg.ChannelConfig(ch.Name()).Descriptor})
	}
	now := time.Now()
	readErr := reader.Read(formats.Input{Name: filepath.Base(path), R: f, Size: fi.Size()}, func(it formats.Item) error {
		cd := ConvertedDoc{Index: it.Index, Source: it.Source, Invoice: it.Doc}
		if it.Err != nil {
			cd.Error = it.Err.Error()
		} else {
			cd.Problems = validate.Document(it.Doc, route.ValidateOptions(*t, now))
			if errs := formats.Problems(cd.Problems).Errors(); len(errs) > 0 {
				cd.Error = errs.Error()
			} else if pay, err := route.PaymentFor(*t, it.Doc, nil, route.OfflineCollection(it.Doc)); err != nil {
				p := formats.Problem{}
				errors.As(err, &p)
				cd.Problems = append(cd.Problems, p)
				cd.Error = err.Error()
			} else {
				// The same decision the daemon makes, without its registry:
				// no mandate is known, so nothing is collected by direct
				// debit.
				it.Doc.Payment = &pay
				cd.Valid = true
				for _, s := range route.Decide(t.Priority, channels, outbound.NoRegistry{}, it.Doc) {
					cd.Route = append(cd.Route, api.RouteStep{Channel: s.Channel, Eligible: s.Eligible, Address: s.Address, Reason: s.Reason})
					if s.Eligible && cd.Channel == "" {
						cd.Channel = s.Channel
					}
				}
			}
		}
		if cd.Valid {
			out.Valid++
		} else {
			out.Rejected++
		}
		return each(cd)
	})
	if readErr != nil {
		out.Error = readErr.Error()
		if out.Valid+out.Rejected == 0 {
			return out, fmt.Errorf("%w: %v", ErrUnreadable, readErr)
		}
	}
	return out, nil
}

// Renderer writes every channel's rendering of documents into a folder, so
// an integrator can see what each receiver would get.
type Renderer struct {
	cfg      *config.Config
	dir      string
	tenant   config.Tenant
	biller   outbound.Biller
	channels []outbound.Channel
}

// NewRenderer prepares rendering into dir/<channel>/ for the tenant.
func NewRenderer(cfg *config.Config, tenantID, dir string) (*Renderer, error) {
	t := cfg.Tenant(tenantID)
	if t == nil {
		return nil, fmt.Errorf("tenant %q is not in the configuration", tenantID)
	}
	all, err := deliver.Channels(cfg, nil)
	if err != nil {
		return nil, err
	}
	return &Renderer{cfg: cfg, dir: dir, tenant: *t, biller: deliver.BillerOf(*t), channels: all}, nil
}

// Render writes one valid document on every channel that can address it.
// It returns the files written and, for each channel that could not render
// it, why.
func (r *Renderer) Render(file string, d ConvertedDoc) (written, skipped []string, err error) {
	if !d.Valid {
		return nil, nil, nil
	}
	for _, ch := range r.channels {
		key := fmt.Sprintf("%s-%d.%s", safeName(filepath.Base(file)), d.Index, ch.Name())
		// The address routing would use; a channel that cannot reach the
		// recipient usually cannot render for it either.
		e := ch.Eligible(d.Invoice, outbound.NoRegistry{})
		to := e.Address
		if col, ok := ch.(outbound.Collector); ok {
			// Collection: only what the payment decision collects, which
			// offline is nothing.
			pay := d.Invoice.HowToPay()
			if string(pay.Method) != ch.Name() {
				if d.Invoice.MandateReference() != "" && col.Payer(d.Invoice) != "" && strings.EqualFold(col.Terms().Currency, d.Invoice.Currency) {
					skipped = append(skipped, fmt.Sprintf("%s: %s: no withdrawal: %s", ch.Name(), d.Invoice.Label(), pay.Reason))
				}
				continue
			}
			to = pay.Payer
		}
		// Each channel renders in the tenant's design, as the daemon's
		// engine has it do just before the channel renders.
		d.Invoice.Letter = design.LetterOf(r.tenant, d.Invoice, ch.Name())
		var msg outbound.Message
		var rerr error
		switch cr := ch.(type) {
		case outbound.DocumentRenderer:
			msg, rerr = cr.Render(d.Invoice, to, key)
		case outbound.BatchRenderer:
			msg, rerr = cr.RenderBatch(outbound.Batch{Key: key, Created: time.Now(), Biller: r.biller, Items: []outbound.BatchItem{{Key: key, To: to, Doc: d.Invoice}}})
		}
		if rerr != nil {
			why := rerr.Error()
			if !e.OK {
				why = e.Reason
			}
			skipped = append(skipped, fmt.Sprintf("%s: %s: %s", ch.Name(), d.Invoice.Label(), why))
			continue
		}
		chDir := filepath.Join(r.dir, ch.Name())
		if err := os.MkdirAll(chDir, 0o755); err != nil {
			return written, skipped, err
		}
		p := filepath.Join(chDir, msg.Name)
		if err := os.WriteFile(p, msg.Body, 0o644); err != nil {
			return written, skipped, err
		}
		written = append(written, p)
	}
	page, err := r.page(file, d)
	return append(written, page...), skipped, err
}

// page writes the hosted invoice page the document's link would open,
// and its PDF beside it, into dir/page/, when the tenant sends links
// ([tenant.page] links): the page as the customer who got the invoice on
// its channel sees it (the first linked channel when routing chose
// another), so a template or a design can be previewed in a browser.
func (r *Renderer) page(file string, d ConvertedDoc) ([]string, error) {
	p := r.tenant.Page
	if p == nil || len(p.Links) == 0 || d.Invoice.Kind == formats.KindReminder {
		return nil, nil
	}
	channel := p.Links[0]
	if r.tenant.Linked(d.Channel) {
		channel = d.Channel
	}
	key := fmt.Sprintf("%s-%d", safeName(filepath.Base(file)), d.Index)
	dir := filepath.Join(r.dir, "page")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pdfBody, err := design.RenderPDF(r.cfg, r.tenant, d.Invoice, channel)
	if err != nil {
		return nil, fmt.Errorf("page of %s: %w", d.Invoice.Label(), err)
	}
	html, err := design.Preview(r.cfg, r.tenant, d.Invoice, channel, key+".pdf")
	if err != nil {
		return nil, fmt.Errorf("page of %s: %w", d.Invoice.Label(), err)
	}
	var written []string
	for _, f := range []struct {
		name string
		body []byte
	}{{key + ".pdf", pdfBody}, {key + ".html", html}} {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.body, 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// safeName keeps letters, digits, dot, dash and underscore of a file name.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
