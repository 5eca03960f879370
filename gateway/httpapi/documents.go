package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// Dunning is the reminders' part: a day's reminders (or what they would
// be), the inkasso export, an invoice's dispute.
type Dunning interface {
	Remind(tenant string, day formats.Date, dryRun bool) (*api.ReminderPlan, error)
	Export(tenant string, day formats.Date, onlyNew bool) ([]byte, int, error)
	Dispute(id, by, why string, clear bool) (*store.Doc, error)
}

// Events is the tenants' event log and their webhooks.
type Events interface {
	Page(tenant string, after uint64, limit int) (*api.EventPage, error)
	Replay(tenant string, after uint64) error
}

// tenantRoutes are the routes an ERP may call with its tenant's own
// token ([tenant.api] token_file) beside the operators' credentials;
// the token opens them for its tenant alone.
var tenantRoutes = map[string]bool{
	"GET /api/v1/tenants/{tenant}/events":         true,
	"POST /api/v1/tenants/{tenant}/events/replay": true,
	"GET /api/v1/tenants/{tenant}/overview":       true,
	"GET /api/v1/tenants/{tenant}/inkasso":        true,
}

// errNoPart answers a route whose part the server was not given (a test's
// server): unavailable.
var errNoPart = errkind.New(errkind.Unavailable, "this server has no reminders or event log")

// documentRoutes serve the life of documents after delivery.
func (s *Server) documentRoutes(mux *routeMux) {
	if s.Dunning == nil || s.Events == nil {
		for _, p := range []string{"GET /api/v1/tenants/{tenant}/reminders", "POST /api/v1/tenants/{tenant}/reminders", "GET /api/v1/tenants/{tenant}/inkasso",
			"POST /api/v1/tenants/{tenant}/inkasso", "POST /api/v1/docs/{id}/dispute", "GET /api/v1/tenants/{tenant}/events",
			"POST /api/v1/tenants/{tenant}/events/replay", "GET /api/v1/tenants/{tenant}/overview"} {
			mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { writeError(w, errNoPart) })
		}
		return
	}
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/reminders", s.handleReminders)
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/reminders", s.handleReminders)
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/inkasso", s.handleInkasso)
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/inkasso", s.handleInkasso)
	mux.HandleFunc("POST /api/v1/docs/{id}/dispute", s.handleDispute)
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/events", s.handleEvents)
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/events/replay", s.handleReplay)
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/overview", s.handleOverview)
}

// today is the day a request names (?day=YYYY-MM-DD), else today.
func today(r *http.Request) (formats.Date, error) {
	if v := r.URL.Query().Get("day"); v != "" {
		d, err := formats.ParseDate(v)
		if err != nil {
			return d, errkind.New(errkind.Invalid, "day: %v", err)
		}
		return d, nil
	}
	return formats.DateOf(time.Now()), nil
}

// handleReminders: GET shows what the day's reminders would be (a dry
// run), POST makes them now.
func (s *Server) handleReminders(w http.ResponseWriter, r *http.Request) {
	day, err := today(r)
	if err != nil {
		writeError(w, err)
		return
	}
	plan, err := s.Dunning.Remind(r.PathValue("tenant"), day, r.Method == http.MethodGet)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, plan)
}

// handleInkasso: GET lists every invoice handed to debt collection as
// CSV; POST lists those no export listed before, and records that this
// one did.
func (s *Server) handleInkasso(w http.ResponseWriter, r *http.Request) {
	day, err := today(r)
	if err != nil {
		writeError(w, err)
		return
	}
	csv, n, err := s.Dunning.Export(r.PathValue("tenant"), day, r.Method == http.MethodPost)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="inkasso-`+r.PathValue("tenant")+"-"+day.String()+`.csv"`)
	w.Header().Set("X-Multikanal-Rows", strconv.Itoa(n))
	w.Write(csv)
}

func (s *Server) handleDispute(w http.ResponseWriter, r *http.Request) {
	var req api.DisputeRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, errkind.New(errkind.Invalid, "the body must be JSON like {\"by\": \"...\", \"why\": \"...\"}: %v", err))
		return
	}
	req.By = recordedBy(r, req.By)
	doc, err := s.Dunning.Dispute(r.PathValue("id"), req.By, req.Why, req.Clear)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, receipts.DocOf(doc))
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after uint64
	if v := q.Get("after"); v != "" {
		var err error
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, errkind.New(errkind.Invalid, "after: %q is not an event's seq", v))
			return
		}
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, errkind.New(errkind.Invalid, "limit: %q: ask for 1 to 1000 events", v))
			return
		}
		limit = n
	}
	page, err := s.Events.Page(r.PathValue("tenant"), after, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) handleReplay(w http.ResponseWriter, r *http.Request) {
	var req api.ReplayRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, errkind.New(errkind.Invalid, "the body must be JSON like {\"after\": 0}: %v", err))
		return
	}
	if err := s.Events.Replay(r.PathValue("tenant"), req.After); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"replay_after": req.After})
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	o, _, err := s.overview(tenant)
	if err != nil {
		writeError(w, err)
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Write(receipts.OverviewCSV(o))
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// overviewFor is how long an overview is kept before it is read again.
// It reads the tenant's counters, not its documents (store.OverviewTx),
// so it is cheap; the status page, which reloads every 10 seconds and
// shows every tenant's, reads them once a reload.
const overviewFor = 5 * time.Second

type overviewEntry struct {
	at   time.Time
	o    *api.Overview
	life map[string]int64
}

// overview is the tenant's overview, read at most every overviewFor.
func (s *Server) overview(tenant string) (*api.Overview, map[string]int64, error) {
	t, ok := s.Tenant(tenant)
	if !ok {
		return nil, nil, errkind.New(errkind.NotFound, "tenant %q is not configured", tenant)
	}
	s.overviewMu.Lock()
	defer s.overviewMu.Unlock()
	if e, ok := s.overviews[tenant]; ok && time.Since(e.at) < overviewFor {
		return e.o, e.life, nil
	}
	paper := s.Paper
	if paper == nil {
		paper = func(string) bool { return false }
	}
	o, life, err := receipts.Overview(s.Store, tenant, t.PriceOf, paper)
	if err != nil {
		return nil, nil, err
	}
	if s.overviews == nil {
		s.overviews = map[string]overviewEntry{}
	}
	s.overviews[tenant] = overviewEntry{time.Now(), o, life}
	return o, life, nil
}

// tenantAuthorized reports whether the request's bearer token is the
// token of the tenant its path names (/api/v1/tenants/{tenant}/...),
// read from [tenant.api] token_file at each request so a new token
// works at once. Compared in constant time, as the operators' is.
func (s *Server) tenantAuthorized(r *http.Request) bool {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/api/v1/tenants/"), "/", 2)
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if len(parts) != 2 || !strings.EqualFold(scheme, "Bearer") || s.Tenant == nil {
		return false
	}
	t, ok := s.Tenant(parts[0])
	if !ok || t.API == nil || t.API.TokenFile == "" {
		return false
	}
	want, err := config.ReadSecret(t.API.TokenFile)
	if err != nil {
		s.Log.Warn("a tenant's API token cannot be read", "tenant", t.ID, "err", err)
		return false
	}
	a, b := sha256.Sum256(want), sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
