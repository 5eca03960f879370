package gateway

import (
	"fmt"
	"net/http"
	"time"
)

// The store's size: its quota (store.max_size) and compaction. bbolt
// reuses freed pages but never shrinks its file, so retention alone keeps
// state.db from growing further and a compaction gives the space back.

// CompactReport is one compaction, as status and the API show it.
type CompactReport struct {
	At           time.Time `json:"at"`
	Cause        string    `json:"cause"` // auto (after a sweep) or api
	MBBefore     float64   `json:"mb_before"`
	MBAfter      float64   `json:"mb_after"`
	Seconds      float64   `json:"seconds"`
	WritesPaused float64   `json:"writes_paused_seconds"`
	Error        string    `json:"error,omitempty"`
}

// compact compacts the store now; cause says who asked.
func (u *upkeep) compact(cause string) (*CompactReport, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	rep := &CompactReport{At: time.Now().UTC(), Cause: cause}
	st, err := u.d.store.Compact()
	rep.MBBefore, rep.MBAfter = float64(st.BytesBefore)/1e6, float64(st.BytesAfter)/1e6
	rep.Seconds, rep.WritesPaused = st.Took.Seconds(), st.WritesPaused.Seconds()
	outcome := "ok"
	if err != nil {
		outcome, rep.Error = "failed", err.Error()
		u.d.log.Error("store compaction failed", "cause", cause, "err", err)
	} else {
		u.d.log.Info("store compacted", "cause", cause, "mb_before", rep.MBBefore, "mb_after", rep.MBAfter,
			"seconds", rep.Seconds, "writes_paused_seconds", rep.WritesPaused)
		for what, v := range map[string]float64{"bytes_before": float64(st.BytesBefore), "bytes_after": float64(st.BytesAfter),
			"seconds": rep.Seconds, "writes_paused_seconds": rep.WritesPaused} {
			u.compactLast.WithLabelValues(what).Set(v)
		}
	}
	u.compactions.WithLabelValues(outcome, cause).Inc()
	u.lastCompact.Store(rep)
	return rep, err
}

// handleCompact serves POST /api/v1/store/compact.
func (d *Daemon) handleCompact(w http.ResponseWriter, r *http.Request) {
	rep, err := d.upkeep.compact("api")
	if err != nil {
		writeJSON(w, statusOf(err), map[string]any{"error": err.Error(), "compaction": rep})
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// StoreStatus is the store's size against its quota, and its upkeep.
type StoreStatus struct {
	Bytes     int64 `json:"bytes"`
	FreeBytes int64 `json:"free_bytes"`
	MaxBytes  int64 `json:"max_bytes"` // 0: no quota
	// OverQuota says why new input files are refused, when they are.
	OverQuota      string         `json:"over_quota,omitempty"`
	LastSweep      *SweepReport   `json:"last_sweep,omitempty"`
	LastCompaction *CompactReport `json:"last_compaction,omitempty"`
}

func (d *Daemon) storeStatus() *StoreStatus {
	return &StoreStatus{Bytes: d.store.Size(), FreeBytes: d.store.FreeBytes(), MaxBytes: int64(d.live.Load().Store.MaxSize),
		OverQuota: d.overQuota(), LastSweep: d.upkeep.lastSweep.Load(), LastCompaction: d.upkeep.lastCompact.Load()}
}

// overQuota says why new files are refused, or "" while the store is
// within store.max_size.
func (d *Daemon) overQuota() string {
	limit := int64(d.live.Load().Store.MaxSize)
	if limit <= 0 {
		return ""
	}
	size := d.store.Size()
	if size <= limit {
		return ""
	}
	return fmt.Sprintf("the gateway's store is full: state.db is %s, over store.max_size %s", humanBytes(size), humanBytes(limit))
}
