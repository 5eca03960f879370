package gateway

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/bolt"
	"github.com/multikanal/multikanal/gateway/upkeep"
)

// errRead is a read the store could not do: an I/O error, a damaged page.
var errRead = errors.New("read failed: input/output error")

// faultyStore fails, while fail is set, the reads a View makes of
// documents' lists and of deliveries; writes are untouched.
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
func (faultyTx) Delivery(string) (*store.Delivery, error)      { return nil, errRead }

// Retention and erasure find a document's outbox files before its records
// go. When a delivery cannot be read they stop and change nothing: going on
// would remove the records and leave the files in the outbox with nothing
// to name them.
func TestUpkeepStopsWhenItCannotReadTheOutputs(t *testing.T) {
	for _, erase := range []bool{false, true} {
		name := map[bool]string{false: "sweep", true: "erase"}[erase]
		t.Run(name, func(t *testing.T) {
			d := startTestDaemon(t, nil, nil)
			faulty := &faultyStore{Bolt: d.store.(*bolt.Bolt)}
			// An upkeep of its own over the faulty store, beside the
			// daemon's (its metrics in a registry of their own).
			u := upkeep.New(upkeep.Options{Store: faulty, DataDir: d.dataDir, Config: d.live.Load, Tenant: d.tenant,
				Receipts: d.receipts, Registerer: prometheus.NewRegistry(), Log: d.log})
			drop(t, d, "peppol.csv", exampleInvoices(t, "2025-1001"))
			f := waitFinal(t, d, "peppol.csv")
			docs, _, _ := docsOf(t, d, f.ID)
			if len(docs) != 1 || docs[0].Output == "" || !exists(docs[0].Output) {
				t.Fatalf("delivered document without its outbox file: %+v", docs)
			}
			doc := docs[0]
			run := func() error {
				if erase {
					_, err := u.Erase(context.Background(), "demo", api.EraseRequest{Key: "customer:10017", By: "test"})
					return err
				}
				if rep := u.Sweep(context.Background(), time.Now().Add(100*24*time.Hour)); rep.Error != "" {
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
