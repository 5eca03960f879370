package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/postgres/pgtest"
)

// A database of version 1 that holds delivered, open invoices gets them
// in the dunning index when migrated to version 2, so they are reminded;
// a paid one and a queued one are not indexed.
func TestMigrationIndexesTheInvoicesOfVersion1(t *testing.T) {
	ctx := context.Background()
	_, conn := databaseAt(t, 1)
	due := formats.Date{Year: 2026, Month: 1, Day: 31}
	for i, d := range []*store.Doc{
		{State: store.DocDelivered},
		{State: store.DocQueued},
		{State: store.DocDelivered, Collection: &store.Collection{Method: store.MethodTransfer, State: store.PaymentPaid, Paid: 100}},
	} {
		d.ID, d.Tenant, d.Kind, d.Amount, d.DueDate = fmt.Sprintf("F0000001-%07d", i), "acme", formats.KindInvoice, 100, due
		rec, err := marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO docs (id, attention, rec) VALUES ($1, false, $2)", d.ID, rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT doc_id, tenant, to_char(due, 'YYYY-MM-DD') FROM dunning")
	if err != nil {
		t.Fatal(err)
	}
	var got [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 1 || got[0] != [3]string{"F0000001-0000000", "acme", "2026-01-31"} {
		t.Errorf("the index after migrating: %v", got)
	}
}

// databaseAt is a new database of the test server with the schema at
// version v, and a connection to it (closed at the test's end).
func databaseAt(t *testing.T, v int) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := migrateTo(ctx, conn, v); err != nil {
		t.Fatal(err)
	}
	return dsn, conn
}
