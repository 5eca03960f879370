package postgres

import (
	"errors"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
)

// indexDunning moves a document in the dunning index from what it was
// (nil when new) to what it is, as the bbolt backend does: PutDoc calls
// it, so an invoice paid, credited, disputed or handed over leaves the
// index in the transaction that changed it.
func (t *pgTx) indexDunning(old, d *store.Doc) {
	from, wasIn := formats.Date{}, false
	if old != nil {
		from, wasIn = old.DunningDate()
	}
	to, isIn := d.DunningDate()
	switch {
	case wasIn == isIn && from == to:
	case isIn:
		t.queue(`INSERT INTO dunning (doc_id, tenant, due) VALUES ($1, $2, $3::date)
			ON CONFLICT (doc_id) DO UPDATE SET tenant = excluded.tenant, due = excluded.due`, d.ID, d.Tenant, to.String())
	default:
		t.queue("DELETE FROM dunning WHERE doc_id = $1", d.ID)
	}
}

// ForEachDunning reads a page of the index before calling fn on it, since
// fn may ask the transaction for more.
func (t *pgTx) ForEachDunning(tenant string, until formats.Date, fn func(docID string, due formats.Date) error) error {
	if until.IsZero() {
		return nil
	}
	lastDue, lastID := "0001-01-01", ""
	for {
		if err := t.flush(); err != nil {
			return err
		}
		rows, err := t.tx.Query(t.ctx(), `SELECT to_char(due, 'YYYY-MM-DD'), doc_id FROM dunning
			WHERE tenant = $1 AND due <= $2::date AND (due, doc_id) > ($3::date, $4)
			ORDER BY due, doc_id LIMIT 1000`, tenant, until.String(), lastDue, lastID)
		if err != nil {
			return dbErr(err)
		}
		type entry struct {
			id  string
			due formats.Date
		}
		var page []entry
		for rows.Next() {
			var due, id string
			if err := rows.Scan(&due, &id); err != nil {
				rows.Close()
				return err
			}
			at, err := formats.ParseDate(due)
			if err != nil {
				rows.Close()
				return err
			}
			page = append(page, entry{id, at})
			lastDue, lastID = due, id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return dbErr(err)
		}
		for _, e := range page {
			if err := fn(e.id, e.due); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
	}
}

func (t *pgTx) DunningRun(tenant string) (formats.Date, error) {
	v, err := t.one("dunning_runs", tenant, "SELECT to_char(day, 'YYYY-MM-DD') FROM dunning_runs WHERE tenant = $1", tenant)
	if errors.Is(err, store.ErrNotFound) {
		return formats.Date{}, nil
	}
	if err != nil {
		return formats.Date{}, err
	}
	return formats.ParseDate(string(v))
}

func (t *pgTx) SetDunningRun(tenant string, day formats.Date) error {
	if day.IsZero() {
		return errors.New("store: a dunning run needs its day")
	}
	t.remember("dunning_runs", tenant, []byte(day.String()))
	t.queue(`INSERT INTO dunning_runs (tenant, day) VALUES ($1, $2::date)
		ON CONFLICT (tenant) DO UPDATE SET day = excluded.day`, tenant, day.String())
	return nil
}
