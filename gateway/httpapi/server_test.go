package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/collection"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/metrics"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/bolt"
	"github.com/multikanal/multikanal/outbound/channels"
)

// parts answers for the parts of the daemon the HTTP side asks: nothing
// of its own, a document it does not know is not found.
type parts struct{}

func (parts) Retry(id string) (*store.Doc, error) {
	return nil, errkind.New(errkind.NotFound, "document %s not found", id)
}
func (parts) Ack(id, by, why string) (*store.Doc, error) { return parts{}.Retry(id) }
func (parts) Resend(id, by, why string) (*store.Doc, error) {
	return parts{}.Retry(id)
}
func (parts) Queues() (map[string]int, int) { return map[string]int{"email": 0}, 0 }
func (parts) Parse(r io.Reader, now time.Time) ([]recipients.Row, error) {
	return recipients.Parse(r, now, nil)
}
func (parts) Import(tenant, source string, rows []recipients.Row) (int, int, error) {
	return len(rows), 0, nil
}
func (parts) ByKey(tenant, key string) (string, []*store.Registration, error) { return key, nil, nil }
func (parts) List(tenant string, activeOnly bool) ([]*store.Registration, error) {
	return nil, nil
}
func (parts) QueueOrders(tenant, source string, reqs []api.MandateOrderRequest) ([]*store.MandateOrder, error) {
	return nil, nil
}
func (parts) ListOrders(tenant string) (*collection.Orders, error) { return &collection.Orders{}, nil }
func (parts) CallbackReports() []string                            { return nil }
func (parts) ReportHandler(channel string) http.Handler            { return http.NotFoundHandler() }
func (parts) Erase(ctx context.Context, tenant string, req api.EraseRequest) (*api.EraseReport, error) {
	return &api.EraseReport{Tenant: tenant}, nil
}
func (parts) Compact(cause string) (*api.CompactReport, error) {
	return &api.CompactReport{Cause: cause}, nil
}
func (parts) Status() *api.StoreStatus { return &api.StoreStatus{} }

// testServer is the HTTP side over a temporary store, its operators'
// listener on a free loopback port, serving until the test ends; mutate
// changes the configuration (the embedded default's) first.
func testServer(t *testing.T, mutate func(*config.Config, *Options)) (*Server, *bolt.Bolt, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default(dir, channels.All())
	cfg.HTTP.Listen, cfg.Public.Listen = "127.0.0.1:0", ""
	st, err := bolt.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tenant := cfg.Tenants[0]
	o := Options{Config: cfg, DataDir: dir, Store: st, Delivery: parts{}, Registry: parts{}, Collection: parts{}, Upkeep: parts{},
		Tenant:  func(id string) (config.Tenant, bool) { return tenant, id == tenant.ID },
		Metrics: metrics.New("test").Handler(), Info: func() api.Info { return api.Info{Started: time.Now()} },
		Registered: cfg.ChannelNames, Ready: func() bool { return true }, LastReload: func() *api.ReloadStatus { return nil }, Log: slog.New(slog.DiscardHandler)}
	if mutate != nil {
		mutate(cfg, &o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	s.Serve(&wg)
	t.Cleanup(func() { s.Shutdown(time.Second); wg.Wait() })
	token, err := os.ReadFile(filepath.Join(dir, config.TokenName))
	if err != nil {
		t.Fatal(err)
	}
	return s, st, strings.TrimSpace(string(token))
}

// base is the server's operators' URL.
func base(s *Server) string {
	op, _, _ := s.Addrs()
	return "http://" + op
}

// call sends one request and returns the status and body.
func call(t *testing.T, c *http.Client, method, u string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func bearer(token string, more ...string) http.Header {
	h := http.Header{"Authorization": {"Bearer " + token}}
	for i := 0; i+1 < len(more); i += 2 {
		h.Set(more[i], more[i+1])
	}
	return h
}
