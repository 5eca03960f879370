// Package httpapi is the daemon's HTTP side: the operators' listener (the
// JSON API under /api/v1/, the status page, /metrics, the health checks),
// served on TCP and on the operators' socket behind the checks of auth.go,
// and the public listener for the receivers' callbacks (public.go). It is
// the one place an error's kind becomes a status code (statusOf).
//
// It holds no state of the gateway's: it reads the store and asks the
// parts, through the interfaces below, which it owns.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/collection"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// Store is what the API reads: status counts, files and documents (in
// short transactions for the long lists), and the whole store for a
// backup.
type Store interface {
	receipts.Store
	Backup(path string) error
	Size() int64
}

// Delivery is the operators' actions on a document's delivery, and the
// queues' lengths for the status.
type Delivery interface {
	Retry(id string) (*store.Doc, error)
	Ack(id, by, why string) (*store.Doc, error)
	Resend(id, by, why string) (*store.Doc, error)
	Queues() (ready map[string]int, scheduled int)
}

// Registry is the recipient registry's service.
type Registry interface {
	Parse(r io.Reader, now time.Time) ([]recipients.Row, error)
	Import(tenant, source string, rows []recipients.Row) (added, revoked int, err error)
	ByKey(tenant, key string) (string, []*store.Registration, error)
	List(tenant string, activeOnly bool) ([]*store.Registration, error)
}

// Collection is payment collection: the biller's mandate orders, and the
// receivers' reports the public listener takes (CallbackReports names the
// channels that post them; ReportHandler serves one's).
type Collection interface {
	QueueOrders(tenant, source string, reqs []api.MandateOrderRequest) ([]*store.MandateOrder, error)
	ListOrders(tenant string) (*collection.Orders, error)
	CallbackReports() []string
	ReportHandler(channel string) http.Handler
}

// Upkeep is retention's and the store's upkeep: erasure, compaction and
// the store's status.
type Upkeep interface {
	Erase(ctx context.Context, tenant string, req api.EraseRequest) (*api.EraseReport, error)
	Compact(cause string) (*api.CompactReport, error)
	Status() *api.StoreStatus
}

// Options are the HTTP side's dependencies.
type Options struct {
	// Config is the configuration at start: the listeners and their
	// names, the token and signing-key files. A reload does not change
	// them (they need a restart).
	Config  *config.Config
	DataDir string
	Store   Store
	// Tenant is a configured tenant's configuration; ok is false for one
	// that is not configured.
	Tenant     func(id string) (config.Tenant, bool)
	Delivery   Delivery
	Registry   Registry
	Collection Collection
	Upkeep     Upkeep
	// Dunning makes reminders and the inkasso export; Events pages the
	// tenants' event logs and replays their webhooks (documents.go).
	Dunning Dunning
	Events  Events
	// Paper says which channels are paper, for the distribution
	// overview; Tenants are the tenants in force, for the status page's.
	Paper   func(channel string) bool
	Tenants func() []config.Tenant
	// Pages renders the hosted invoice pages on the public listener; nil
	// serves none.
	Pages Pages
	// Metrics serves /metrics.
	Metrics http.Handler
	// Registered are the registered channels in registration order (the
	// status page's rows and colours), as configured now.
	Registered func() []string
	// Info, Ready and LastReload are what the daemon says of itself.
	Info       func() api.Info
	Ready      func() bool
	LastReload func() *api.ReloadStatus
	// Pprof serves Go's profiles under /debug/pprof/.
	Pprof bool
	Log   *slog.Logger
}

// Server is the daemon's HTTP side.
type Server struct {
	Options
	// auth authenticates operators; callbacks signs and checks the keys
	// in callback URLs, which start with publicBase. Both bases are set
	// once the listeners are open ("" for one that is off).
	auth       *operatorAuth
	callbacks  *callbackKeys
	publicBase string
	// pageBase is where login links point (pageBase in auth.go).
	pageBase string
	// backupMu is held while a backup is made and downloaded.
	backupMu sync.Mutex
	ls       *listeners
	srvs     *httpServers
	// overviews are the tenants' distribution overviews, kept a while.
	overviewMu sync.Mutex
	overviews  map[string]overviewEntry
}

// New reads (or, on first start, makes) the operators' token and the
// callbacks' signing key.
func New(o Options) (*Server, error) {
	s := &Server{Options: o}
	var err error
	if s.auth, err = newOperatorAuth(o.Config, o.DataDir); err != nil {
		return nil, err
	}
	s.auth.tenantToken = s.tenantAuthorized
	if s.callbacks, err = loadCallbackKeys(o.Config, o.DataDir); err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the listeners, before anything starts, so that a port in use
// fails the start at once.
func (s *Server) Open() error {
	ls, err := s.listen()
	if err != nil {
		return err
	}
	s.ls = ls
	return nil
}

// Addrs are the listeners' addresses ("" for one that is off): the
// operators' TCP listener, their socket, the public listener.
func (s *Server) Addrs() (op, sock, pub string) {
	if s.ls == nil {
		return "", "", ""
	}
	addr := func(ln net.Listener) string {
		if ln == nil {
			return ""
		}
		return ln.Addr().String()
	}
	return addr(s.ls.op), addr(s.ls.sock), addr(s.ls.pub)
}

// Serve serves the open listeners until Shutdown; wg waits for them.
func (s *Server) Serve(wg *sync.WaitGroup) { s.srvs = s.serveHTTP(s.ls, wg) }

// Close closes the listeners at once, served or not.
func (s *Server) Close() {
	if s.srvs != nil {
		s.srvs.close()
	}
	if s.ls != nil {
		s.ls.close()
	}
}

// Shutdown lets requests in flight finish for a moment, then closes.
func (s *Server) Shutdown(grace time.Duration) {
	if s.srvs != nil {
		s.srvs.shutdown(grace)
	}
}

// Handler is what the operators' listeners serve: every route behind the
// checks of auth.go.
func (s *Server) Handler() http.Handler { return s.operatorHandler() }

// Routes are the operators' routes without the checks of auth.go: for
// tests that call the API as an authenticated client would. The daemon
// serves only Handler.
func (s *Server) Routes() http.Handler { return s.httpHandler() }

// Public is what the public listener serves.
func (s *Server) Public() http.Handler { return s.publicHandler() }
