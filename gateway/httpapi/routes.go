package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// maxFailures bounds the failures listed in a status.
const maxFailures = 50

// Status reads the daemon's current state from the store.
func (s *Server) Status() (*api.Status, error) {
	info := s.Info()
	st := &api.Status{Info: info, Ready: s.Ready(), StoreBytes: s.Store.Size(),
		Files: map[api.FileState]int{}, Documents: map[api.DocState]int64{}, ByChannel: map[string]map[string]int64{},
		Queue: map[string]api.QueueStatus{}, Failures: []api.Failure{}, LastReload: s.LastReload()}
	if !info.Started.IsZero() {
		st.Uptime = time.Since(info.Started).Round(time.Second).String()
	}
	var open []string
	err := s.Store.View(func(tx store.Tx) error {
		counts, err := tx.Counts()
		if err != nil {
			return err
		}
		for state, byCh := range counts {
			for ch, n := range byCh {
				st.Documents[api.DocState(state)] += n
				if ch == "" {
					continue
				}
				if st.ByChannel[ch] == nil {
					st.ByChannel[ch] = map[string]int64{}
				}
				st.ByChannel[ch][string(state)] += n
			}
		}
		files, err := tx.FileCounts()
		if err != nil {
			return err
		}
		for state, n := range files {
			st.Files[api.FileState(state)] = int(n)
		}
		// Only the open files are read, not every file the store has seen.
		return tx.ForEachOpenFile(func(f *store.File) error {
			st.FilesOpen++
			open = append(open, f.ID)
			return nil
		})
	})
	if err == nil {
		var dead int
		st.Failures, st.NeedsAttention, dead, err = s.needsAttention(open)
		st.DeadAcknowledged = st.Documents[api.DocDead] - int64(dead)
	}
	st.Store = s.Upkeep.Status()
	ready, scheduled := s.Delivery.Queues()
	for name, n := range ready {
		st.Queue[name] = api.QueueStatus{Ready: n}
	}
	st.Queue["(retries)"] = api.QueueStatus{Scheduled: scheduled}
	return st, err
}

// operatorHandler is what the operators' listeners serve: every route of
// httpHandler behind the checks of auth.go.
func (s *Server) operatorHandler() http.Handler {
	return s.auth.guard(s.httpHandler(), s.Log.Warn)
}

// httpHandler holds the operators' routes, without the checks: serve it
// only through operatorHandler. A route added here is authenticated there
// unless openRoutes names it.
func (s *Server) httpHandler() *routeMux {
	mux := newRouteMux()
	if s.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("GET /metrics", s.Metrics)
	mux.HandleFunc("GET /{$}", s.statusPage)
	mux.HandleFunc("GET /login", s.serveLogin)
	mux.HandleFunc("POST /logout", s.serveLogout)
	mux.HandleFunc("POST /api/v1/login", s.serveLoginLink)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.Status()
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET /api/v1/files/{id}/receipt", func(w http.ResponseWriter, r *http.Request) {
		rc, err := receipts.Build(s.Store, r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		// A file of 100,000 invoices has a receipt of tens of MB.
		streamDeadline(w, int64(len(rc.Documents))*1024)
		writeJSON(w, http.StatusOK, rc)
	})
	mux.HandleFunc("GET /api/v1/docs", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, after, err := pageParams(r)
		if err != nil {
			writeError(w, err)
			return
		}
		docs, err := receipts.Docs(s.Store, receipts.DocFilter{State: q.Get("state"), Channel: q.Get("channel"), Tenant: q.Get("tenant"), File: q.Get("file"), Limit: limit, After: after})
		if err != nil {
			writeError(w, err)
			return
		}
		if len(docs) == limit {
			setNext(w, r, docs[len(docs)-1].ID)
		}
		writeJSON(w, http.StatusOK, docs)
	})
	mux.HandleFunc("GET /api/v1/docs/{id}", func(w http.ResponseWriter, r *http.Request) {
		detail, err := receipts.Detail(s.Store, r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, detail)
	})
	mux.HandleFunc("POST /api/v1/docs/{id}/retry", func(w http.ResponseWriter, r *http.Request) {
		doc, err := s.Delivery.Retry(r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, receipts.DocOf(doc))
	})
	mux.HandleFunc("POST /api/v1/docs/{id}/ack", s.handleAckDoc)
	mux.HandleFunc("POST /api/v1/docs/{id}/resend", s.handleResend)
	mux.HandleFunc("GET /api/v1/backup", s.serveBackup)
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/erase", s.handleErase)
	s.documentRoutes(mux)
	mux.HandleFunc("POST /api/v1/store/compact", s.handleCompact)
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/recipients", func(w http.ResponseWriter, r *http.Request) {
		rows, err := s.Registry.Parse(http.MaxBytesReader(w, r.Body, 256<<20), time.Now())
		if err != nil {
			writeError(w, errkind.Wrap(errkind.Invalid, err))
			return
		}
		source := "import " + r.URL.Query().Get("name")
		added, revoked, err := s.Registry.Import(r.PathValue("tenant"), source, rows)
		if err != nil {
			writeError(w, fmt.Errorf("nothing applied: %w", err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"added": added, "revoked": revoked})
	})
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/recipients", func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		if _, ok := s.Tenant(tenant); !ok {
			writeError(w, errkind.New(errkind.NotFound, "no tenant %s", tenant))
			return
		}
		if key := r.URL.Query().Get("key"); key != "" {
			norm, regs, err := s.Registry.ByKey(tenant, key)
			if err != nil {
				writeError(w, err)
				return
			}
			// Never null: a key nobody registered has no registrations.
			writeJSON(w, http.StatusOK, &api.Recipient{Key: norm, Registrations: registrationsOf(append([]*store.Registration{}, regs...))})
			return
		}
		limit, after, err := pageParams(r)
		if err != nil {
			writeError(w, err)
			return
		}
		list, err := s.Registry.List(tenant, r.URL.Query().Get("all") == "")
		if err != nil {
			writeError(w, err)
			return
		}
		list = pageOf(w, r, list, func(reg *store.Registration) string { return reg.ID }, after, limit)
		writeJSON(w, http.StatusOK, registrationsOf(list))
	})
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/autogiro/mandates", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Orders []api.MandateOrderRequest `json:"orders"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, errkind.New(errkind.Invalid, "the body must be {\"orders\": [...]}: %w", err))
			return
		}
		orders, err := s.Collection.QueueOrders(r.PathValue("tenant"), "api", req.Orders)
		if err != nil {
			writeError(w, fmt.Errorf("nothing queued: %w", err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"orders": ordersOf(orders)})
	})
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/autogiro/mandates", func(w http.ResponseWriter, r *http.Request) {
		limit, after, err := pageParams(r)
		if err != nil {
			writeError(w, err)
			return
		}
		list, err := s.Collection.ListOrders(r.PathValue("tenant"))
		if err != nil {
			writeError(w, err)
			return
		}
		list.Orders = pageOf(w, r, list.Orders, func(o *store.MandateOrder) string { return o.ID }, after, limit)
		if len(list.AwaitingApproval) > maxPage {
			list.AwaitingApproval = list.AwaitingApproval[:maxPage]
		}
		writeJSON(w, http.StatusOK, &api.MandateOrders{Orders: ordersOf(list.Orders), AwaitingApproval: registrationsOf(list.AwaitingApproval),
			UnderEnquiry: registrationsOf(list.UnderEnquiry)})
	})
	return mux
}

// A list answers at most maxPage items, defaultPage unless the client asks
// (limit); the next page starts after the last item of this one (after),
// and a full page says where in a Link header (rel="next").
const (
	defaultPage = 100
	maxPage     = 1000
)

// pageParams reads limit and after. A limit above maxPage is refused, not
// cut down: a client must not take a short page for the whole list.
func pageParams(r *http.Request) (limit int, after string, err error) {
	q := r.URL.Query()
	limit = defaultPage
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxPage {
			return 0, "", errkind.New(errkind.Invalid, "limit %q: ask for 1 to %d items a page, and follow the Link header (rel=\"next\") or pass after=<the last id> for the next", v, maxPage)
		}
	}
	return limit, q.Get("after"), nil
}

// setNext links the next page: this request with after set to last.
func setNext(w http.ResponseWriter, r *http.Request, last string) {
	q := r.URL.Query()
	q.Set("after", last)
	w.Header().Set("Link", fmt.Sprintf("<%s?%s>; rel=\"next\"", r.URL.Path, q.Encode()))
}

// pageOf cuts a page out of a list sorted newest (highest id) first: the
// items after after, at most limit, linking the next page when full.
func pageOf[T any](w http.ResponseWriter, r *http.Request, list []T, id func(T) string, after string, limit int) []T {
	if after != "" {
		i := sort.Search(len(list), func(i int) bool { return id(list[i]) < after })
		list = list[i:]
	}
	if len(list) > limit {
		list = list[:limit]
		setNext(w, r, id(list[limit-1]))
	}
	return list
}

// serveBackup is GET /api/v1/backup. The copy is written into the data
// directory first, in one short read transaction, and then streamed from
// that file: a client that reads slowly must not hold a transaction open,
// since bbolt cannot grow its map, so no commit that needs room can
// finish, while one is. The client writes the file: under systemd the
// daemon may write only its own state directory.
func (s *Server) serveBackup(w http.ResponseWriter, r *http.Request) {
	// Each backup is a whole copy of the store on disk: one at a time.
	if !s.backupMu.TryLock() {
		w.Header().Set("Retry-After", "30")
		writeError(w, errkind.New(errkind.Unavailable, "a backup is being made; try again when it is done"))
		return
	}
	defer s.backupMu.Unlock()
	f, size, err := s.backupCopy()
	if err != nil {
		s.Log.Error("making a backup failed", "err", err)
		writeError(w, fmt.Errorf("making the backup: %w", err))
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="state.db"`)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	streamDeadline(w, size)
	if _, err := io.Copy(w, f); err != nil {
		s.Log.Warn("a backup download ended early", "remote", r.RemoteAddr, "err", err)
	}
}

// backupCopy writes a consistent copy of the store into the data
// directory and opens it. Its name is removed before the copy is read, so
// nothing is left behind however the download ends; a crash in between
// leaves a hidden .tmp file, which the next start sweeps.
func (s *Server) backupCopy() (*os.File, int64, error) {
	path := filepath.Join(s.DataDir, ".backup-"+randomToken()[:16]+".tmp")
	if err := s.Store.Backup(path); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	os.Remove(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// statusOf is the one place an error's kind (errkind) becomes an HTTP
// status code.
func statusOf(err error) int {
	switch errkind.Of(err) {
	case errkind.NotFound:
		return http.StatusNotFound
	case errkind.Invalid:
		return http.StatusBadRequest
	case errkind.Conflict:
		return http.StatusConflict
	case errkind.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers an error as the API's JSON {"error": "..."}, with the
// status code of its kind.
func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// registrationsOf are registry entries as the API shows them (nil for
// nil).
func registrationsOf(regs []*store.Registration) []*api.Registration {
	if regs == nil {
		return nil
	}
	out := make([]*api.Registration, len(regs))
	for i, r := range regs {
		keys := make([]api.RecipientKey, len(r.Keys))
		for j, k := range r.Keys {
			keys[j] = api.RecipientKey{Type: k.Type, Value: k.Value}
		}
		out[i] = &api.Registration{ID: r.ID, Tenant: r.Tenant, Keys: keys, Channel: r.Channel, Address: r.Address, Source: r.Source,
			ValidFrom: r.ValidFrom, RevokedAt: r.RevokedAt, RevokedBy: r.RevokedBy, Created: r.Created}
	}
	return out
}

// ordersOf are mandate orders as the API shows them (nil for nil).
func ordersOf(orders []*store.MandateOrder) []*api.MandateOrder {
	if orders == nil {
		return nil
	}
	out := make([]*api.MandateOrder, len(orders))
	for i, o := range orders {
		out[i] = &api.MandateOrder{ID: o.ID, Tenant: o.Tenant, Action: o.Action, Payer: o.Payer, Account: o.Account, PersonalID: o.PersonalID,
			NewPayer: o.NewPayer, Source: o.Source, State: string(o.State), Batch: o.Batch, FileName: o.FileName, Reason: o.Reason,
			Created: o.Created, Updated: o.Updated}
	}
	return out
}

// handleCompact serves POST /api/v1/store/compact.
func (s *Server) handleCompact(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Upkeep.Compact("api")
	if err != nil {
		writeJSON(w, statusOf(err), map[string]any{"error": err.Error(), "compaction": rep})
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// handleErase serves POST /api/v1/tenants/{tenant}/erase.
func (s *Server) handleErase(w http.ResponseWriter, r *http.Request) {
	var req api.EraseRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, errkind.New(errkind.Invalid, `the body must be {"key": "TYPE:VALUE", "dry_run": true|false, "by": "who"}: %w`, err))
		return
	}
	req.By = recordedBy(r, req.By)
	// A client that hangs up does not stop an erasure part way.
	rep, err := s.Upkeep.Erase(context.WithoutCancel(r.Context()), r.PathValue("tenant"), req)
	switch {
	case err != nil && rep != nil:
		// Stopped part way: what was done is in the report.
		writeJSON(w, statusOf(err), map[string]any{"error": err.Error(), "erasure": rep})
	case err != nil:
		writeError(w, err)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}
