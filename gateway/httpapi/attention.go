package httpapi

import (
	"sort"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// needsAttention lists the documents an operator must look at, the newest
// first (at most maxFailures), with how many there are in all and how many
// of them are dead: those retrying or failed, which only open files hold,
// and the dead ones no operator has acknowledged, from their index. A dead
// document ends its file, so it would vanish from a list made of open
// files alone while the "Dead" count still showed it; it stays until it is
// retried or acknowledged (AckDoc).
func (s *Server) needsAttention(open []string) (_ []api.Failure, total, dead int, err error) {
	out := []api.Failure{}
	failure := func(doc *store.Doc) api.Failure {
		return api.Failure{Doc: doc.ID, Tenant: doc.Tenant, Number: doc.Number, State: api.DocState(doc.State), Channel: doc.Channel,
			Reason: doc.Reason, Updated: doc.Updated}
	}
	// The open files' documents are read in short transactions: a file of
	// a million invoices must not hold every commit up.
	for _, id := range open {
		err := s.Store.ScanFileDocs(id, func(doc *store.Doc) error {
			if doc.State == store.DocRetrying || doc.State == store.DocFailed {
				out = append(out, failure(doc))
			}
			return nil
		})
		if err != nil {
			return nil, 0, 0, err
		}
	}
	stuck := len(out)
	err = s.Store.View(func(tx store.Tx) error {
		docs, n, err := tx.NeedsAttention(maxFailures)
		for _, doc := range docs {
			out = append(out, failure(doc))
		}
		dead = n
		return err
	})
	if err != nil {
		return nil, 0, 0, err
	}
	total = stuck + dead
	sort.Slice(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	if len(out) > maxFailures {
		out = out[:maxFailures]
	}
	return out, total, dead, nil
}
