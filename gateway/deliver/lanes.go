package deliver

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"sync/atomic"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
	"github.com/multikanal/multikanal/outbound"
)

// CallbackURL returns the URL a receiver is to post its callback of kind
// (a channel name) about the delivery id to, or "" when the daemon takes
// no callbacks (the public listener is off, or the command runs offline).
type CallbackURL func(kind, id string) string

// Channels makes the registered channels (outbound/channels, handed to
// the configuration) from their configuration, in their order; a channel
// the configuration switched off (config.Channel.Off) is not made.
func Channels(cfg *config.Config, callback CallbackURL) ([]outbound.Channel, error) {
	pdfs, err := pdfSources(cfg)
	if err != nil {
		return nil, err
	}
	var out []outbound.Channel
	for _, name := range cfg.ChannelNames() {
		cc := cfg.ChannelConfig(name)
		if cc.Off != "" {
			continue
		}
		env := outbound.Env{Settings: cc.Settings, PDF: pdfs.bytes, WritePDF: pdfs.write, Callback: callback.of(name)}
		for _, t := range cfg.Tenants {
			if a, ok := t.Agreements[name]; ok {
				if env.Agreements == nil {
					env.Agreements = map[string]any{}
				}
				env.Agreements[t.ID] = a
			}
		}
		ch, err := cc.Descriptor.New(env)
		if err != nil {
			return nil, fmt.Errorf("channel.%s: %w", name, err)
		}
		if ch.Name() != name {
			return nil, fmt.Errorf("channel %s: its New made a channel named %q", name, ch.Name())
		}
		out = append(out, ch)
	}
	return out, nil
}

// PDFSource is the invoice PDF every channel sends: the invoice's own PDF
// when it carries one (the biller's layout wins), otherwise our rendering
// in the design of the tenant the document's letter names (a plain one
// without). Each tenant's renderer prepares its logo once; all share the
// fonts, and all channels share the renderers.
func PDFSource(cfg *config.Config) (func(*formats.Document) ([]byte, error), error) {
	p, err := pdfSources(cfg)
	if err != nil {
		return nil, err
	}
	return p.bytes, nil
}

// pdfs are the tenants' PDF renderers.
type pdfs struct {
	plain    *pdf.Renderer
	byTenant map[string]*pdf.Renderer
}

func pdfSources(cfg *config.Config) (*pdfs, error) {
	plain, err := pdf.NewRenderer(pdf.Options{})
	if err != nil {
		return nil, fmt.Errorf("invoice PDF renderer: %w", err)
	}
	p := &pdfs{plain: plain, byTenant: map[string]*pdf.Renderer{}}
	for _, t := range cfg.Tenants {
		if t.Design == nil {
			continue
		}
		if p.byTenant[t.ID], err = pdf.NewRenderer(pdf.Options{Look: t.Look()}); err != nil {
			return nil, fmt.Errorf("tenant %s: invoice PDF renderer: %w", t.ID, err)
		}
	}
	return p, nil
}

// bytes is the PDFSource.
func (p *pdfs) bytes(doc *formats.Document) ([]byte, error) {
	if b, ok := pdf.Attached(doc); ok {
		return b, nil
	}
	var buf bytes.Buffer // Render grows it once to the PDF's size
	if err := p.renderer(doc).Render(&buf, doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// write writes the PDFSource's PDF to w (outbound.Env.WritePDF).
func (p *pdfs) write(w io.Writer, doc *formats.Document) error {
	if b, ok := pdf.Attached(doc); ok {
		_, err := w.Write(b)
		return err
	}
	return p.renderer(doc).Render(w, doc)
}

func (p *pdfs) renderer(doc *formats.Document) *pdf.Renderer {
	if doc.Letter != nil && p.byTenant[doc.Letter.Tenant] != nil {
		return p.byTenant[doc.Letter.Tenant]
	}
	return p.plain
}

// Lane is a channel with the transport its configuration chose. Its parts
// are replaced whole on a configuration reload; a send in flight keeps the
// parts it started with.
type Lane struct {
	name  string
	parts atomic.Pointer[Parts]
}

// Parts are what a lane sends with.
type Parts struct {
	Desc      outbound.Descriptor
	Channel   outbound.Channel
	Transport outbound.Transport
	Doc       outbound.DocumentRenderer // per-document channels
	Batch     outbound.BatchRenderer    // batch channels
	Config    config.Channel
}

// Get returns the lane's parts in force.
func (l *Lane) Get() *Parts { return l.parts.Load() }

// Set replaces the lane's parts whole.
func (l *Lane) Set(p *Parts) { l.parts.Store(p) }

// Lanes are the gateway's lanes by channel name. The set of channels is
// fixed at start; a reload replaces each lane's parts (Swap).
type Lanes map[string]*Lane

// NewLanes makes the lanes of parts (from BuildLanes).
func NewLanes(parts map[string]*Parts) Lanes {
	ls := Lanes{}
	for name, p := range parts {
		ls[name] = &Lane{name: name}
		ls[name].Set(p)
	}
	return ls
}

// Swap puts the parts of a reloaded configuration in the lanes that have
// them, and returns the channels that have none: a channel that was off
// at start gets its lane at the next start.
func (ls Lanes) Swap(parts map[string]*Parts) (unswapped []string) {
	for name, p := range parts {
		if l := ls[name]; l != nil {
			l.Set(p)
		} else {
			unswapped = append(unswapped, name)
		}
	}
	sort.Strings(unswapped)
	return unswapped
}

// Names are the channels that have a lane, by name.
func (ls Lanes) Names() []string {
	names := make([]string, 0, len(ls))
	for name := range ls {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Descriptor answers routing (route.Channels): what the lane's channel
// says about itself.
func (ls Lanes) Descriptor(name string) (outbound.Descriptor, bool) {
	l := ls[name]
	if l == nil {
		return outbound.Descriptor{}, false
	}
	return l.Get().Desc, true
}

// Channel answers routing (route.Channels): the channel of the lane, and
// whether it sends in batches.
func (ls Lanes) Channel(name string) (outbound.Channel, bool, bool) {
	l := ls[name]
	if l == nil {
		return nil, false, false
	}
	p := l.Get()
	return p.Channel, p.Batch != nil, true
}

// of returns the callback URLs of one kind, or nil for none.
func (c CallbackURL) of(kind string) func(id string) string {
	if c == nil {
		return nil
	}
	return func(id string) string { return c(kind, id) }
}

// BuildLanes composes each channel with its configured transport.
func BuildLanes(cfg *config.Config, callback CallbackURL) (map[string]*Parts, error) {
	lanes := map[string]*Parts{}
	channels, err := Channels(cfg, callback)
	if err != nil {
		return nil, err
	}
	for _, ch := range channels {
		cc := cfg.ChannelConfig(ch.Name())
		if cc == nil {
			return nil, fmt.Errorf("channel %s has no configuration", ch.Name())
		}
		l := &Parts{Desc: cc.Descriptor, Channel: ch, Config: *cc}
		l.Doc, _ = ch.(outbound.DocumentRenderer)
		l.Batch, _ = ch.(outbound.BatchRenderer)
		if l.Doc == nil && l.Batch == nil {
			return nil, fmt.Errorf("channel %s renders neither documents nor batches", ch.Name())
		}
		if l.Transport, err = buildTransport(cfg, cc); err != nil {
			return nil, fmt.Errorf("channel.%s: %w", ch.Name(), err)
		}
		lanes[ch.Name()] = l
	}
	return lanes, nil
}

// BillerOf is the tenant as batch channels need it. A channel's agreement
// with its receiver is its own (outbound.Env.Agreements): AutoGiro reads
// its seal key when it seals a file, so a rotated key is used at once.
func BillerOf(t config.Tenant) outbound.Biller {
	return outbound.Biller{ID: t.ID, Name: t.Name, Orgnr: t.Orgnr, Bankgiro: t.Bankgiro, Plusgiro: t.Plusgiro}
}

// biller is the tenant of a batch as its channel needs it.
func (e *Engine) biller(tenant string) (outbound.Biller, error) {
	t, ok := e.Tenant(tenant)
	if !ok {
		return outbound.Biller{}, fmt.Errorf("tenant %q is no longer configured", tenant)
	}
	return BillerOf(t), nil
}
