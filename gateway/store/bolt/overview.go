package bolt

import (
	"bytes"
	"encoding/binary"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/gateway/store"
)

// bOverview holds the counters of the tenants' distribution overviews
// (store.OverviewChange), kept by PutDoc:
//
//	tenant \x00 "s" \x00 month \x00 channel \x00 "r"|"d" -> delivered documents (reminders, or not)
//	tenant \x00 "l" \x00 life state                      -> delivered invoices
//
// A store from before it gets it built at its first open (buildOverview).
var bOverview = []byte("overview_counts")

func overviewKey(c store.OverviewCounter) string {
	if c.Life != "" {
		return c.Tenant + "\x00l\x00" + c.Life
	}
	kind := "d"
	if c.Sent.Reminder {
		kind = "r"
	}
	return c.Tenant + "\x00s\x00" + c.Sent.Month + "\x00" + c.Sent.Channel + "\x00" + kind
}

// countOverview moves a document in the overview's counters from what it
// was (nil when new) to what it is.
func countOverview(tx *bbolt.Tx, old *stored, d *store.Doc) error {
	b := tx.Bucket(bOverview)
	var from []store.OverviewCounter
	if old != nil {
		from = old.overview
	}
	for _, c := range store.OverviewDiff(from, store.OverviewCounters(d)) {
		if err := addCount(b, overviewKey(c.Counter), c.N); err != nil {
			return err
		}
	}
	return nil
}

// buildOverview counts the documents of a store from before the
// overview's counters: once, at its first open by a version that keeps
// them (about a second per 100,000 documents, as indexPayments).
func buildOverview(tx *bbolt.Tx) error {
	if tx.Bucket(bOverview) != nil {
		return nil
	}
	if _, err := tx.CreateBucket(bOverview); err != nil {
		return err
	}
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		return visit(bDocs, k, v, func(d *store.Doc) error { return countOverview(tx, nil, d) })
	})
}

func (t *boltTx) Distribution(tenant string) (*store.Distribution, error) {
	out := store.NewDistribution()
	prefix := []byte(tenant + "\x00")
	c := t.tx.Bucket(bOverview).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(v) != 8 {
			continue
		}
		n := int64(binary.BigEndian.Uint64(v))
		parts := strings.Split(string(k[len(prefix):]), "\x00")
		switch {
		case len(parts) == 2 && parts[0] == "l":
			out.Life[parts[1]] += n
		case len(parts) == 4 && parts[0] == "s":
			out.Sent[store.SentKey{Month: parts[1], Channel: parts[2], Reminder: parts[3] == "r"}] += n
		}
	}
	return out, nil
}
