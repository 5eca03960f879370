package intake

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A reader takes the tenants in turn and never two files of one tenant at
// once; a tenant's files come in arrival order.
func TestIngestQueueTakesTenantsInTurn(t *testing.T) {
	q := newIngestQueue()
	for _, f := range []struct{ tenant, id string }{{"a", "a1"}, {"a", "a2"}, {"a", "a3"}, {"b", "b1"}, {"b", "b2"}, {"c", "c1"}} {
		q.push(f.tenant, f.id)
	}
	ctx := context.Background()
	pop := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, id, ok := q.pop(ctx)
		if !ok {
			t.Fatal("nothing to pop")
		}
		return id
	}
	// Three readers at once: one file of each tenant.
	got := []string{pop(), pop(), pop()}
	if want := []string{"a1", "b1", "c1"}; !slices.Equal(got, want) {
		t.Fatalf("three readers took %v, want %v", got, want)
	}
	// a and b are being read: a fourth reader waits.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, id, ok := q.pop(short); ok {
		t.Fatalf("took %s while every tenant with files waiting is being read", id)
	}
	// b finishes first: its next file goes before a's.
	q.done("b")
	q.done("a")
	q.done("c")
	got = []string{pop(), pop()}
	if want := []string{"b2", "a2"}; !slices.Equal(got, want) {
		t.Fatalf("took %v after b and a finished, want %v", got, want)
	}
	q.done("a")
	if id := pop(); id != "a3" {
		t.Fatalf("took %s, want a3", id)
	}
}
