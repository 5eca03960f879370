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
// and the tenant's invoices by life state. It reads every document of
// the store, in short transactions, so callers keep it a while (the
// status page keeps it five minutes).
// paper says which channels put paper in an envelope (their descriptor's
// Paper); every other channel is digital.
func Overview(st Store, tenant string, prices map[string]formats.Amount, paper func(channel string) bool) (*api.Overview, map[string]int64, error) {
	months := map[string]*api.OverviewMonth{}
	life := map[string]int64{}
	err := st.ScanDocsNewestFirst(func(d *store.Doc) error {
		if d.Tenant != tenant {
			return nil
		}
		if d.Kind == formats.KindInvoice && d.State == store.DocDelivered {
			life[d.Life()]++
		}
		if d.State != store.DocDelivered || d.Channel == "" {
			return nil
		}
		key := d.Created.Format("2006-01")
		m := months[key]
		if m == nil {
			m = &api.OverviewMonth{Month: key, Channels: map[string]int64{}, CostByCh: map[string]int64{}}
			months[key] = m
		}
		m.Channels[d.Channel]++
		if paper(d.Channel) {
			m.Paper++
		} else {
			m.Digital++
		}
		if d.Kind == formats.KindReminder {
			m.Reminders++
		}
		if p, ok := prices[d.Channel]; ok {
			m.Cost += p
			m.CostByCh[d.Channel] += int64(p)
		}
		return nil
	})
	out := &api.Overview{Tenant: tenant, Months: []api.OverviewMonth{}}
	for _, m := range months {
		if n := m.Digital + m.Paper; n > 0 {
			m.Share = float64(m.Digital) / float64(n)
		}
		out.Months = append(out.Months, *m)
	}
	slices.SortFunc(out.Months, func(a, b api.OverviewMonth) int { return cmpString(a.Month, b.Month) })
	return out, life, err
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
