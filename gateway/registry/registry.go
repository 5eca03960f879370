// Package registry is the recipient registry: per tenant, which channel
// each recipient wants, at which address, since when and on whose word
// (a registration file, a bank's mandate advice, Kivra's usermatch, an
// operator's import). Entries are never overwritten: a cancellation
// revokes an entry and keeps it as history, so routing can say why a
// recipient is not reached any more.
//
// Routing asks it inside the routing transaction (Lookup), so a decision
// sees exactly the registry it is recorded with. The registry is fed by
// registration files in the inbox (Registry as an intake applier), by the
// operators' API (Import), by the receivers that say whom they reach
// (Match: Kivra's usermatch) and by Bankgirot's files (package
// collection, with RevokeActive).
package registry

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/store"
)

// Keys are the registry keys a document's recipient can be found by.
func Keys(body *formats.Document, now time.Time) []store.RecipientKey {
	b := body.Buyer
	var keys []store.RecipientKey
	add := func(typ, value string) {
		if value == "" {
			return
		}
		v, err := recipients.NormaliseKey(typ, value, now)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.Type == typ && k.Value == v {
				return
			}
		}
		keys = append(keys, store.RecipientKey{Type: typ, Value: v})
	}
	add(store.KeyCustomer, b.CustomerNumber)
	add(store.KeyCustomer, body.MandateReference())
	add(store.KeyPNR, b.PersonalID)
	if b.LegalID.Scheme == "0007" || b.LegalID.Scheme == "" {
		add(store.KeyOrgnr, b.LegalID.Value)
	}
	if ok, _ := formats.PeppolParticipant(b.Endpoint); ok {
		add(store.KeyPeppol, b.Endpoint.String())
	}
	add(store.KeyEmail, b.Contact.Email)
	add(store.KeyMobile, b.Contact.Phone)
	return keys
}

// Pseudonyms are the keyed hashes (hash: the store's HashKey) of the keys
// a document's recipient is found by: what a document keeps of them, so
// that an erasure finds it after its body is gone.
func Pseudonyms(hash func(store.RecipientKey) string, body *formats.Document, now time.Time) []string {
	keys := Keys(body, now)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = hash(k)
	}
	return out
}

// Lookup answers registry questions inside the caller's transaction, so
// routing sees exactly the registry as of that commit. It implements
// outbound.Registry for the channels' Eligible.
type Lookup struct {
	tx     store.RegistryTx
	Tenant string
	Now    time.Time
	// address is the key type that is itself the address on a channel
	// (its descriptor's Address), "" for none.
	address func(channel string) string
	// memo, when set, keeps the registrations of the last document asked
	// about (Memo).
	memo *memo
}

// memo is the registrations of one document's recipient keys.
type memo struct {
	doc  *formats.Document
	regs []*store.Registration
}

// Memo returns r remembering the registrations of the document it was
// last asked about. Routing asks for every channel of one document in turn
// (Decide), reading the same keys each time: five reads and decodes per
// key become one. Only for a stretch in which nothing is registered.
func (r Lookup) Memo() Lookup {
	r.memo = &memo{}
	return r
}

// NewLookup asks the tenant's registry in tx as of now; address names the
// key type that is itself the address on a channel (nil: none is).
func NewLookup(tx store.RegistryTx, tenant string, now time.Time, address func(channel string) string) Lookup {
	return Lookup{tx: tx, Tenant: tenant, Now: now, address: address}
}

// Find returns the newest active registration for the document's recipient
// on the channel, or nil.
func (r Lookup) Find(doc *formats.Document, channel string) (*store.Registration, error) {
	regs, err := r.registrations(doc)
	if err != nil {
		return nil, err
	}
	var best *store.Registration
	for _, reg := range regs {
		if reg.Channel == channel && reg.Active(r.Now) && (best == nil || reg.ValidFrom.After(best.ValidFrom)) {
			best = reg
		}
	}
	return best, nil
}

// registrations are those of every recipient key of doc, key by key.
func (r Lookup) registrations(doc *formats.Document) ([]*store.Registration, error) {
	if r.memo != nil && r.memo.doc == doc {
		return r.memo.regs, nil
	}
	var all []*store.Registration
	for _, k := range Keys(doc, r.Now) {
		regs, err := r.tx.Registrations(r.Tenant, k)
		if err != nil {
			return nil, err
		}
		all = append(all, regs...)
	}
	if r.memo != nil {
		r.memo.doc, r.memo.regs = doc, all
	}
	return all, nil
}

// Lookup implements outbound.Registry.
func (r Lookup) Lookup(doc *formats.Document, channel string) (string, string, bool) {
	reg, err := r.Find(doc, channel)
	if err != nil || reg == nil {
		return "", "", false
	}
	addr := reg.Address
	if addr == "" && r.address != nil {
		if typ := r.address(channel); typ != "" {
			for _, k := range reg.Keys {
				if k.Type == typ {
					addr = k.Value
				}
			}
		}
	}
	return addr, fmt.Sprintf("%s (valid from %s)", reg.Source, reg.ValidFrom.Format("2006-01-02")), true
}

// Apply applies a registration file's rows in the caller's transaction: an
// add revokes the recipient's earlier entry on that channel (kept as
// history) and adds a new one; a revoke ends the active ones. source names
// the file. A row that cannot be applied is an error (errkind.Invalid)
// naming its line; the caller applies nothing then.
func Apply(tx store.RegistryTx, tenant, source string, rows []recipients.Row, now time.Time) (added, revoked int, err error) {
	for _, row := range rows {
		key := store.RecipientKey{Type: row.KeyType, Value: row.Key}
		from := row.ValidFrom
		if from.IsZero() {
			from = now
		}
		src := fmt.Sprintf("%s line %d", source, row.Line)
		n, err := RevokeActive(tx, tenant, key, row.Channel, from, src)
		if err != nil {
			return added, revoked, err
		}
		revoked += n
		if row.Revoke {
			if n == 0 {
				return added, revoked, errkind.New(errkind.Invalid, "line %d: %s has no active %s registration to revoke", row.Line, key, row.Channel)
			}
			continue
		}
		reg := &store.Registration{Tenant: tenant, Keys: []store.RecipientKey{key}, Channel: row.Channel,
			Address: row.Address, Source: src, ValidFrom: from, Created: now}
		if err := tx.PutRegistration(reg); err != nil {
			return added, revoked, err
		}
		added++
	}
	return added, revoked, nil
}

// RevokeActive ends every active registration of key on channel, at at, by
// the source by; it returns how many it ended.
func RevokeActive(tx store.RegistryTx, tenant string, key store.RecipientKey, channel string, at time.Time, by string) (int, error) {
	regs, err := tx.Registrations(tenant, key)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, reg := range regs {
		if reg.Channel == channel && reg.RevokedAt.IsZero() {
			reg.RevokedAt, reg.RevokedBy = at, by
			if err := tx.PutRegistration(reg); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Store is what the registry's service reads and writes.
type Store interface {
	View(fn func(store.Tx) error) error
	Update(fn func(store.Tx) error) error
}

// Registry is the registry's service: what operators, registration files
// and Kivra's usermatch ask of it. Its own transactions are short; the
// routing transaction reads the registry through a Lookup.
type Registry struct {
	store Store
	// known reports whether a tenant is configured.
	known func(tenant string) bool
	// channels are the channels a registration may name, as configured
	// now.
	channels func() []recipients.Channel
	log      *slog.Logger
}

// New is the registry over st, for the tenants known reports; channels
// are the channels a registration may name (RecipientChannels of the
// configuration in force).
func New(st Store, known func(tenant string) bool, channels func() []recipients.Channel, log *slog.Logger) *Registry {
	return &Registry{store: st, known: known, channels: channels, log: log}
}

// RecipientChannels are the channels a registration may name: the
// registered distribution channels, with the key type that is the address
// on each and the check of an address the registration gives.
func RecipientChannels(cfg *config.Config) []recipients.Channel {
	var out []recipients.Channel
	for _, name := range cfg.Distribution() {
		d := cfg.ChannelConfig(name).Descriptor
		out = append(out, recipients.Channel{Name: name, Address: d.Address, Check: d.CheckAddress})
	}
	return out
}

// Parse reads a registration CSV against the channels in force.
func (r *Registry) Parse(rd io.Reader, now time.Time) ([]recipients.Row, error) {
	return recipients.Parse(rd, now, r.channels())
}

// Import applies a registration CSV for a tenant: all rows or, on any
// error, none.
func (r *Registry) Import(tenant, source string, rows []recipients.Row) (added, revoked int, err error) {
	if !r.known(tenant) {
		return 0, 0, errkind.New(errkind.NotFound, "tenant %q is not configured", tenant)
	}
	now := time.Now().UTC()
	err = r.store.Update(func(tx store.Tx) error {
		added, revoked, err = Apply(tx, tenant, source, rows, now)
		return err
	})
	return added, revoked, err
}

// ByKey returns every registration (active and revoked) found under a key
// "type:value", and the key as normalised.
func (r *Registry) ByKey(tenant, key string) (string, []*store.Registration, error) {
	typ, value, ok := SplitKey(key)
	if !ok {
		return "", nil, errkind.New(errkind.Invalid, "a key is TYPE:VALUE, like pnr:198112189876 or customer:10053")
	}
	v, err := recipients.NormaliseKey(typ, value, time.Now())
	if err != nil {
		return "", nil, errkind.Wrap(errkind.Invalid, err)
	}
	var regs []*store.Registration
	err = r.store.View(func(tx store.Tx) (err error) {
		regs, err = tx.Registrations(tenant, store.RecipientKey{Type: typ, Value: v})
		return err
	})
	return typ + ":" + v, regs, err
}

// List returns the tenant's registrations, newest first.
func (r *Registry) List(tenant string, activeOnly bool) ([]*store.Registration, error) {
	var out []*store.Registration
	now := time.Now()
	err := r.store.View(func(tx store.Tx) error {
		return tx.ForEachRegistration(tenant, func(reg *store.Registration) error {
			if !activeOnly || reg.Active(now) {
				out = append(out, reg)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, err
}

// Sniff reports whether a file's first bytes are a recipient registration
// file: the registry applies such a file dropped into the inbox.
func (r *Registry) Sniff(head []byte) bool { return recipients.Sniff(head) }

// Apply applies a recipient-registration CSV dropped into the inbox: every
// row in one transaction with the file's own record (applied), or, when
// any line is bad, nothing, and the error says why (the file's receipt
// lists every bad line).
func (r *Registry) Apply(rec *store.File, rd io.ReaderAt) error {
	now := time.Now().UTC()
	rows, err := r.Parse(io.NewSectionReader(rd, 0, rec.Size), now)
	if err != nil {
		return fmt.Errorf("registration file: %w", err)
	}
	err = r.store.Update(func(tx store.Tx) error {
		added, revoked, err := Apply(tx, rec.Tenant, "file "+rec.Name, rows, now)
		if err != nil {
			return err
		}
		f, err := tx.File(rec.ID)
		if err != nil {
			return err
		}
		f.Format, f.State = "recipients", store.FileApplied
		f.Reason = fmt.Sprintf("registration file applied: %d registrations added, %d revoked", added, revoked)
		return tx.PutFile(f)
	})
	if err != nil {
		return fmt.Errorf("registration file: nothing applied: %w", err)
	}
	r.log.Info("registration file applied", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "rows", len(rows))
	return nil
}

// SplitKey splits a key "type:value"; ok is false when either part is
// empty.
func SplitKey(key string) (typ, value string, ok bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == ':' {
			return key[:i], key[i+1:], i > 0 && i < len(key)-1
		}
	}
	return "", "", false
}
