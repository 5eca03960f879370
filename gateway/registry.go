package gateway

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/store"
)

// docKeys are the registry keys a document's recipient can be found by.
func docKeys(body *formats.Document, now time.Time) []store.RecipientKey {
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

// txRegistry answers registry questions inside the routing transaction, so
// routing sees exactly the registry as of that commit.
type txRegistry struct {
	tx     store.Tx
	tenant string
	now    time.Time
	cfg    *config.Config // the channels, for the key that is an address on each
}

// find returns the newest active registration for the document's recipient
// on the channel.
func (r txRegistry) find(doc *formats.Document, channel string) (*store.Registration, error) {
	var best *store.Registration
	for _, k := range docKeys(doc, r.now) {
		regs, err := r.tx.Registrations(r.tenant, k)
		if err != nil {
			return nil, err
		}
		for _, reg := range regs {
			if reg.Channel == channel && reg.Active(r.now) && (best == nil || reg.ValidFrom.After(best.ValidFrom)) {
				best = reg
			}
		}
	}
	return best, nil
}

// Lookup implements outbound.Registry.
func (r txRegistry) Lookup(doc *formats.Document, channel string) (string, string, bool) {
	reg, err := r.find(doc, channel)
	if err != nil || reg == nil {
		return "", "", false
	}
	addr := reg.Address
	if addr == "" {
		for _, k := range reg.Keys {
			if r.keyIsAddress(channel, k.Type) {
				addr = k.Value
			}
		}
	}
	return addr, fmt.Sprintf("%s (valid from %s)", reg.Source, reg.ValidFrom.Format("2006-01-02")), true
}

// keyIsAddress tells whether a key type is itself the address on a
// channel: the channel's descriptor says which.
func (r txRegistry) keyIsAddress(channel, keyType string) bool {
	cc := r.cfg.ChannelConfig(channel)
	return cc != nil && cc.Descriptor.Address != "" && cc.Descriptor.Address == keyType
}

// recipientChannels are the channels a registration may name: the
// registered distribution channels, with the key type that is the address
// on each.
func recipientChannels(cfg *config.Config) []recipients.Channel {
	var out []recipients.Channel
	for _, name := range cfg.Distribution() {
		d := cfg.ChannelConfig(name).Descriptor
		out = append(out, recipients.Channel{Name: name, Address: d.Address, Check: d.CheckAddress})
	}
	return out
}

// applyRows applies a registration file's rows in one transaction: an add
// revokes the recipient's earlier entry on that channel (kept as history)
// and adds a new one; a revoke ends the active ones. source names the file.
func applyRows(tx store.Tx, tenant, source string, rows []recipients.Row, now time.Time) (added, revoked int, err error) {
	for _, row := range rows {
		key := store.RecipientKey{Type: row.KeyType, Value: row.Key}
		from := row.ValidFrom
		if from.IsZero() {
			from = now
		}
		src := fmt.Sprintf("%s line %d", source, row.Line)
		n, err := revokeActive(tx, tenant, key, row.Channel, from, src)
		if err != nil {
			return added, revoked, err
		}
		revoked += n
		if row.Revoke {
			if n == 0 {
				return added, revoked, fmt.Errorf("line %d: %s has no active %s registration to revoke", row.Line, key, row.Channel)
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

// revokeActive ends every active registration of key on channel.
func revokeActive(tx store.Tx, tenant string, key store.RecipientKey, channel string, at time.Time, by string) (int, error) {
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

// ImportRecipients applies a registration CSV for a tenant: all rows or,
// on any error, none.
func (d *Daemon) ImportRecipients(tenant, source string, rows []recipients.Row) (added, revoked int, err error) {
	if d.tenant(tenant) == nil {
		return 0, 0, fmt.Errorf("tenant %q is not configured", tenant)
	}
	now := time.Now().UTC()
	err = d.store.Update(func(tx store.Tx) error {
		added, revoked, err = applyRows(tx, tenant, source, rows, now)
		return err
	})
	return added, revoked, err
}

// Recipient is what the registry holds for one key, history included.
type Recipient struct {
	Key           string                `json:"key"`
	Registrations []*store.Registration `json:"registrations"`
}

// RecipientsByKey returns every registration (active and revoked) found
// under a key "type:value".
func (d *Daemon) RecipientsByKey(tenant, key string) (*Recipient, error) {
	typ, value, ok := cut(key)
	if !ok {
		return nil, errors.New("a key is TYPE:VALUE, like pnr:198112189876 or customer:10053")
	}
	v, err := recipients.NormaliseKey(typ, value, time.Now())
	if err != nil {
		return nil, err
	}
	out := &Recipient{Key: typ + ":" + v, Registrations: []*store.Registration{}}
	err = d.store.View(func(tx store.Tx) error {
		regs, err := tx.Registrations(tenant, store.RecipientKey{Type: typ, Value: v})
		out.Registrations = append(out.Registrations, regs...)
		return err
	})
	return out, err
}

// ListRecipients returns the tenant's registrations, newest first.
func (d *Daemon) ListRecipients(tenant string, activeOnly bool) ([]*store.Registration, error) {
	var out []*store.Registration
	now := time.Now()
	err := d.store.View(func(tx store.Tx) error {
		return tx.ForEachRegistration(tenant, func(r *store.Registration) error {
			if !activeOnly || r.Active(now) {
				out = append(out, r)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, err
}

func cut(key string) (string, string, bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == ':' {
			return key[:i], key[i+1:], i > 0 && i < len(key)-1
		}
	}
	return "", "", false
}
