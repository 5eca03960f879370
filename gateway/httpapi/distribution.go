package httpapi

import (
	"fmt"
	"slices"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// distributionRow is one tenant's month on the status page: how many
// documents went out on each channel, the digital share and its change
// from the month before, the cost at the tenant's prices.
type distributionRow struct {
	Tenant, Month string
	Channels      string
	Documents     int64
	Share         string
	Change        string
	Cost          string
	Reminders     int64
}

// lifeRow is one tenant's invoices by life state.
type lifeRow struct {
	Tenant string
	States string
}

// lifeOrder is the order of an invoice's life, as the status page lists it.
var lifeOrder = []string{string(store.DocDelivered), store.LifeOpened, store.LifePartlyPaid, store.LifePaid, store.LifeReminded,
	store.LifeDisputed, store.LifeCredited, store.LifeCollectionAgency}

// distribution is every tenant's last six months and invoice life, from
// the overviews (read from the store's counters, kept a few seconds).
func (s *Server) distribution() ([]distributionRow, []lifeRow) {
	var rows []distributionRow
	var lives []lifeRow
	if s.Tenants == nil {
		return nil, nil
	}
	for _, t := range s.Tenants() {
		o, life, err := s.overview(t.ID)
		if err != nil {
			s.Log.Warn("status page: the distribution overview cannot be read", "tenant", t.ID, "err", err)
			continue
		}
		months := o.Months[max(0, len(o.Months)-6):]
		for i, m := range months {
			chans := make([]string, 0, len(m.Channels))
			for ch, n := range m.Channels {
				chans = append(chans, fmt.Sprintf("%s %d", ch, n))
			}
			slices.Sort(chans)
			change := ""
			if j := len(o.Months) - len(months) + i; j > 0 {
				change = fmt.Sprintf("%+.1f pp", (m.Share-o.Months[j-1].Share)*100)
			}
			rows = append(rows, distributionRow{Tenant: t.ID, Month: m.Month, Channels: fmt.Sprint(chans), Documents: m.Digital + m.Paper,
				Share: fmt.Sprintf("%.1f %%", m.Share*100), Change: change, Cost: formats.Amount(m.Cost).Swedish() + " kr", Reminders: m.Reminders})
		}
		var states []string
		for _, st := range lifeOrder {
			if n := life[st]; n > 0 {
				states = append(states, fmt.Sprintf("%s %d", st, n))
			}
		}
		if len(states) > 0 {
			lives = append(lives, lifeRow{Tenant: t.ID, States: fmt.Sprint(states)})
		}
	}
	return rows, lives
}
