package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// UserMatcher is Kivra's usermatch: which personnummer accept content from
// the biller. The Kivra api transport implements it.
type UserMatcher interface {
	UserMatch(ctx context.Context, personnummers []string) ([]string, error)
}

// kivraTTL is how long a usermatch answer is trusted. Kivra users can opt
// out of a sender at any time, so the answer is asked again after a day.
const kivraTTL = 24 * time.Hour

// kivraNoMatch records a "no" from usermatch, so the next invoice for the
// same person within the TTL does not ask again.
const kivraNoMatch = "kivra-nomatch"

// AskKivra asks Kivra, in one request, about every personnummer in the
// chunk whose answer is not cached, and caches the answers in the registry
// with their time to live. It runs before the chunk's routing transaction,
// which must not wait on the network. When Kivra cannot be asked the
// documents are routed without a Kivra match (the reason says so).
func (r *Registry) AskKivra(ctx context.Context, matcher UserMatcher, tenant string, items []formats.Item) {
	now := time.Now().UTC()
	var ask []string
	seen := map[string]bool{}
	err := r.store.View(func(tx store.Tx) error {
		for _, it := range items {
			if it.Doc == nil || it.Doc.Buyer.PersonalID == "" {
				continue
			}
			pnr, err := formats.CheckPersonnummer(it.Doc.Buyer.PersonalID, now)
			if err != nil || seen[pnr] {
				continue
			}
			seen[pnr] = true
			regs, err := tx.Registrations(tenant, store.RecipientKey{Type: store.KeyPNR, Value: pnr})
			if err != nil {
				return err
			}
			cached := false
			for _, r := range regs {
				if (r.Channel == outbound.Kivra || r.Channel == kivraNoMatch) && r.Active(now) {
					cached = true
				}
			}
			if !cached {
				ask = append(ask, pnr)
			}
		}
		return nil
	})
	if err != nil {
		r.log.Warn("kivra usermatch: the cached answers cannot be read; these documents are routed without a Kivra match", "tenant", tenant, "err", err)
		return
	}
	if len(ask) == 0 {
		return
	}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	matched, err := matcher.UserMatch(actx, ask)
	if err != nil {
		r.log.Warn("kivra usermatch failed; these documents are routed without a Kivra match", "tenant", tenant, "asked", len(ask), "err", err)
		return
	}
	yes := map[string]bool{}
	for _, m := range matched {
		yes[m] = true
	}
	source := fmt.Sprintf("Kivra usermatch %s", now.Format(time.RFC3339))
	err = r.store.Update(func(tx store.Tx) error {
		for _, pnr := range ask {
			key := store.RecipientKey{Type: store.KeyPNR, Value: pnr}
			channel := kivraNoMatch
			if yes[pnr] {
				channel = outbound.Kivra
			}
			if _, err := RevokeActive(tx, tenant, key, kivraNoMatch, now, source); err != nil {
				return err
			}
			if _, err := RevokeActive(tx, tenant, key, outbound.Kivra, now, source); err != nil {
				return err
			}
			err := tx.PutRegistration(&store.Registration{Tenant: tenant, Keys: []store.RecipientKey{key}, Channel: channel,
				Address: pnr, Source: source, ValidFrom: now, RevokedAt: now.Add(kivraTTL), RevokedBy: "time to live (" + kivraTTL.String() + ")", Created: now})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.log.Error("caching kivra usermatch answers failed", "err", err)
		return
	}
	r.log.Info("kivra usermatch", "tenant", tenant, "asked", len(ask), "matched", len(matched))
}
