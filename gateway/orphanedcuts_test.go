package gateway

import (
	"slices"
	"testing"

	"github.com/multikanal/multikanal/gateway/store"
)

// A node killed after recording a file and before asking for its cut
// leaves batched deliveries waiting; whoever takes them over asks for the
// cut of their tenants, also of a tenant with a file still to be read
// (it may end without asking: a mandate file applied, a file rejected),
// and not for what is already in a batch or not batched. On the old code
// nothing asked: with no later file of the tenant, the letters waited for
// ever (TestClusterSurvivesSIGKILL found 28 of them); and later, when the
// tenant had a file still to be read that was the mandate advice, nothing
// asked either (the same test, 28 letters again).
func TestOrphanedCuts(t *testing.T) {
	got := orphanedCuts(&store.Takeover{
		Files: []*store.File{
			{ID: "F1", Tenant: "acme", State: store.FileParsed},
			{ID: "F2", Tenant: "reading", State: store.FileReceived},
		},
		Deliveries: []*store.Delivery{
			{ID: "F1-1.print", Tenant: "acme", Batched: true, State: store.DeliveryQueued},
			{ID: "F1-2.print", Tenant: "acme", Batched: true, State: store.DeliveryQueued},
			{ID: "F2-1.print", Tenant: "reading", Batched: true, State: store.DeliveryQueued},
			{ID: "F3-1.print", Tenant: "cut", Batched: true, BatchID: "B1", State: store.DeliveryBatched},
			{ID: "F4-1.email", Tenant: "mail", State: store.DeliveryQueued},
			{ID: "F5-1.print", Tenant: "beta", Batched: true, State: store.DeliveryQueued},
		},
	})
	if want := []string{"acme", "beta", "reading"}; !slices.Equal(got, want) {
		t.Errorf("cuts asked for %v, want %v", got, want)
	}
}
