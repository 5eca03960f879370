package gateway

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// discardTransport accepts every message and keeps none.
type discardTransport struct{}

func (discardTransport) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	return outbound.Sent{Ref: "discarded:" + m.Name}, nil
}

// TestLargeFileDoesNotHoldOtherTenants: files were read one at a time, so
// one tenant's large file (a 100,000-entry ZIP) delayed another tenant's
// single invoice by 8.6 s. A tenant's file is read beside another's: the
// single invoice dropped while the large file is being read is recorded
// before the large file is done.
func TestLargeFileDoesNotHoldOtherTenants(t *testing.T) {
	d := startTestDaemon(t, func(c *config.Config) {
		other := c.Tenants[0]
		other.ID, other.SFTPAuthorizedKeys, other.Agreements = "other", "", nil
		c.Tenants = append(c.Tenants, other)
		// The large file's invoices are read, checked and recorded, and
		// then held: sending 20,000 would outlast the test.
		c.Tenants[0].DoNotSend = []string{"10017"}
	}, nil)
	for _, l := range d.lanes {
		p := *l.Get()
		p.Transport = discardTransport{}
		l.Set(&p)
	}
	const large = 20_000
	drop(t, d, "large.csv", exampleBatch(t, "2025-1001", large))
	files := func() map[string]*store.File {
		m := map[string]*store.File{}
		d.store.View(func(tx store.Tx) error {
			return tx.ForEachFile(func(f *store.File) error { m[f.Name] = f; return nil })
		})
		return m
	}
	docs := func(fileID string) []*store.Doc {
		var out []*store.Doc
		d.store.View(func(tx store.Tx) error {
			return tx.FileDocs(fileID, func(doc *store.Doc) error { out = append(out, doc); return nil })
		})
		return out
	}
	// The large file is being read once its first documents are recorded.
	var big *store.File
	waitUntil(t, func() bool {
		big = files()["large.csv"]
		return big != nil && len(docs(big.ID)) > 0
	})
	if f := files()["large.csv"]; f.State != store.FileReceived {
		t.Fatalf("the large file was read (%s) before the single invoice could be dropped: make it larger", f.State)
	}
	single := exampleInvoices(t, "2025-1003")
	tmp := filepath.Join(d.inboxDir("other"), ".single.csv")
	if err := os.WriteFile(tmp, single, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(d.inboxDir("other"), "single.csv")); err != nil {
		t.Fatal(err)
	}
	var one *store.File
	deadline := time.Now().Add(5 * time.Minute)
	for {
		fs := files()
		one, big = fs["single.csv"], fs["large.csv"]
		if one != nil && one.State != store.FileReceived && one.State != store.FileClaimed && big.State != store.FileReceived {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("files not read: single %v, large %s", one, big.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Order, from the records: the single invoice was recorded before
	// the last documents of the large file.
	oneDocs, bigDocs := docs(one.ID), docs(big.ID)
	if len(oneDocs) != 1 || len(bigDocs) != large {
		t.Fatalf("%d and %d documents recorded, want 1 and %d", len(oneDocs), len(bigDocs), large)
	}
	var last time.Time
	for _, doc := range bigDocs {
		if doc.Created.After(last) {
			last = doc.Created
		}
	}
	if !oneDocs[0].Created.Before(last) {
		t.Errorf("the single invoice was recorded at %s, after the large file's last documents (%s)",
			oneDocs[0].Created.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))
	}
	t.Logf("single invoice recorded %v before the large file's last documents", last.Sub(oneDocs[0].Created))
}
