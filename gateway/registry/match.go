package registry

import (
	"context"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// NoMatch is the suffix of the channel name under which the registry
// keeps a receiver's "no" (channel "kivra-nomatch"), so the next document
// for the same recipient within the answer's time to live does not ask
// again.
const NoMatch = "-nomatch"

// Match asks one channel's receiver (a transport that is an
// outbound.Matcher: Kivra's usermatch), in one request, about every
// recipient in the chunk whose answer is not cached, and caches the
// answers in the registry with their time to live (the descriptor's
// Match). It runs before the chunk's routing transaction, which must not
// wait on the network. When the receiver cannot be asked, or the cached
// answers cannot be read, the documents are routed without its answer
// (the reason says so).
func (r *Registry) Match(ctx context.Context, tenant string, desc outbound.Descriptor, m outbound.Matcher, items []formats.Item) {
	channel := desc.Name
	if desc.Address == "" {
		return
	}
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
	err := r.store.View(func(tx store.Tx) error {
		for _, it := range items {
			if it.Doc == nil {
				continue
			}
			for _, key := range Keys(it.Doc, now) {
				if key.Type != desc.Address || seen[key.Value] {
					continue
				}
				seen[key.Value] = true
				regs, err := tx.Registrations(tenant, key)
				if err != nil {
					return err
				}
				cached := false
				for _, reg := range regs {
					if (reg.Channel == channel || reg.Channel == channel+NoMatch) && reg.Active(now) {
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
	if err != nil {
		r.log.Warn("the receiver's cached answers cannot be read; these documents are routed without its answer", "channel", channel, "tenant", tenant, "err", err)
		return
	}
	if len(ask) == 0 {
		return
	}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	matched, err := m.Match(actx, ask)
	if err != nil {
		r.log.Warn("asking the receiver whom it reaches failed; these documents are routed without its answer", "channel", channel, "tenant", tenant, "asked", len(ask), "err", err)
		return
	}
	yes := map[string]bool{}
	for _, k := range matched {
		yes[k] = true
	}
	source := label + " " + now.Format(time.RFC3339)
	err = r.store.Update(func(tx store.Tx) error {
		for _, value := range ask {
			key := store.RecipientKey{Type: desc.Address, Value: value}
			answer := channel + NoMatch
			if yes[value] {
				answer = channel
			}
			for _, ch := range []string{channel + NoMatch, channel} {
				if _, err := RevokeActive(tx, tenant, key, ch, now, source); err != nil {
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
		r.log.Error("keeping the receiver's answers in the registry failed", "channel", channel, "err", err)
		return
	}
	r.log.Info("asked the receiver whom it reaches", "channel", channel, "tenant", tenant, "asked", len(ask), "matched", len(matched))
}
