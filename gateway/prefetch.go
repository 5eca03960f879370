package gateway

import (
	"context"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// noMatch is the suffix of the channel name under which the registry
// keeps a receiver's "no" (channel "kivra-nomatch"), so the next document
// for the same recipient within the answer's time to live does not ask
// again.
const noMatch = "-nomatch"

// prefetch asks each channel whose transport can say before routing which
// recipients it reaches (outbound.Matcher: Kivra's usermatch) about the
// documents of a chunk, and keeps the answers in the registry, where
// routing finds them. It runs before the chunk's routing transaction,
// which must not wait on the network. When a receiver cannot be asked the
// documents are routed without its answer (the reason says so).
func (d *Daemon) prefetch(ctx context.Context, tenant string, items []formats.Item) {
	for name, l := range d.lanes {
		p := l.get()
		if m, ok := p.transport.(outbound.Matcher); ok && p.desc.Address != "" {
			d.match(ctx, tenant, name, p.desc, m, items)
		}
	}
}

// match asks one channel's receiver, in one request, about every
// recipient in the chunk whose answer is not cached, and caches the
// answers in the registry with their time to live.
func (d *Daemon) match(ctx context.Context, tenant, channel string, desc outbound.Descriptor, m outbound.Matcher, items []formats.Item) {
	ttl, label := 24*time.Hour, channel+" match"
	if m := desc.Match; m != nil {
		if m.TTL > 0 {
			ttl = m.TTL
		}
		if m.Source != "" {
			label = m.Source
		}
	}
	now := time.Now().UTC()
	var ask []string
	seen := map[string]bool{}
	d.store.View(func(tx store.Tx) error {
		for _, it := range items {
			if it.Doc == nil {
				continue
			}
			for _, key := range docKeys(it.Doc, now) {
				if key.Type != desc.Address || seen[key.Value] {
					continue
				}
				seen[key.Value] = true
				regs, err := tx.Registrations(tenant, key)
				if err != nil {
					return err
				}
				cached := false
				for _, r := range regs {
					if (r.Channel == channel || r.Channel == channel+noMatch) && r.Active(now) {
						cached = true
					}
				}
				if !cached {
					ask = append(ask, key.Value)
				}
			}
		}
		return nil
	})
	if len(ask) == 0 {
		return
	}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	matched, err := m.Match(actx, ask)
	if err != nil {
		d.log.Warn("asking the receiver whom it reaches failed; these documents are routed without its answer", "channel", channel, "tenant", tenant, "asked", len(ask), "err", err)
		return
	}
	yes := map[string]bool{}
	for _, k := range matched {
		yes[k] = true
	}
	source := label + " " + now.Format(time.RFC3339)
	err = d.store.Update(func(tx store.Tx) error {
		for _, value := range ask {
			key := store.RecipientKey{Type: desc.Address, Value: value}
			answer := channel + noMatch
			if yes[value] {
				answer = channel
			}
			for _, ch := range []string{channel + noMatch, channel} {
				if _, err := revokeActive(tx, tenant, key, ch, now, source); err != nil {
					return err
				}
			}
			err := tx.PutRegistration(&store.Registration{Tenant: tenant, Keys: []store.RecipientKey{key}, Channel: answer,
				Address: value, Source: source, ValidFrom: now, RevokedAt: now.Add(ttl), RevokedBy: "time to live (" + ttl.String() + ")", Created: now})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.log.Error("keeping the receiver's answers in the registry failed", "channel", channel, "err", err)
		return
	}
	d.log.Info("asked the receiver whom it reaches", "channel", channel, "tenant", tenant, "asked", len(ask), "matched", len(matched))
}
