package intake

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/bolt"
	"github.com/multikanal/multikanal/outbound/channels"
)

// errRead is a read the store could not do: an I/O error, a damaged page.
var errRead = errors.New("read failed: input/output error")

// faultyStore fails, while fail is set, the reads a View makes of a
// file's documents; writes are untouched.
type faultyStore struct {
	*bolt.Bolt
	fail atomic.Bool
}

func (s *faultyStore) View(fn func(store.Tx) error) error {
	return s.Bolt.View(func(tx store.Tx) error {
		if s.fail.Load() {
			return fn(faultyTx{tx})
		}
		return fn(tx)
	})
}

type faultyTx struct{ store.Tx }

func (faultyTx) FileDocs(string, func(*store.Doc) error) error { return errRead }

// nothing is every dependency that only listens.
type nothing struct{}

func (nothing) Enqueue(*store.Delivery)              {}
func (nothing) CutoffEndOfFile(string)               {}
func (nothing) Touch(string)                         {}
func (nothing) FileReceived(string)                  {}
func (nothing) FileRejected(string, string)          {}
func (nothing) DocumentState(string, store.DocState) {}

// exampleInvoices are the example CSV's invoices with these numbers.
func exampleInvoices(t testing.TB, numbers ...string) []byte {
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	body := []byte(lines[0] + "\n")
	for _, l := range lines[1:] {
		for _, n := range numbers {
			if strings.SplitN(l, ";", 3)[1] == n {
				body = append(body, l+"\n"...)
			}
		}
	}
	return body
}

// A file read again after a stop skips the documents already recorded. When
// those cannot be read, nothing is recorded: recording them again would
// route and send them a second time. The file stays received, to be read
// at the next start.
func TestIngestRecordsNothingWhenItCannotReadWhatItRecorded(t *testing.T) {
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	faulty := &faultyStore{Bolt: st}
	tenant := config.Default(dir, channels.All()).Tenants[0]
	in := New(Options{Store: faulty, SpoolDir: dir, Tenant: func(string) (config.Tenant, bool) { return tenant, true },
		Readers: func() []formats.Reader { return []formats.Reader{csv.Format{}} }, Channels: route.ChannelList{}, OverQuota: func() string { return "" },
		Delivery: nothing{}, Receipts: nothing{}, Metrics: nothing{}, Log: slog.New(slog.DiscardHandler)})
	body := exampleInvoices(t, "2025-1001", "2025-1003")
	if err := os.WriteFile(in.spoolPath("F0000001"), body, 0o640); err != nil {
		t.Fatal(err)
	}
	setFile := func(state store.FileState) {
		t.Helper()
		err := in.Store.Update(func(tx store.Tx) error {
			return tx.PutFile(&store.File{ID: "F0000001", Tenant: "demo", Name: "two.csv", Size: int64(len(body)),
				SHA256: "x", ReceivedAt: time.Now().UTC(), State: state})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() (state store.FileState, docs map[string]store.Doc) {
		docs = map[string]store.Doc{}
		in.Store.View(func(tx store.Tx) error {
			f, err := tx.File("F0000001")
			if err != nil {
				return err
			}
			state = f.State
			return tx.FileDocs("F0000001", func(doc *store.Doc) error { docs[doc.ID] = *doc; return nil })
		})
		return state, docs
	}
	setFile(store.FileReceived)
	in.ingest(context.Background(), "F0000001")
	state, before := snapshot()
	if state != store.FileParsed || len(before) != 2 {
		t.Fatalf("first read: file %s, %d documents", state, len(before))
	}

	// Stopped before the file was recorded parsed; at the next start the
	// documents recorded cannot be read.
	setFile(store.FileReceived)
	faulty.fail.Store(true)
	in.ingest(context.Background(), "F0000001")
	faulty.fail.Store(false)
	state, after := snapshot()
	if state != store.FileReceived {
		t.Errorf("file is %s after a read that failed; want received, to be read again", state)
	}
	for id, doc := range before {
		if a := after[id]; !a.Created.Equal(doc.Created) || a.Events != doc.Events || a.State != doc.State {
			t.Errorf("document %s recorded again: created %v → %v, events %d → %d", id, doc.Created, a.Created, doc.Events, a.Events)
		}
	}

	// The next read, with the store readable, skips both and finishes.
	in.ingest(context.Background(), "F0000001")
	state, after = snapshot()
	if state != store.FileParsed || len(after) != 2 {
		t.Fatalf("read again: file %s, %d documents", state, len(after))
	}
	for id, doc := range before {
		if a := after[id]; !a.Created.Equal(doc.Created) || a.Events != doc.Events {
			t.Errorf("document %s recorded again on the good read", id)
		}
	}
}
