package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Descriptor is what a channel says about itself: everything the
// configuration, the CSV reader, the recipient registry, routing and the
// status page need to know, so that none of them lists channels. Each
// channel's folder declares one; outbound/channels registers them, one line
// per channel.
//
// Capabilities beyond rendering are found by interface on what New (or a
// transport's Build) returns: Matcher (ask the receiver before routing),
// CallbackReports and FileReports (the receiver's reports on deliveries).
type Descriptor struct {
	// Name is the channel's name in the configuration ([channel.NAME],
	// priority lists), in the CSV's channel column, in the registry and in
	// outbox/NAME: lower-case letters and digits.
	Name string
	// Role says whether the channel distributes documents or collects
	// payment beside distribution.
	Role Role
	// Batch is set for a channel that collects deliveries until a cut-off
	// and sends one file for all of them; nil for one send per document.
	Batch *Batching
	// Carries lists the kinds of document the channel takes; routing
	// passes over it for any other kind.
	Carries []formats.Kind
	// Address is the registry key type whose value is itself the address
	// on this channel ("email", "mobile", "peppol", "pnr", "customer"), or
	// "" when a registration must give the address (or the channel needs
	// none from the registry, like paper).
	Address string
	// CheckAddress, when set, checks the address a registration gives in
	// its address column, which is then required unless the key is the
	// address (Finvoice's ADDRESS@INTERMEDIATOR, which no key type is).
	CheckAddress func(string) error
	// Required and Optional are the channel's own keys: its table takes
	// them on every transport, the spool too, and New reads them from
	// Env.Settings (a biller's Finvoice intermediator, say). A required
	// key is required once the channel is used (a priority list names it,
	// its table is written, a tenant has its agreement); unused and
	// without it, the channel is not run.
	Required []Key
	Optional []Key
	// Transports are the real transports the channel runs on. Every
	// channel also runs on "spool" (write into outbox/NAME), which is not
	// listed here.
	Transports []TransportSpec
	// Removed are keys the channel's table once had, with what replaced
	// them, for the message that refuses them.
	Removed map[string]string
	// Agreement, when set, gives each tenant a table of its own for the
	// channel, [tenant.NAME]: the biller's agreement with the receiver
	// (AvtaleGiro's customer unit and account, say). It returns a new
	// value to decode the table into, a pointer to a struct with toml
	// tags; when the value has a Check() error method, the configuration
	// calls it, and an error that starts with a key's name is reported at
	// that key. New gets the decoded tables in Env.Agreements.
	Agreement func() any
	// Match says how the answers of a transport that is a Matcher are
	// kept; nil for the defaults.
	Match *Matching
	// Paper says the channel's documents are printed and posted: the
	// distribution overview counts them as paper, every other channel's
	// as digital.
	Paper bool
	// Offer is what the hosted invoice page says, by language ("sv",
	// "en"), to invite a recipient to get the next invoice on this
	// channel; "%s" stands for the biller's name. nil for no invitation.
	Offer map[string]string
	// New makes the channel from its configuration.
	New func(Env) (Channel, error)
}

// Role is what a channel does for the biller.
type Role int

const (
	// Distribution channels carry the document to its recipient; a
	// tenant's priority list names them.
	Distribution Role = iota
	// Collection channels collect payment beside distribution (AutoGiro's
	// withdrawals); they are never in a priority list.
	Collection
)

func (r Role) String() string {
	if r == Collection {
		return "collection"
	}
	return "distribution"
}

// Matching is how the registry keeps a Matcher's answers.
type Matching struct {
	// Source names the answers in the registry's history, like "Kivra
	// usermatch"; "" means "NAME match".
	Source string
	// TTL is how long an answer about a recipient is trusted before it is
	// asked again; 0 means a day.
	TTL time.Duration
}

// Batching is a batch channel's limits.
type Batching struct {
	// MaxCount is the default cutoff.max_count: a batch file is built in
	// memory from its documents, so it is bounded even when the
	// configuration sets no limit.
	MaxCount int
}

// CarriesKind reports whether the channel takes documents of kind k.
func (d Descriptor) CarriesKind(k formats.Kind) bool { return slices.Contains(d.Carries, k) }

// Transport returns the named transport of the channel ("spool" is not
// listed and is not found here).
func (d Descriptor) Transport(name string) (TransportSpec, bool) {
	for _, t := range d.Transports {
		if t.Name == name {
			return t, true
		}
	}
	return TransportSpec{}, false
}

// Spool is the transport every channel has: the files that would be sent,
// written into outbox/NAME. The gateway builds it; channels do not list it.
const Spool = "spool"

var channelName = regexp.MustCompile(`^[a-z][a-z0-9]{1,15}$`)

// Check reports what is missing or inconsistent in a descriptor: a
// registration that would fail at run time fails when it is loaded.
func (d Descriptor) Check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !channelName.MatchString(d.Name) {
		bad("name %q: use 2 to 16 lower-case letters and digits, starting with a letter", d.Name)
	}
	if d.New == nil {
		bad("no New: the gateway cannot make the channel")
	}
	if len(d.Carries) == 0 {
		bad("Carries is empty: list the kinds of document the channel takes")
	}
	if d.Batch != nil && d.Batch.MaxCount < 0 {
		bad("Batch.MaxCount %d is negative", d.Batch.MaxCount)
	}
	own := map[string]bool{}
	for _, k := range append(slices.Clone(d.Required), d.Optional...) {
		if k.Name == "" || own[k.Name] || k.Help == "" {
			bad("key %q is empty, listed twice or has no Help", k.Name)
		}
		own[k.Name] = true
	}
	seen := map[string]bool{Spool: true}
	for _, t := range d.Transports {
		if seen[t.Name] || t.Name == "" {
			bad("transport %q is empty, spool (which every channel has) or listed twice", t.Name)
		}
		seen[t.Name] = true
		if t.Build == nil {
			bad("transport %s has no Build", t.Name)
		}
		keys := maps.Clone(own)
		for _, k := range append(slices.Clone(t.Required), t.Optional...) {
			if k.Name == "" || keys[k.Name] {
				bad("transport %s: key %q is empty or listed twice", t.Name, k.Name)
			}
			keys[k.Name] = true
			if k.Help == "" {
				bad("transport %s: key %s has no Help", t.Name, k.Name)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("channel %s: %w", d.Name, err)
	}
	return nil
}

// Env is what a channel is made from.
type Env struct {
	// Settings are the channel's own keys and its transport's as
	// configured (a sender name in "from", say).
	Settings Settings
	// PDF renders the invoice PDF the channels share: the invoice's own
	// when it carries one, otherwise the gateway's rendering.
	PDF func(*formats.Document) ([]byte, error)
	// WritePDF writes the same PDF to w, for a channel that encodes it
	// as it is written (the e-mail's base64) instead of holding it whole.
	WritePDF func(w io.Writer, doc *formats.Document) error
	// Callback returns the URL the receiver is to post its report about a
	// delivery key to (see CallbackReports); nil when the daemon takes no
	// callbacks.
	Callback func(key string) string
	// Agreements are the tenants' [tenant.NAME] tables, by tenant id, as
	// the descriptor's Agreement decoded them; only the tenants that have
	// one.
	Agreements map[string]any
}

// Settings are the keys of a [channel.NAME] table that its transport takes,
// as written (paths made absolute).
type Settings map[string]string

// Get returns the value of key, or "".
func (s Settings) Get(key string) string { return s[key] }

// KeyKind says what a transport key holds, which decides how the
// configuration checks it.
type KeyKind int

// Key kinds.
const (
	Text        KeyKind = iota // any text
	HostPort                   // host:port
	URL                        // an https:// URL (http only to loopback)
	File                       // a file (or systemd credential) that must exist; relative to the configuration file
	Dir                        // a local folder, relative to the configuration file
	Duration                   // a duration with a unit, like "4h"
	MailAddress                // an e-mail address, like "Acme <faktura@acme.se>"
)

// Key is one key of a transport's table.
type Key struct {
	Name string
	Kind KeyKind
	// Help says what the key holds, for the message that asks for it.
	Help string
	// Default is the value when the key is left out; "" for none.
	Default string
	// Example is a value the key could hold ("OKOYFIHH"): what a test
	// builds a channel with when a key of its own is required.
	Example string
}

// Keys that several transports share, so they mean the same everywhere.
var (
	KeyAddr         = Key{Name: "addr", Kind: HostPort, Help: "the server's host:port"}
	KeyBaseURL      = Key{Name: "base_url", Kind: URL, Help: `the service's https:// URL`}
	KeyUsername     = Key{Name: "username", Help: "the account name at the service"}
	KeyPasswordFile = Key{Name: "password_file", Kind: File, Help: "a file (or systemd credential) holding the password"}
	KeyCAFile       = Key{Name: "ca_file", Kind: File, Help: "a PEM file of the CA certificates the service's certificate may chain to, beside the system's"}
)

// TransportSpec is one way a channel's messages leave: the keys its table
// takes and how it is built from them.
type TransportSpec struct {
	// Name is the value of transport = "...".
	Name     string
	Required []Key
	Optional []Key
	// Reports says what the receiver posts to the public listener about
	// each delivery ("delivery reports"), or "" when it posts nothing.
	// Such a transport needs the public listener, and may set
	// confirm_within.
	Reports string
	// Check finds what the kinds of the keys cannot (a combination of
	// keys, a value out of a set); nil for nothing more.
	Check func(Settings) []KeyProblem
	// Build makes the transport.
	Build func(Setup) (Transport, error)
}

// KeyProblem is what is wrong with one key of a channel's table.
type KeyProblem struct {
	Key string
	Msg string
}

// With returns the transport with more required keys: what the channel
// itself reads from the table (the sender in "from", say).
func (t TransportSpec) With(required ...Key) TransportSpec {
	t.Required = append(slices.Clone(t.Required), required...)
	return t
}

// Keys returns the transport's required and optional keys.
func (t TransportSpec) Keys() []Key { return append(slices.Clone(t.Required), t.Optional...) }

// Keys returns the channel's own required and optional keys.
func (d Descriptor) Keys() []Key { return append(slices.Clone(d.Required), d.Optional...) }

// Setup is what a transport is built from.
type Setup struct {
	Channel  string
	Settings Settings
	// Secret reads the secret in the file a *_file key names.
	Secret func(key string) (string, error)
	// HTTPClient returns an HTTP client that trusts the system's roots and
	// the CA in ca_file, when set.
	HTTPClient func() (*http.Client, error)
	Logger     *slog.Logger
}

// Matcher is a transport that can ask its receiver, before routing, which
// recipients it reaches: Kivra's usermatch. keys are values of the
// channel's Address key type; the gateway asks once per chunk of
// documents, outside any transaction, and keeps the answers in the
// registry for the descriptor's Match.TTL.
type Matcher interface {
	Match(ctx context.Context, keys []string) (reached []string, err error)
}

// Outcome is what a receiver reports about a delivery.
type Outcome int

// Outcomes.
const (
	// Pending: the receiver took it and has no end state yet; nothing
	// changes.
	Pending Outcome = iota
	// Confirmed: the recipient got it.
	Confirmed
	// Failed: it did not reach the recipient after all; the document falls
	// back to its next eligible channel.
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Confirmed:
		return "confirmed"
	case Failed:
		return "failed"
	}
	return "pending"
}

// Report is what a receiver says about deliveries it got: about single
// deliveries, each named by its key, or about the documents of one batch
// file, each named by its number.
type Report struct {
	// Batch is the batch key the report is about; "" for a report on
	// single deliveries.
	Batch   string
	Results []Result
}

// Result is the receiver's word on one delivery.
type Result struct {
	// Key is the delivery key (Message.Key); "" in a batch report.
	Key string
	// Number is the document's number, in a batch report.
	Number string
	// Ref is the receiver's id of the message, which must match the one
	// its send returned (Sent.Ref); "" when the receiver gives none.
	Ref     string
	Outcome Outcome
	// Reason says what the receiver reported, in words for the history:
	// "the handset confirmed delivery 2026-03-02T10:00:00Z", "the bank
	// rejected it (E-REG: ...)".
	Reason string
}

// CallbackReports is a channel whose receiver posts reports to the
// gateway's public listener. The gateway serves the handler at
// /hooks/NAME, behind a key it signed for each delivery (Env.Callback
// gives the URLs out); apply records a report and fails when it should be
// posted again later.
type CallbackReports interface {
	ReportHandler(apply func(Report) error) http.Handler
}

// FileReports is a channel whose receiver reports in files that come back
// through the tenant's inbox: a bank's report on an e-faktura batch.
type FileReports interface {
	// SniffReport reports whether the first bytes of a file are one of
	// the receiver's reports.
	SniffReport(head []byte) bool
	// ReadReport reads one.
	ReadReport(r io.Reader) (Report, error)
}
