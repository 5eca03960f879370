package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store/postgres/pgtest"
)

// TestClusterThroughput measures what docs/scale-out.md reports: one CSV
// batch of MULTIKANAL_CLUSTER_BENCH invoices from drop to every receipt
// final, on one node on bbolt, one node on PostgreSQL, and one, two and
// three nodes on PostgreSQL with the batch split into six files dropped
// at the nodes in turn. It runs only when asked (it takes minutes), with
// the PostgreSQL server syncing as a production one does when
// MULTIKANAL_PG_DURABLE is set:
//
//	MULTIKANAL_PG_DURABLE=1 MULTIKANAL_CLUSTER_BENCH=10000 go test -run TestClusterThroughput -v ./cmd/multikanal/
func TestClusterThroughput(t *testing.T) {
	n := envInt(t, "MULTIKANAL_CLUSTER_BENCH", 0)
	if n == 0 {
		t.Skip("set MULTIKANAL_CLUSTER_BENCH=10000 to measure (minutes)")
	}
	for _, c := range []struct {
		name         string
		pg           bool
		nodes, files int
	}{
		{"bbolt, 1 node, 1 file", false, 1, 1},
		{"postgres, 1 node, 1 file", true, 1, 1},
		{"postgres, 1 node, 6 files", true, 1, 6},
		{"postgres, 2 nodes, 6 files", true, 2, 6},
		{"postgres, 3 nodes, 6 files", true, 3, 6},
		{"bbolt, 1 node, 6 files", false, 1, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := ""
			if c.pg {
				dsn = pgtest.DSN(t)
			}
			cl := newCluster(t, t.TempDir(), dsn, c.nodes, 0)
			for i := range c.nodes {
				cl.start(i)
			}
			b := newCrashBatch(n, c.files)
			start := time.Now()
			dropped := 0
			for i, f := range b.files {
				if b.bad[f.name] {
					continue
				}
				cl.h(i%c.nodes).dropFile(f.name, f.body)
				dropped++
			}
			h := cl.h(0)
			for {
				st := h.status()
				var docs int64
				for _, k := range st.Documents {
					docs += k
				}
				if st.FilesOpen == 0 && docs == int64(n) && st.Documents[api.DocDelivered] > 0 {
					break
				}
				if time.Since(start) > 30*time.Minute {
					t.Fatalf("not final after 30 minutes: %+v", st)
				}
				time.Sleep(200 * time.Millisecond)
			}
			took := time.Since(start)
			for _, d := range cl.nodes {
				d.stop()
			}
			line := fmt.Sprintf("%-28s %6d invoices in %d files: %6.1f s, %5.0f invoices/s", c.name, n, dropped, took.Seconds(), float64(n)/took.Seconds())
			if c.pg {
				line += " " + dbSizes(t, dsn, n)
			}
			t.Log(line)
			if f, err := os.OpenFile(filepath.Join(os.TempDir(), "multikanal-cluster-bench.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				fmt.Fprintln(f, line)
				f.Close()
			}
		})
	}
}

// dbSizes says what the database holds per invoice, table by table, and
// how much WAL the run wrote.
func dbSizes(t *testing.T, dsn string, n int) string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err.Error()
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE ns.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC LIMIT 6`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	b.WriteString("bytes per invoice:")
	for rows.Next() {
		var name string
		var size int64
		rows.Scan(&name, &size)
		fmt.Fprintf(&b, " %s %d", name, size/int64(n))
	}
	return b.String()
}
