package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/store"
)

// Status is what /api/v1/status answers and `multikanal status` shows.
type Status struct {
	Info       Info                        `json:"daemon"`
	Ready      bool                        `json:"ready"`
	Uptime     string                      `json:"uptime"`
	StoreBytes int64                       `json:"store_bytes"`
	Files      map[store.FileState]int     `json:"files"`
	FilesOpen  int                         `json:"files_not_final"`
	Documents  map[store.DocState]int64    `json:"documents"`
	ByChannel  map[string]map[string]int64 `json:"documents_by_channel"`
	Queue      map[string]QueueStatus      `json:"queue"`
	// Failures are the documents that need attention, the newest first, at
	// most maxFailures; NeedsAttention is how many there are in all.
	Failures       []Failure `json:"failures"`
	NeedsAttention int       `json:"needs_attention"`
	// DeadAcknowledged counts the dead documents an operator acknowledged:
	// they no longer need attention.
	DeadAcknowledged int64 `json:"dead_acknowledged"`
	// LastReload is the outcome of the last SIGHUP, if there was one.
	LastReload *ReloadStatus `json:"last_reload,omitempty"`
	// Store is the store's size against its quota, and its upkeep.
	Store *StoreStatus `json:"store,omitempty"`
}

// QueueStatus is one channel's waiting work.
type QueueStatus struct {
	Ready     int `json:"ready"`     // waiting for a worker
	Scheduled int `json:"scheduled"` // waiting for a retry time (all channels share the scheduler)
}

// Failure is a document that needs attention: retrying, failed, or dead
// and not acknowledged.
type Failure struct {
	Doc     string         `json:"doc"`
	Tenant  string         `json:"tenant"`
	Number  string         `json:"number,omitempty"`
	State   store.DocState `json:"state"`
	Channel string         `json:"channel,omitempty"`
	Reason  string         `json:"reason"`
	Updated time.Time      `json:"updated"`
}

// maxFailures bounds the failures listed in a status.
const maxFailures = 50

// Status reads the daemon's current state from the store.
func (d *Daemon) Status() (*Status, error) {
	st := &Status{Info: d.info, Ready: d.ready.Load(), StoreBytes: d.store.Size(),
		Files: map[store.FileState]int{}, Documents: map[store.DocState]int64{}, ByChannel: map[string]map[string]int64{},
		Queue: map[string]QueueStatus{}, Failures: []Failure{}, LastReload: d.lastReload.Load()}
	if !d.info.Started.IsZero() {
		st.Uptime = time.Since(d.info.Started).Round(time.Second).String()
	}
	var open []string
	err := d.store.View(func(tx store.Tx) error {
		counts, err := tx.Counts()
		if err != nil {
			return err
		}
		for state, byCh := range counts {
			for ch, n := range byCh {
				st.Documents[state] += n
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
			st.Files[state] = int(n)
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
		st.Failures, st.NeedsAttention, dead, err = d.needsAttention(open)
		st.DeadAcknowledged = st.Documents[store.DocDead] - int64(dead)
	}
	st.Store = d.storeStatus()
	for name, r := range d.engine.runners {
		st.Queue[name] = QueueStatus{Ready: r.q.len()}
	}
	st.Queue["(retries)"] = QueueStatus{Scheduled: d.engine.sched.len()}
	return st, err
}

// operatorHandler is what the operators' listeners serve: every route of
// httpHandler behind the checks of auth.go.
func (d *Daemon) operatorHandler() http.Handler {
	return d.auth.guard(d.httpHandler(), d.log.Warn)
}

// httpHandler holds the operators' routes, without the checks: serve it
// only through operatorHandler. A route added here is authenticated there
// unless openRoutes names it.
func (d *Daemon) httpHandler() *routeMux {
	mux := newRouteMux()
	if d.opts.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	}
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.HandleFunc("GET /{$}", d.statusPage)
	mux.HandleFunc("GET /login", d.serveLogin)
	mux.HandleFunc("POST /logout", d.serveLogout)
	mux.HandleFunc("POST /api/v1/login", d.serveLoginLink)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !d.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := d.Status()
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET /api/v1/files/{id}/receipt", func(w http.ResponseWriter, r *http.Request) {
		rc, err := d.buildReceipt(r.PathValue("id"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
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
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		docs, err := d.ListDocs(DocFilter{State: q.Get("state"), Channel: q.Get("channel"), Tenant: q.Get("tenant"), File: q.Get("file"), Limit: limit, After: after})
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		if len(docs) == limit {
			setNext(w, r, docs[len(docs)-1].ID)
		}
		writeJSON(w, http.StatusOK, docs)
	})
	mux.HandleFunc("GET /api/v1/docs/{id}", func(w http.ResponseWriter, r *http.Request) {
		detail, err := d.ShowDoc(r.PathValue("id"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "document " + r.PathValue("id") + ": " + err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, detail)
	})
	mux.HandleFunc("POST /api/v1/docs/{id}/retry", func(w http.ResponseWriter, r *http.Request) {
		doc, err := d.RetryDoc(r.PathValue("id"))
		switch {
		case errors.Is(err, store.ErrNotFound):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "document " + r.PathValue("id") + " not found"})
		case err != nil:
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		default:
			writeJSON(w, http.StatusOK, doc)
		}
	})
	mux.HandleFunc("POST /api/v1/docs/{id}/ack", d.handleAckDoc)
	mux.HandleFunc("POST /api/v1/docs/{id}/resend", d.handleResend)
	mux.HandleFunc("GET /api/v1/backup", d.serveBackup)
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/erase", d.handleErase)
	mux.HandleFunc("POST /api/v1/store/compact", d.handleCompact)
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/recipients", func(w http.ResponseWriter, r *http.Request) {
		rows, err := recipients.Parse(http.MaxBytesReader(w, r.Body, 256<<20), time.Now(), recipientChannels(d.live.Load()))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		source := "import " + r.URL.Query().Get("name")
		added, revoked, err := d.ImportRecipients(r.PathValue("tenant"), source, rows)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "nothing applied: " + err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"added": added, "revoked": revoked})
	})
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/recipients", func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		if d.tenant(tenant) == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no tenant " + tenant})
			return
		}
		if key := r.URL.Query().Get("key"); key != "" {
			rc, err := d.RecipientsByKey(tenant, key)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, rc)
			return
		}
		limit, after, err := pageParams(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		list, err := d.ListRecipients(tenant, r.URL.Query().Get("all") == "")
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		list = pageOf(w, r, list, func(reg *store.Registration) string { return reg.ID }, after, limit)
		writeJSON(w, http.StatusOK, list)
	})
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/autogiro/mandates", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Orders []MandateOrderRequest `json:"orders"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body must be {\"orders\": [...]}: " + err.Error()})
			return
		}
		orders, err := d.QueueMandateOrders(r.PathValue("tenant"), "api", req.Orders)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "nothing queued: " + err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"orders": orders})
	})
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/autogiro/mandates", func(w http.ResponseWriter, r *http.Request) {
		limit, after, err := pageParams(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		list, err := d.ListMandateOrders(r.PathValue("tenant"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		list.Orders = pageOf(w, r, list.Orders, func(o *store.MandateOrder) string { return o.ID }, after, limit)
		if len(list.AwaitingApproval) > maxPage {
			list.AwaitingApproval = list.AwaitingApproval[:maxPage]
		}
		writeJSON(w, http.StatusOK, list)
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
			return 0, "", fmt.Errorf("limit %q: ask for 1 to %d items a page, and follow the Link header (rel=\"next\") or pass after=<the last id> for the next", v, maxPage)
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
func (d *Daemon) serveBackup(w http.ResponseWriter, r *http.Request) {
	// Each backup is a whole copy of the store on disk: one at a time.
	if !d.backupMu.TryLock() {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "a backup is being made; try again when it is done"})
		return
	}
	defer d.backupMu.Unlock()
	f, size, err := d.backupCopy()
	if err != nil {
		d.log.Error("making a backup failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "making the backup: " + err.Error()})
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="state.db"`)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	streamDeadline(w, size)
	if _, err := io.Copy(w, f); err != nil {
		d.log.Warn("a backup download ended early", "remote", r.RemoteAddr, "err", err)
	}
}

// backupCopy writes a consistent copy of the store into the data
// directory and opens it. Its name is removed before the copy is read, so
// nothing is left behind however the download ends; a crash in between
// leaves a hidden .tmp file, which the next start sweeps.
func (d *Daemon) backupCopy() (*os.File, int64, error) {
	path := filepath.Join(d.dataDir, ".backup-"+randomToken()[:16]+".tmp")
	if err := d.store.Backup(path); err != nil {
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

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
