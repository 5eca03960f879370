package postgres

import (
	"errors"
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

func (t *pgTx) Doc(id string) (*store.Doc, error) {
	var d store.Doc
	if err := t.get("docs", id, &d, "SELECT rec FROM docs WHERE id = $1", id); err != nil {
		return nil, err
	}
	return &d, nil
}

// PutDoc records the document and moves it between the counts per state
// and channel, per payment state and of the overview, and in the dunning
// index; attention marks a dead document no operator acknowledged.
func (t *pgTx) PutDoc(d *store.Doc) error {
	old, err := t.Doc(d.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if old == nil || old.State != d.State || old.Channel != d.Channel {
		if old != nil {
			t.count("doc", string(old.State), old.Channel, -1)
		}
		t.count("doc", string(d.State), d.Channel, 1)
	}
	var from store.PaymentState
	if old != nil {
		from = old.PaymentState()
	}
	if to := d.PaymentState(); from != to {
		if from != "" {
			t.count("payment", string(from), "", -1)
		}
		if to != "" {
			t.count("payment", string(to), "", 1)
		}
	}
	t.indexDunning(old, d)
	t.countOverview(old, d)
	data, err := marshal(d)
	if err != nil {
		return err
	}
	t.remember("docs", d.ID, data)
	t.queue(`INSERT INTO docs (id, attention, rec) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET attention = excluded.attention, rec = excluded.rec`,
		d.ID, d.State == store.DocDead && d.Ack == nil, data)
	return nil
}

func (t *pgTx) Counts() (map[store.DocState]map[string]int64, error) {
	sums, err := t.sums("doc")
	out := map[store.DocState]map[string]int64{}
	for k, n := range sums {
		s := store.DocState(k[0])
		if out[s] == nil {
			out[s] = map[string]int64{}
		}
		out[s][k[1]] = n
	}
	return out, err
}

func (t *pgTx) Body(docID string) (*formats.Document, error) {
	var d formats.Document
	if err := t.get("bodies", docID, &d, "SELECT body FROM bodies WHERE doc_id = $1", docID); err != nil {
		return nil, err
	}
	return &d, nil
}

func (t *pgTx) PutBody(docID string, doc *formats.Document) error {
	data, err := marshal(doc)
	if err != nil {
		return err
	}
	t.remember("bodies", docID, data)
	t.queue(`INSERT INTO bodies (doc_id, body) VALUES ($1, $2) ON CONFLICT (doc_id) DO UPDATE SET body = excluded.body`, docID, data)
	return nil
}

func (t *pgTx) FileDocs(fileID string, fn func(*store.Doc) error) error {
	return fileDocs(t, fileID, "", fn)
}

// fileDocs visits a file's documents after the document after ("" for
// all), in file order.
func fileDocs(t *pgTx, fileID, after string, fn func(*store.Doc) error) error {
	prefix := fileID + "-"
	if after == "" || after < prefix {
		after = prefix
	}
	first := true
	return pages(t, "docs", func(last string) (string, []any) {
		if first {
			first = false
			last = after
		}
		return "SELECT id, rec FROM docs WHERE id > $1 AND id < $2 ORDER BY id LIMIT 1000", []any{last, prefixEnd(prefix)}
	}, fn)
}

func (t *pgTx) AppendEvent(d *store.Doc, e store.Event) error {
	data, err := marshal(e)
	if err != nil {
		return err
	}
	t.queue("INSERT INTO events (doc_id, seq, rec) VALUES ($1, $2, $3) ON CONFLICT (doc_id, seq) DO UPDATE SET rec = excluded.rec", d.ID, d.Events, data)
	if erp, ok := store.ERPEventOf(d, e); ok {
		t.logERP(erp)
	}
	d.Events++
	return nil
}

func (t *pgTx) Events(docID string) ([]store.Event, error) {
	keys, vals, err := t.rows("SELECT seq::text, rec FROM events WHERE doc_id = $1 ORDER BY seq", docID)
	if err != nil {
		return nil, err
	}
	out := make([]store.Event, 0, len(vals))
	for i, v := range vals {
		var e store.Event
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("store: record events/%s/%s: %w", docID, keys[i], err)
		}
		out = append(out, e)
	}
	return out, nil
}

// NeedsAttention returns the newest limit unacknowledged dead documents
// (document ids sort by file, so the greatest are the newest) and their
// number.
func (t *pgTx) NeedsAttention(limit int) ([]*store.Doc, int, error) {
	if err := t.flush(); err != nil {
		return nil, 0, err
	}
	var n int
	if err := t.tx.QueryRow(t.ctx(), "SELECT count(*) FROM docs WHERE attention").Scan(&n); err != nil {
		return nil, 0, dbErr(err)
	}
	keys, vals, err := t.rows("SELECT id, rec FROM docs WHERE attention ORDER BY id DESC LIMIT $1", limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*store.Doc, 0, len(vals))
	for i, v := range vals {
		var d store.Doc
		if err := json.Unmarshal(v, &d); err != nil {
			return nil, 0, fmt.Errorf("store: record docs/%s: %w", keys[i], err)
		}
		out = append(out, &d)
	}
	return out, n, nil
}

func (t *pgTx) PutNumberRef(tenant, number, docID string) error {
	t.remember("number_refs", tenant+"\x00"+number, []byte(docID))
	t.queue(`INSERT INTO number_refs (tenant, number, doc_id) VALUES ($1, $2, $3)
		ON CONFLICT (tenant, number) DO UPDATE SET doc_id = excluded.doc_id`, tenant, number, docID)
	return nil
}

func (t *pgTx) NumberRef(tenant, number string) (string, error) {
	v, err := t.one("number_refs", tenant+"\x00"+number, "SELECT doc_id FROM number_refs WHERE tenant = $1 AND number = $2", tenant, number)
	return string(v), err
}

func docKeyKey(tenant string, k store.DocKey) string {
	return tenant + "\x00" + k.Seller + "\x00" + k.Kind + "\x00" + k.Number
}

// PutDocKey keeps the first document of a key. Two nodes that record one
// key at once conflict on it, and the later one's transaction runs again
// and finds the first's.
func (t *pgTx) PutDocKey(tenant string, k store.DocKey, docID string) error {
	if _, err := t.DocByKey(tenant, k); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	t.remember("doc_keys", docKeyKey(tenant, k), []byte(docID))
	t.queue(`INSERT INTO doc_keys (tenant, seller, kind, number, doc_id) VALUES ($1, $2, $3, $4, $5)`, tenant, k.Seller, k.Kind, k.Number, docID)
	return nil
}

func (t *pgTx) DocByKey(tenant string, k store.DocKey) (string, error) {
	v, err := t.one("doc_keys", docKeyKey(tenant, k), "SELECT doc_id FROM doc_keys WHERE tenant = $1 AND seller = $2 AND kind = $3 AND number = $4",
		tenant, k.Seller, k.Kind, k.Number)
	return string(v), err
}
