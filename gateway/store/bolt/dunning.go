package bolt

import (
	"bytes"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// bDunning indexes the invoices a reminder may be due for: tenant \x00
// date \x00 doc id -> nothing, the date their last step fell due
// (store.Doc.DunningDate). PutDoc keeps it.
var bDunning = []byte("dunning")

// bDunningRuns holds tenant -> the last day its reminders were made.
var bDunningRuns = []byte("dunning_runs")

func (t *boltTx) DunningRun(tenant string) (formats.Date, error) {
	v := t.tx.Bucket(bDunningRuns).Get([]byte(tenant))
	if v == nil {
		return formats.Date{}, nil
	}
	return formats.ParseDate(string(v))
}

func (t *boltTx) SetDunningRun(tenant string, day formats.Date) error {
	return t.tx.Bucket(bDunningRuns).Put([]byte(tenant), []byte(day.String()))
}

func dunningKey(tenant string, at formats.Date, docID string) []byte {
	return []byte(tenant + "\x00" + at.String() + "\x00" + docID)
}

// indexDunning moves a document in the dunning index from what it was
// (nil when new) to what it is.
func indexDunning(tx *bbolt.Tx, old *stored, d *store.Doc) error {
	b := tx.Bucket(bDunning)
	from, wasIn := formats.Date{}, false
	if old != nil {
		from, wasIn = old.dunning, old.dunningIn
	}
	to, isIn := d.DunningDate()
	if wasIn == isIn && from == to {
		return nil
	}
	if wasIn {
		if err := b.Delete(dunningKey(old.tenant, from, old.id)); err != nil {
			return err
		}
	}
	if isIn {
		return b.Put(dunningKey(d.Tenant, to, d.ID), nil)
	}
	return nil
}

// buildDunning builds the index of a store from before it: once, at its
// first open by a version that keeps it.
func buildDunning(tx *bbolt.Tx) error {
	if tx.Bucket(bDunning) != nil {
		return nil
	}
	if _, err := tx.CreateBucket(bDunning); err != nil {
		return err
	}
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		return visit(bDocs, k, v, func(d *store.Doc) error { return indexDunning(tx, nil, d) })
	})
}

func (t *boltTx) ForEachDunning(tenant string, until formats.Date, fn func(docID string, due formats.Date) error) error {
	prefix := []byte(tenant + "\x00")
	end := []byte(tenant + "\x00" + until.String() + "\x01")
	c := t.tx.Bucket(bDunning).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		date, id, _ := strings.Cut(string(k[len(prefix):]), "\x00")
		at, err := formats.ParseDate(date)
		if err != nil {
			continue
		}
		if err := fn(id, at); err != nil {
			return err
		}
	}
	return nil
}
