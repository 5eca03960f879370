package postgres

import (
	"errors"
	"fmt"

	"github.com/multikanal/multikanal/gateway/store"
)

func (t *pgTx) NextFileID() (string, error) {
	var n int64
	if err := t.tx.QueryRow(t.ctx(), "SELECT nextval('file_ids')").Scan(&n); err != nil {
		return "", dbErr(err)
	}
	return fmt.Sprintf("F%07d", n), nil
}

func (t *pgTx) File(id string) (*store.File, error) {
	var f store.File
	if err := t.get("files", id, &f, "SELECT rec FROM files WHERE id = $1", id); err != nil {
		return nil, err
	}
	return &f, nil
}

// PutFile records the file and its indexes. A new file belongs to the
// node that records it (it claimed it); a later write leaves the owner.
func (t *pgTx) PutFile(f *store.File) error {
	if f.SHA256 != "" && f.State != store.FileDuplicate && f.DuplicateOf == "" && !f.Refused {
		t.remember("file_hashes", f.Tenant+"\x00"+f.SHA256, []byte(f.ID))
		t.queue(`INSERT INTO file_hashes (tenant, sha256, file_id) VALUES ($1, $2, $3)
			ON CONFLICT (tenant, sha256) DO UPDATE SET file_id = excluded.file_id`, f.Tenant, f.SHA256, f.ID)
	}
	old, err := t.File(f.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if old == nil || old.State != f.State {
		if old != nil {
			t.count("file", string(old.State), "", -1)
		}
		t.count("file", string(f.State), "", 1)
	}
	data, err := marshal(f)
	if err != nil {
		return err
	}
	t.remember("files", f.ID, data)
	t.queue(`INSERT INTO files (id, tenant, state, final, owner, rec) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, state = excluded.state, final = excluded.final, rec = excluded.rec`,
		f.ID, f.Tenant, string(f.State), f.Final, t.s.owner, data)
	return nil
}

func (t *pgTx) FileByHash(tenant, sha string) (*store.File, error) {
	id, err := t.one("file_hashes", tenant+"\x00"+sha, "SELECT file_id FROM file_hashes WHERE tenant = $1 AND sha256 = $2", tenant, sha)
	if err != nil {
		return nil, err
	}
	return t.File(string(id))
}

func (t *pgTx) ForEachFile(fn func(*store.File) error) error { return t.ForEachFileAfter("", fn) }

func (t *pgTx) ForEachFileAfter(after string, fn func(*store.File) error) error {
	first := true
	return pages(t, "files", func(last string) (string, []any) {
		if first {
			first = false
			last = after
		}
		return "SELECT id, rec FROM files WHERE id > $1 ORDER BY id LIMIT 1000", []any{last}
	}, fn)
}

func (t *pgTx) ForEachFileNewestFirst(fn func(*store.File) error) error {
	first := true
	return pages(t, "files", func(last string) (string, []any) {
		if first {
			first = false
			return "SELECT id, rec FROM files ORDER BY id DESC LIMIT 1000", nil
		}
		return "SELECT id, rec FROM files WHERE id < $1 ORDER BY id DESC LIMIT 1000", []any{last}
	}, fn)
}

func (t *pgTx) ForEachOpenFile(fn func(*store.File) error) error {
	return pages(t, "files", func(last string) (string, []any) {
		return "SELECT id, rec FROM files WHERE NOT final AND id > $1 ORDER BY id LIMIT 1000", []any{last}
	}, fn)
}

func (t *pgTx) FileCounts() (map[store.FileState]int64, error) {
	sums, err := t.sums("file")
	out := map[store.FileState]int64{}
	for k, n := range sums {
		out[store.FileState(k[0])] = n
	}
	return out, err
}
