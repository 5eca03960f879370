package gateway

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/store"
)

// errRead is a read the store could not do: an I/O error, a damaged page.
var errRead = errors.New("read failed: input/output error")

// faultyStore fails, while fail is set, the reads a View makes of
// documents' lists and of deliveries; writes are untouched.
type faultyStore struct {
	store.Store
	fail atomic.Bool
}

func (s *faultyStore) View(fn func(store.Tx) error) error {
	return s.Store.View(func(tx store.Tx) error {
		if s.fail.Load() {
			return fn(faultyTx{tx})
		}
		return fn(tx)
	})
}

type faultyTx struct{ store.Tx }

func (faultyTx) FileDocs(string, func(*store.Doc) error) error { return errRead }
func (faultyTx) Delivery(string) (*store.Delivery, error)      { return nil, errRead }

// A file read again after a stop skips the documents already recorded. When
// those cannot be read, nothing is recorded: recording them again would
// route and send them a second time. The file stays received, to be read
// at the next start.
func TestIngestRecordsNothingWhenItCannotReadWhatItRecorded(t *testing.T) {
	cfg := config.Default(t.TempDir())
	cfg.HTTP.Listen, cfg.SFTP.Listen, cfg.Public.Listen = "", "", ""
	d, err := New(Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.store.Close() })
	faulty := &faultyStore{Store: d.store}
	d.store = faulty
	body := exampleInvoices(t, "2025-1001", "2025-1003")
	if err := os.WriteFile(d.spoolPath("F0000001"), body, 0o640); err != nil {
		t.Fatal(err)
	}
	setFile := func(state store.FileState) {
		t.Helper()
		err := d.store.Update(func(tx store.Tx) error {
			return tx.PutFile(&store.File{ID: "F0000001", Tenant: "demo", Name: "two.csv", Size: int64(len(body)),
				SHA256: "x", ReceivedAt: time.Now().UTC(), State: state})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() (state store.FileState, docs map[string]store.Doc) {
		docs = map[string]store.Doc{}
		d.store.View(func(tx store.Tx) error {
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
	d.ingest(context.Background(), "F0000001")
	state, before := snapshot()
	if state != store.FileParsed || len(before) != 2 {
		t.Fatalf("first read: file %s, %d documents", state, len(before))
	}

	// Stopped before the file was recorded parsed; at the next start the
	// documents recorded cannot be read.
	setFile(store.FileReceived)
	faulty.fail.Store(true)
	d.ingest(context.Background(), "F0000001")
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
	d.ingest(context.Background(), "F0000001")
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

// Retention and erasure find a document's outbox files before its records
// go. When a delivery cannot be read they stop and change nothing: going on
// would remove the records and leave the files in the outbox with nothing
// to name them.
func TestUpkeepStopsWhenItCannotReadTheOutputs(t *testing.T) {
	for _, erase := range []bool{false, true} {
		name := map[bool]string{false: "sweep", true: "erase"}[erase]
		t.Run(name, func(t *testing.T) {
			d := startTestDaemon(t, nil, nil)
			faulty := &faultyStore{Store: d.store}
			d.store = faulty
			drop(t, d, "peppol.csv", exampleInvoices(t, "2025-1001"))
			f := waitFinal(t, d, "peppol.csv")
			docs, _, _ := docsOf(t, d, f.ID)
			if len(docs) != 1 || docs[0].Output == "" || !exists(docs[0].Output) {
				t.Fatalf("delivered document without its outbox file: %+v", docs)
			}
			doc := docs[0]
			run := func() error {
				if erase {
					_, err := d.Erase(context.Background(), "demo", EraseRequest{Key: "customer:10017", By: "test"})
					return err
				}
				if rep := d.upkeep.sweep(context.Background(), time.Now().Add(100*24*time.Hour)); rep.Error != "" {
					return errors.New(rep.Error)
				}
				return nil
			}
			faulty.fail.Store(true)
			err := run()
			faulty.fail.Store(false)
			after, bodies, _ := docsOf(t, d, f.ID)
			if err == nil || !after[0].Summarised.IsZero() || bodies != 1 || !exists(doc.Output) {
				t.Fatalf("with deliveries unreadable: err %v, summarised %v, body kept %v, outbox file kept %v; want an error and nothing changed",
					err, after[0].Summarised, bodies == 1, exists(doc.Output))
			}
			if err := run(); err != nil {
				t.Fatal(err)
			}
			after, bodies, _ = docsOf(t, d, f.ID)
			if after[0].Summarised.IsZero() || bodies != 0 || exists(doc.Output) {
				t.Errorf("readable again: summarised %v, %d bodies, outbox file there %v", after[0].Summarised, bodies, exists(doc.Output))
			}
		})
	}
}
