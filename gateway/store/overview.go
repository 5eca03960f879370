package store

import "github.com/multikanal/multikanal/formats"

// OverviewTx reads the counters behind a tenant's distribution overview
// (receipts.Overview): what a scan of every document would count, kept
// by PutDoc from OverviewChange in the transaction that changes a
// document, so the overview costs one read of a tenant's counters
// however many documents the store holds.
type OverviewTx interface {
	// Distribution is the tenant's counters: its delivered documents
	// per month, channel and kind, and its delivered invoices per life
	// state. Empty (not nil) maps when it has none.
	Distribution(tenant string) (*Distribution, error)
}

// Distribution is a tenant's overview counters.
type Distribution struct {
	// Sent counts the delivered documents that have a channel.
	Sent map[SentKey]int64
	// Life counts the delivered invoices by Doc.Life.
	Life map[string]int64
}

// SentKey is what the overview counts delivered documents by: the month
// the document arrived (its Created, "2006-01"), the channel it went on,
// and whether it is a reminder.
type SentKey struct {
	Month    string
	Channel  string
	Reminder bool
}

// OverviewCounter is one counter of the overview: a delivered document's
// (Life empty) or a delivered invoice's life state (Life set, Sent zero).
type OverviewCounter struct {
	Tenant string
	Sent   SentKey
	Life   string
}

// OverviewDelta is a change to one counter.
type OverviewDelta struct {
	Counter OverviewCounter
	N       int64
}

// overviewCounters are the counters a document adds one to: none, or
// one for a delivered document with a channel, and one for a delivered
// invoice.
func overviewCounters(d *Doc) []OverviewCounter {
	if d == nil || d.State != DocDelivered {
		return nil
	}
	var out []OverviewCounter
	if d.Channel != "" {
		out = append(out, OverviewCounter{Tenant: d.Tenant,
			Sent: SentKey{Month: d.Created.Format("2006-01"), Channel: d.Channel, Reminder: d.Kind == formats.KindReminder}})
	}
	if d.Kind == formats.KindInvoice {
		out = append(out, OverviewCounter{Tenant: d.Tenant, Life: d.Life()})
	}
	return out
}

// OverviewChange is how the overview's counters change when the document
// old (nil when new) is put as d: minus one where old counted, plus one
// where d counts, nothing where both count alike (a re-put, a summary
// or an erasure, which keep state, channel, kind and the month of
// Created). Both backends apply it in PutDoc.
func OverviewChange(old, d *Doc) []OverviewDelta {
	return OverviewDiff(overviewCounters(old), overviewCounters(d))
}

// OverviewCounters are the overview's counters a document adds one to
// (none for nil).
func OverviewCounters(d *Doc) []OverviewCounter { return overviewCounters(d) }

// OverviewDiff is how the overview's counters change when a document that
// counted in from comes to count in to (OverviewChange).
func OverviewDiff(from, to []OverviewCounter) []OverviewDelta {
	var out []OverviewDelta
	for _, c := range from {
		out = append(out, OverviewDelta{c, -1})
	}
next:
	for _, c := range to {
		for i, o := range out {
			if o.Counter == c && o.N < 0 {
				out = append(out[:i], out[i+1:]...)
				continue next
			}
		}
		out = append(out, OverviewDelta{c, 1})
	}
	return out
}

// Apply adds a change to the distribution of the counter's tenant (the
// caller keeps one distribution per tenant), dropping a counter that
// reaches zero.
func (d *Distribution) Apply(c OverviewCounter, n int64) {
	if c.Life != "" {
		if d.Life[c.Life] += n; d.Life[c.Life] <= 0 {
			delete(d.Life, c.Life)
		}
		return
	}
	if d.Sent[c.Sent] += n; d.Sent[c.Sent] <= 0 {
		delete(d.Sent, c.Sent)
	}
}

// NewDistribution is an empty distribution.
func NewDistribution() *Distribution {
	return &Distribution{Sent: map[SentKey]int64{}, Life: map[string]int64{}}
}
