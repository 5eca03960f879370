package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/multikanal/multikanal/gateway/store"
)

// loadPseudonymKey reads HashKey's key, making it on first use; every
// node reads the same one.
func (s *Store) loadPseudonymKey() ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	if err := s.exec(ctx, "INSERT INTO meta (key, value) VALUES ('pseudonym_key', $1) ON CONFLICT (key) DO NOTHING", k); err != nil {
		return nil, err
	}
	var got []byte
	if err := s.pool.QueryRow(ctx, "SELECT value FROM meta WHERE key = 'pseudonym_key'").Scan(&got); err != nil {
		return nil, err
	}
	if len(got) != 32 {
		return nil, fmt.Errorf("the pseudonym key in table meta has %d bytes, not 32", len(got))
	}
	return got, nil
}

// HashKey is HMAC-SHA256 of "type:value" under the store's own key, cut
// to 96 bits, as the bbolt backend's.
func (s *Store) HashKey(k store.RecipientKey) string {
	m := hmac.New(sha256.New, s.pseudonymKey)
	m.Write([]byte(k.String()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

// deliveryRanges are the key ranges of a document's deliveries:
// "<doc id>.<channel>" and a resend's "<doc id>-rN.<channel>".
func deliveryRanges(docID string) [][2]string {
	return [][2]string{{docID + ".", prefixEnd(docID + ".")}, {docID + "-r", prefixEnd(docID + "-r")}}
}

func (t *pgTx) RemovePayload(d *store.Doc) (store.Removed, error) {
	var rm store.Removed
	if !d.State.End() || !d.Collection.End() {
		return rm, fmt.Errorf("%s is %s: %w", d.ID, d.State, store.ErrNotFinal)
	}
	if err := t.flush(); err != nil {
		return rm, err
	}
	for _, r := range deliveryRanges(d.ID) {
		var id string
		err := t.tx.QueryRow(t.ctx(), "SELECT id FROM deliveries WHERE pending AND id >= $1 AND id < $2 LIMIT 1", r[0], r[1]).Scan(&id)
		if err == nil {
			return rm, fmt.Errorf("%s has delivery %s pending: %w", d.ID, id, store.ErrNotFinal)
		}
	}
	var n, size int64
	err := t.tx.QueryRow(t.ctx(), `WITH gone AS (DELETE FROM bodies WHERE doc_id = $1 RETURNING octet_length(body::text) AS size)
		SELECT count(*), coalesce(sum(size), 0)::bigint FROM gone`, d.ID).Scan(&n, &size)
	if err != nil {
		return rm, dbErr(err)
	}
	rm.Bodies, rm.Bytes = int(n), size
	t.remember("bodies", d.ID, nil)
	err = t.tx.QueryRow(t.ctx(), `WITH gone AS (DELETE FROM events WHERE doc_id = $1 RETURNING octet_length(rec::text) AS size)
		SELECT count(*), coalesce(sum(size), 0)::bigint FROM gone`, d.ID).Scan(&n, &size)
	if err != nil {
		return rm, dbErr(err)
	}
	rm.Events, rm.Bytes = int(n), rm.Bytes+size
	for _, r := range deliveryRanges(d.ID) {
		err = t.tx.QueryRow(t.ctx(), `WITH gone AS (DELETE FROM deliveries WHERE id >= $1 AND id < $2 RETURNING octet_length(rec::text) + length(id) AS size)
			SELECT count(*), coalesce(sum(size), 0)::bigint FROM gone`, r[0], r[1]).Scan(&n, &size)
		if err != nil {
			return rm, dbErr(err)
		}
		rm.Deliveries, rm.Bytes = rm.Deliveries+int(n), rm.Bytes+size
		t.forgetPrefix("deliveries", r[0])
	}
	return rm, nil
}

func (t *pgTx) DropFileHash(f *store.File) error {
	id, err := t.one("file_hashes", f.Tenant+"\x00"+f.SHA256, "SELECT file_id FROM file_hashes WHERE tenant = $1 AND sha256 = $2", f.Tenant, f.SHA256)
	if err != nil || string(id) != f.ID {
		return nil
	}
	t.remember("file_hashes", f.Tenant+"\x00"+f.SHA256, nil)
	t.queue("DELETE FROM file_hashes WHERE tenant = $1 AND sha256 = $2 AND file_id = $3", f.Tenant, f.SHA256, f.ID)
	return nil
}

func (t *pgTx) RemoveRegistration(r *store.Registration) error {
	for _, k := range r.Keys {
		t.queue("DELETE FROM registration_keys WHERE tenant = $1 AND key = $2 AND id = $3", r.Tenant, k.String(), r.ID)
	}
	t.queue("DELETE FROM registrations WHERE tenant = $1 AND id = $2", r.Tenant, r.ID)
	return nil
}

func (t *pgTx) RemoveCollectionRefs(tenant, payer, docID string) (int, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	tag, err := t.tx.Exec(t.ctx(), "DELETE FROM collection_refs WHERE tenant = $1 AND payer = $2 AND doc_id = $3", tenant, payer, docID)
	if err != nil {
		return 0, dbErr(err)
	}
	t.forgetPrefix("collection_refs", tenant+"\x00"+payer+"\x00")
	return int(tag.RowsAffected()), nil
}

// Compact has nothing to do: PostgreSQL's autovacuum makes the space of
// removed rows reusable as the database runs. It reports the size.
func (s *Store) Compact() (store.CompactStats, error) {
	size := s.Size()
	return store.CompactStats{BytesBefore: size, BytesAfter: size}, nil
}

// FreeBytes is 0: what autovacuum frees is reused by the database, not
// given back by a compaction.
func (s *Store) FreeBytes() int64 { return 0 }
