package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"
	bbolt "go.etcd.io/bbolt"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

func (t *boltTx) Doc(id string) (*store.Doc, error) {
	var d store.Doc
	if err := t.get(bDocs, id, &d); err != nil {
		return nil, err
	}
	if t.tx.Writable() {
		t.mark(&d)
	}
	return &d, nil
}

// stored is what PutDoc needs of a document's stored version to move it
// in the counters and indexes: its state and channel, its payment state,
// its place in the dunning index and the overview's counters. A write
// transaction notes it when it reads the document (Doc) and when it puts
// it (PutDoc), so that putting back a document it read does not decode
// the stored one a second time: that was a decode of ~1.5 KB of JSON per
// delivery outcome on the one goroutine that commits.
type stored struct {
	tenant, id string
	state      store.DocState
	channel    string
	payment    store.PaymentState
	dunning    formats.Date
	dunningIn  bool
	overview   []store.OverviewCounter
}

func storedOf(d *store.Doc) *stored {
	s := &stored{tenant: d.Tenant, id: d.ID, state: d.State, channel: d.Channel, payment: d.PaymentState(),
		overview: store.OverviewCounters(d)}
	s.dunning, s.dunningIn = d.DunningDate()
	return s
}

// mark notes d as the stored version of its document in this transaction.
func (t *boltTx) mark(d *store.Doc) {
	if t.marks == nil {
		t.marks = map[string]*stored{}
	}
	t.marks[d.ID] = storedOf(d)
}

// PutDoc stores the document and keeps the state × channel counters that
// status reads without scanning every document, the counters per
// payment state and the overview's (overview.go).
func (t *boltTx) PutDoc(d *store.Doc) error {
	if err := indexAttention(t.tx, d); err != nil {
		return err
	}
	counts := t.tx.Bucket(bCounts)
	old := t.marks[d.ID]
	if old == nil {
		// Not read in this transaction: the stored version, if any, is
		// read now (Doc notes it).
		if _, err := t.Doc(d.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		old = t.marks[d.ID]
	}
	if err := countPayment(t.tx, old, d); err != nil {
		return err
	}
	if err := indexDunning(t.tx, old, d); err != nil {
		return err
	}
	if err := countOverview(t.tx, old, d); err != nil {
		return err
	}
	if old == nil || old.state != d.State || old.channel != d.Channel {
		if old != nil {
			if err := addCount(counts, countKey(old.state, old.channel), -1); err != nil {
				return err
			}
		}
		if err := addCount(counts, countKey(d.State, d.Channel), 1); err != nil {
			return err
		}
	}
	if err := t.put(bDocs, d.ID, d); err != nil {
		return err
	}
	t.mark(d)
	return nil
}

func countKey(s store.DocState, channel string) string { return string(s) + "|" + channel }

func addCount(b *bbolt.Bucket, key string, delta int64) error {
	var n int64
	if v := b.Get([]byte(key)); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += delta
	if n <= 0 {
		return b.Delete([]byte(key))
	}
	return b.Put([]byte(key), binary.BigEndian.AppendUint64(nil, uint64(n)))
}

func (t *boltTx) Counts() (map[store.DocState]map[string]int64, error) {
	out := map[store.DocState]map[string]int64{}
	err := t.tx.Bucket(bCounts).ForEach(func(k, v []byte) error {
		state, channel, _ := strings.Cut(string(k), "|")
		if out[store.DocState(state)] == nil {
			out[store.DocState(state)] = map[string]int64{}
		}
		out[store.DocState(state)][channel] = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return out, err
}

func (t *boltTx) Body(docID string) (*formats.Document, error) {
	var d formats.Document
	if err := t.get(bBodies, docID, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (t *boltTx) PutBody(docID string, doc *formats.Document) error {
	return t.put(bBodies, docID, doc)
}

func (t *boltTx) FileDocs(fileID string, fn func(*store.Doc) error) error {
	return forEach(t, bDocs, fileID+"-", fn)
}

func (t *boltTx) AppendEvent(d *store.Doc, e store.Event) error {
	key := append([]byte(d.ID+"\x00"), binary.BigEndian.AppendUint32(nil, uint32(d.Events))...)
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := t.tx.Bucket(bEvents).Put(key, data); err != nil {
		return err
	}
	if erp, ok := store.ERPEventOf(d, e); ok {
		if err := logERP(t.tx, erp); err != nil {
			return err
		}
	}
	d.Events++
	return nil
}

func (t *boltTx) Events(docID string) ([]store.Event, error) {
	var out []store.Event
	err := forEach(t, bEvents, docID+"\x00", func(e *store.Event) error {
		out = append(out, *e)
		return nil
	})
	return out, err
}

func (t *boltTx) PutNumberRef(tenant, number, docID string) error {
	return t.tx.Bucket(bNumbers).Put([]byte(tenant+"\x00"+number), []byte(docID))
}

func (t *boltTx) NumberRef(tenant, number string) (string, error) {
	v := t.tx.Bucket(bNumbers).Get([]byte(tenant + "\x00" + number))
	if v == nil {
		return "", store.ErrNotFound
	}
	return string(v), nil
}

func docKey(tenant string, k store.DocKey) []byte {
	return []byte(tenant + "\x00" + k.Seller + "\x00" + k.Kind + "\x00" + k.Number)
}

func (t *boltTx) PutDocKey(tenant string, k store.DocKey, docID string) error {
	b := t.tx.Bucket(bDocKeys)
	if b.Get(docKey(tenant, k)) != nil {
		return nil
	}
	return b.Put(docKey(tenant, k), []byte(docID))
}

func (t *boltTx) DocByKey(tenant string, k store.DocKey) (string, error) {
	v := t.tx.Bucket(bDocKeys).Get(docKey(tenant, k))
	if v == nil {
		return "", store.ErrNotFound
	}
	return string(v), nil
}

// indexDocKeys builds the duplicate index of a store from before it, once,
// at its first open by a version that keeps it: every document that was
// routed (not rejected or held, which never went out) is recorded under
// its key, the first of each key winning, so an invoice sent before the
// upgrade is recognised after it.
func indexDocKeys(tx *bbolt.Tx) error {
	if tx.Bucket(bDocKeys) != nil {
		return nil
	}
	keys, err := tx.CreateBucket(bDocKeys)
	if err != nil {
		return err
	}
	bodies := tx.Bucket(bBodies)
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		return visit(bDocs, k, v, func(d *store.Doc) error {
			if d.State == store.DocRejected || d.State == store.DocHeld || d.State == store.DocReceived || d.State == store.DocParsed {
				return nil
			}
			data := bodies.Get(k)
			if data == nil {
				return nil
			}
			// Only what the key needs is decoded: a body is a whole invoice.
			var body struct {
				Kind   formats.Kind  `json:"kind"`
				Number string        `json:"number"`
				Seller formats.Party `json:"seller"`
			}
			if err := json.Unmarshal(data, &body); err != nil {
				return fmt.Errorf("store: record %s/%s: %w", bBodies, k, err)
			}
			dk, ok := store.DocKeyOf(&formats.Document{Kind: body.Kind, Number: body.Number, Seller: body.Seller})
			if !ok || keys.Get(docKey(d.Tenant, dk)) != nil {
				return nil
			}
			return keys.Put(docKey(d.Tenant, dk), k)
		})
	})
}
