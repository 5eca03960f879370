package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/postgres/pgtest"
)

// An empty database is refused until migrated; migrating twice applies
// nothing the second time; a schema newer than the binary is refused.
func TestMigrations(t *testing.T) {
	dsn := pgtest.DSN(t)
	if _, err := Open(Options{DSN: dsn}); err == nil || !strings.Contains(err.Error(), "multikanal migrate") {
		t.Fatalf("opening an empty database: %v, want a hint to run multikanal migrate", err)
	}
	s := open(t, Options{DSN: dsn})
	done, err := Migrate(context.Background(), s.pool)
	if err != nil || len(done) != 0 {
		t.Errorf("a second migration applied %v (%v), want nothing", done, err)
	}
	if err := s.exec(context.Background(), "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{DSN: dsn}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("opening a newer schema: %v", err)
	}
}

// Two nodes change the same record at once, each reading it and writing
// it back: no change is lost, because the later transaction conflicts and
// runs again.
func TestTwoNodesConflictAndRetry(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := open(t, Options{DSN: dsn, Node: "a"}), open(t, Options{DSN: dsn, Node: "b"})
	if err := a.Update(func(tx store.Tx) error { return tx.PutDoc(&store.Doc{ID: "F0000001-0000000", State: store.DocQueued}) }); err != nil {
		t.Fatal(err)
	}
	const each = 40
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		for range 2 {
			wg.Go(func() {
				for range each {
					err := s.Update(func(tx store.Tx) error {
						d, err := tx.Doc("F0000001-0000000")
						if err != nil {
							return err
						}
						d.Resends++
						return tx.PutDoc(d)
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	a.View(func(tx store.Tx) error {
		d, err := tx.Doc("F0000001-0000000")
		if err != nil || d.Resends != 4*each {
			t.Errorf("after %d changes from two nodes: %d (%v)", 4*each, d.Resends, err)
		}
		c, _ := tx.Counts()
		if c[store.DocQueued][""] != 1 {
			t.Errorf("counts %v", c)
		}
		return nil
	})
}

// A node whose lease ran out has its unfinished work taken over by
// another, and every later transaction of it fails: it is fenced.
func TestTakeOverFencesTheOldNode(t *testing.T) {
	dsn := pgtest.DSN(t)
	var fenced atomic.Bool
	a := open(t, Options{DSN: dsn, Node: "a", Lease: time.Hour, OnFenced: func() { fenced.Store(true) }})
	b := open(t, Options{DSN: dsn, Node: "b"})
	err := a.Update(func(tx store.Tx) error {
		for _, f := range []*store.File{{ID: "F0000001", Tenant: "t", State: store.FileReceived}, {ID: "F0000002", Tenant: "t", State: store.FileParsed, Final: true}} {
			if err := tx.PutFile(f); err != nil {
				return err
			}
		}
		for _, dl := range []*store.Delivery{{ID: "F0000001-0000000.email", State: store.DeliveryQueued}, {ID: "F0000001-0000001.email", State: store.DeliveryDelivered}} {
			if err := tx.PutDelivery(dl); err != nil {
				return err
			}
		}
		return tx.PutBatch(&store.Batch{ID: "print-t-F0000001-0000002", State: store.DeliveryRetrying})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.TakeOver(); got != nil || err != nil {
		t.Fatalf("took over a live node: %+v, %v", got, err)
	}
	// a's lease runs out (its process hangs, say).
	if err := a.exec(context.Background(), "UPDATE node_leases SET until = now() - interval '1 second' WHERE id = 'a'"); err != nil {
		t.Fatal(err)
	}
	got, err := b.TakeOver()
	if err != nil || got == nil {
		t.Fatalf("takeover: %+v, %v", got, err)
	}
	if got.From != "a" || len(got.Files) != 1 || got.Files[0].ID != "F0000001" || len(got.Deliveries) != 1 || got.Deliveries[0].ID != "F0000001-0000000.email" ||
		len(got.Batches) != 1 {
		t.Errorf("took over %+v; want a's open file, its pending delivery and its open batch", got)
	}
	if again, err := b.TakeOver(); again != nil || err != nil {
		t.Errorf("took a node over twice: %+v, %v", again, err)
	}
	err = a.Update(func(tx store.Tx) error {
		return tx.PutDoc(&store.Doc{ID: "F0000001-0000000", State: store.DocDelivered})
	})
	if !errors.Is(err, ErrFenced) {
		t.Errorf("a fenced node's update: %v, want ErrFenced", err)
	}
	for deadline := time.Now().Add(5 * time.Second); !fenced.Load() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !fenced.Load() {
		t.Error("OnFenced was not called")
	}
	b.View(func(tx store.Tx) error {
		if _, err := tx.Doc("F0000001-0000000"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a fenced node's write was committed: %v", err)
		}
		return nil
	})
	// The same node started again joins as a new incarnation, and works.
	a2 := open(t, Options{DSN: dsn, Node: "a"})
	if err := a2.Update(func(tx store.Tx) error { return tx.PutDoc(&store.Doc{ID: "F0000003-0000000", State: store.DocQueued}) }); err != nil {
		t.Errorf("a restarted node: %v", err)
	}
}

// A node that stops ends its lease at once: its work is taken over
// without waiting for the lease to run out.
func TestLeavingEndsTheLease(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := open(t, Options{DSN: dsn, Node: "a", Lease: time.Hour})
	b := open(t, Options{DSN: dsn, Node: "b"})
	if err := a.Update(func(tx store.Tx) error {
		return tx.PutDelivery(&store.Delivery{ID: "F0000001-0000000.email", State: store.DeliveryRetrying})
	}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	got, err := b.TakeOver()
	if err != nil || got == nil || len(got.Deliveries) != 1 {
		t.Fatalf("after a left: %+v, %v", got, err)
	}
}

// One node leads at a time; when it stops, another leads.
func TestOneLeader(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var leading atomic.Int32
	var mu sync.Mutex
	var leaders []string
	nodes := map[string]*Store{}
	stops := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c"} {
		s := open(t, Options{DSN: dsn, Node: name})
		nodes[name] = s
		nctx, stop := context.WithCancel(ctx)
		stops[name] = stop
		wg.Go(func() {
			s.Lead(nctx, func(lctx context.Context) {
				if n := leading.Add(1); n != 1 {
					t.Errorf("%d leaders at once", n)
				}
				mu.Lock()
				leaders = append(leaders, name)
				mu.Unlock()
				<-lctx.Done()
				leading.Add(-1)
			})
		})
	}
	first := func(n int) string {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			l := slices.Clone(leaders)
			mu.Unlock()
			if len(l) >= n {
				return l[n-1]
			}
		}
		t.Fatalf("no leader number %d within 10 s", n)
		return ""
	}
	l1 := first(1)
	// The leader's process dies: it runs nothing more, and its
	// connections close.
	start := time.Now()
	stops[l1]()
	other := nodes["a"]
	if l1 == "a" {
		other = nodes["b"]
	}
	if err := other.exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", "multikanal "+l1); err != nil {
		t.Fatal(err)
	}
	l2 := first(2)
	if l2 == l1 {
		t.Errorf("the same node led twice")
	}
	t.Logf("%s leads %v after %s died", l2, time.Since(start).Round(time.Millisecond), l1)
	cancel()
	wg.Wait()
}

// An input file's bytes are stored in rows and read back whole, from any
// offset, and removed.
func TestPayloads(t *testing.T) {
	s := open(t, Options{DSN: pgtest.DSN(t), Node: "a"})
	data := make([]byte, 2*chunkSize+12345)
	for i := range data {
		data[i] = byte(rand.N(256))
	}
	n, err := s.PutInput("F0000001", bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("PutInput: %d, %v", n, err)
	}
	if _, err := s.PutInput("F0000002", bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	in, err := s.OpenInput("F0000001")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	got, err := io.ReadAll(in)
	if err != nil || !bytes.Equal(got, data) || in.Size() != int64(len(data)) {
		t.Fatalf("read back %d bytes (%v), want %d the same", len(got), err, len(data))
	}
	part := make([]byte, 100)
	off := int64(chunkSize - 50)
	if _, err := in.ReadAt(part, off); err != nil || !bytes.Equal(part, data[off:off+100]) {
		t.Errorf("ReadAt across rows: %v", err)
	}
	empty, err := s.OpenInput("F0000002")
	if err != nil || empty.Size() != 0 {
		t.Errorf("an empty file: %v", err)
	}
	if _, err := s.OpenInput("F0000009"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a file never stored: %v", err)
	}
	if gone, err := s.RemoveInput("F0000001"); err != nil || gone != int64(len(data)) {
		t.Errorf("RemoveInput: %d, %v", gone, err)
	}
	if _, err := s.OpenInput("F0000001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a removed file: %v", err)
	}
}

// Cut requests reach the leader once; the deliveries waiting for a
// cut-off are found; a node hears which receipts another changed.
func TestCutRequestsAndNotices(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := open(t, Options{DSN: dsn, Node: "a"}), open(t, Options{DSN: dsn, Node: "b"})
	for _, tenant := range []string{"demo", "acme", "demo"} {
		if err := a.RequestCut(tenant); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.TakeCutRequests()
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"acme", "demo"}) {
		t.Errorf("cut requests %v (%v)", got, err)
	}
	if again, _ := b.TakeCutRequests(); len(again) != 0 {
		t.Errorf("cut requests taken twice: %v", again)
	}
	err = a.Update(func(tx store.Tx) error {
		for _, dl := range []*store.Delivery{
			{ID: "F0000001-0000000.efaktura", State: store.DeliveryQueued, Batched: true},
			{ID: "F0000001-0000001.efaktura", State: store.DeliveryBatched, Batched: true, BatchID: "x"},
			{ID: "F0000001-0000002.email", State: store.DeliveryQueued},
		} {
			if err := tx.PutDelivery(dl); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var unbatched []string
	if err := b.ForEachUnbatched(func(dl *store.Delivery) error { unbatched = append(unbatched, dl.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(unbatched, []string{"F0000001-0000000.efaktura"}) {
		t.Errorf("unbatched %v", unbatched)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := make(chan []string, 10)
	go b.Listen(ctx, func(ids []string) { heard <- ids })
	ids := make([]string, 1000) // more than one notice holds
	for i := range ids {
		ids[i] = fmt.Sprintf("F%07d", i)
	}
	var all []string
	deadline := time.After(10 * time.Second)
	for sent := false; len(all) < len(ids); {
		if !sent {
			time.Sleep(200 * time.Millisecond) // b listens
			if err := a.Notify(ids); err != nil {
				t.Fatal(err)
			}
			b.Notify([]string{"F9999999"}) // its own: not heard
			sent = true
		}
		select {
		case got := <-heard:
			all = append(all, got...)
		case <-deadline:
			t.Fatalf("heard %d of %d files", len(all), len(ids))
		}
	}
	if !slices.Equal(all, ids) {
		t.Errorf("heard %d files, not the ones sent", len(all))
	}
}

// A delivery that waits for its receiver's confirmation stays its
// sender's when another node records the report, so that the sender's
// deadline job is the one that is taken over if the sender dies.
func TestAwaitingDeliveryKeepsItsSender(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := open(t, Options{DSN: dsn, Node: "a", Lease: time.Hour})
	b := open(t, Options{DSN: dsn, Node: "b"})
	dl := &store.Delivery{ID: "F0000001-0000000.sms", State: store.DeliveryDelivered, ConfirmBy: time.Now().Add(time.Hour), OpenBy: time.Now().Add(time.Hour)}
	if err := a.Update(func(tx store.Tx) error { return tx.PutDelivery(dl) }); err != nil {
		t.Fatal(err)
	}
	// b records the page's visit: the confirmation is still awaited.
	dl.Opened = time.Now()
	if err := b.Update(func(tx store.Tx) error { return tx.PutDelivery(dl) }); err != nil {
		t.Fatal(err)
	}
	if err := a.exec(context.Background(), "UPDATE node_leases SET until = now() - interval '1 second' WHERE id = 'a'"); err != nil {
		t.Fatal(err)
	}
	got, err := b.TakeOver()
	if err != nil || got == nil || len(got.Deliveries) != 1 {
		t.Fatalf("b took over %+v (%v); want a's delivery that awaits its confirmation", got, err)
	}
}
