package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/outbound"
)

// fakeKivra answers the token, usermatch and content calls; usermatch
// says yes to the personnummer in match.
type fakeKivra struct {
	mu        sync.Mutex
	match     map[string]bool
	usermatch int
	contents  int
}

func (k *fakeKivra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case r.URL.Path == "/v1/auth":
		json.NewEncoder(w).Encode(map[string]any{"access_token": "t", "expires_in": 3600, "token_type": "bearer"})
	case strings.HasSuffix(r.URL.Path, "/usermatch/ssn"):
		k.usermatch++
		var in struct{ List []string }
		json.NewDecoder(r.Body).Decode(&in)
		out := []string{}
		for _, s := range in.List {
			if k.match[s] {
				out = append(out, s)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"list": out})
	case strings.HasSuffix(r.URL.Path, "/content"):
		io.Copy(io.Discard, r.Body)
		k.contents++
		w.Header().Set("kivra-objkey", "obj1")
		w.WriteHeader(http.StatusCreated)
	default:
		http.NotFound(w, r)
	}
}

// A personnummer Kivra matches routes to Kivra; one it does not falls
// through; the answers are cached, so a second file asks nothing.
func TestKivraUsermatchRouting(t *testing.T) {
	fk := &fakeKivra{match: map[string]bool{"198112189876": true}}
	srv := httptest.NewServer(fk)
	defer srv.Close()
	secret := filepath.Join(t.TempDir(), "kivra")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	d := startTestDaemon(t, func(c *config.Config) {
		setTransport(c, "kivra", "api", outbound.Settings{"base_url": srv.URL, "client_id": "id", "client_secret_file": secret, "tenant_key": "tk"})
	}, nil)
	body := string(exampleInvoices(t, "2025-1004")) // personnummer only
	drop(t, d, "kivra.csv", []byte(body))
	var r *api.Receipt
	var err error
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000001"); return err == nil && r.Final })
	if doc := r.Documents[0]; doc.State != api.DocDelivered || doc.Channel != "kivra" || !strings.Contains(doc.Route[2].Reason, "Kivra usermatch") {
		t.Fatalf("matched consumer: %s on %s; route %+v", doc.State, doc.Channel, doc.Route)
	}
	// Another invoice for the same person: the cached answer is used.
	drop(t, d, "kivra2.csv", []byte(strings.ReplaceAll(body, "2025-1004", "2025-2004")))
	waitUntil(t, func() bool { r, err = receipts.Build(d.store, "F0000002"); return err == nil && r.Final })
	fk.mu.Lock()
	defer fk.mu.Unlock()
	if fk.usermatch != 1 || fk.contents != 2 {
		t.Errorf("usermatch asked %d times (want 1, cached), content sent %d times (want 2)", fk.usermatch, fk.contents)
	}
}
