package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound/sms"
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
	for name, r := range d.engine.runners {
		st.Queue[name] = QueueStatus{Ready: r.q.len()}
	}
	st.Queue["(retries)"] = QueueStatus{Scheduled: d.engine.sched.len()}
	return st, err
}

func (d *Daemon) httpHandler() http.Handler {
	mux := http.NewServeMux()
	if d.opts.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	}
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.Handle("POST /hooks/sms", sms.ReportHandler(d.applySMSReport))
	mux.HandleFunc("GET /{$}", d.statusPage)
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
		writeJSON(w, http.StatusOK, rc)
	})
	mux.HandleFunc("GET /api/v1/docs", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		docs, err := d.ListDocs(DocFilter{State: q.Get("state"), Channel: q.Get("channel"), Tenant: q.Get("tenant"), File: q.Get("file"), Limit: limit})
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
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
	// The backup is streamed to the client, which writes the file: under
	// systemd the daemon may write only its own state directory.
	mux.HandleFunc("GET /api/v1/backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="state.db"`)
		if _, err := d.store.WriteTo(w); err != nil {
			d.log.Error("streaming a backup failed", "err", err)
		}
	})
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/recipients", func(w http.ResponseWriter, r *http.Request) {
		rows, err := recipients.Parse(http.MaxBytesReader(w, r.Body, 256<<20), time.Now())
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
		list, err := d.ListRecipients(tenant, r.URL.Query().Get("all") == "")
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
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
		list, err := d.ListMandateOrders(r.PathValue("tenant"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, list)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
