package receipts

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// Overview is a tenant's distribution, month by month: the documents
// delivered per channel (by the month they arrived), the share that went
// digital, and what each channel cost at the tenant's prices (in öre);
// and the tenant's invoices by life state. It reads the tenant's
// counters, which the store keeps as documents change
// (store.OverviewTx), so it costs the same however many documents the
// store holds.
// paper says which channels put paper in an envelope (their descriptor's
// Paper); every other channel is digital.
func Overview(st Store, tenant string, prices map[string]formats.Amount, paper func(channel string) bool) (*api.Overview, map[string]int64, error) {
	var dist *store.Distribution
	if err := st.View(func(tx store.Tx) (err error) { dist, err = tx.Distribution(tenant); return err }); err != nil {
		return &api.Overview{Tenant: tenant, Months: []api.OverviewMonth{}}, map[string]int64{}, err
	}
	months := map[string]*api.OverviewMonth{}
	for k, n := range dist.Sent {
		m := months[k.Month]
		if m == nil {
			m = &api.OverviewMonth{Month: k.Month, Channels: map[string]int64{}, CostByCh: map[string]int64{}}
			months[k.Month] = m
		}
		m.Channels[k.Channel] += n
		if paper(k.Channel) {
			m.Paper += n
		} else {
			m.Digital += n
		}
		if k.Reminder {
			m.Reminders += n
		}
		if p, ok := prices[k.Channel]; ok {
			m.Cost += p * formats.Amount(n)
			m.CostByCh[k.Channel] += int64(p) * n
		}
	}
	out := &api.Overview{Tenant: tenant, Months: []api.OverviewMonth{}}
	for _, m := range months {
		if n := m.Digital + m.Paper; n > 0 {
			m.Share = float64(m.Digital) / float64(n)
		}
		out.Months = append(out.Months, *m)
	}
	slices.SortFunc(out.Months, func(a, b api.OverviewMonth) int { return cmpString(a.Month, b.Month) })
	return out, dist.Life, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// OverviewCSV writes an overview as CSV: one row per month and channel,
// with the month's digital share and the change in it from the month
// before (what a campaign moving customers off paper shows as).
func OverviewCSV(o *api.Overview) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = ';'
	w.Write([]string{"month", "channel", "documents", "cost", "month_documents", "month_paper", "month_digital_share", "digital_share_change"})
	prev := -1.0
	for _, m := range o.Months {
		change := ""
		if prev >= 0 {
			change = strconv.FormatFloat((m.Share-prev)*100, 'f', 1, 64)
		}
		prev = m.Share
		chans := make([]string, 0, len(m.Channels))
		for ch := range m.Channels {
			chans = append(chans, ch)
		}
		slices.Sort(chans)
		for _, ch := range chans {
			w.Write([]string{m.Month, ch, strconv.FormatInt(m.Channels[ch], 10), formats.Amount(m.CostByCh[ch]).String(),
				strconv.FormatInt(m.Digital+m.Paper, 10), strconv.FormatInt(m.Paper, 10), fmt.Sprintf("%.1f", m.Share*100), change})
		}
	}
	w.Flush()
	return b.Bytes()
}
