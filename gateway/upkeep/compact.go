package upkeep

import (
	"fmt"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
)

// The store's size: its quota (store.max_size) and compaction. bbolt
// reuses freed pages but never shrinks its file, so retention alone keeps
// state.db from growing further and a compaction gives the space back.

// Compact compacts the store now; cause says who asked (auto, api).
func (u *Upkeep) Compact(cause string) (*api.CompactReport, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	rep := &api.CompactReport{At: time.Now().UTC(), Cause: cause}
	st, err := u.Store.Compact()
	rep.MBBefore, rep.MBAfter = float64(st.BytesBefore)/1e6, float64(st.BytesAfter)/1e6
	rep.Seconds, rep.WritesPaused = st.Took.Seconds(), st.WritesPaused.Seconds()
	outcome := "ok"
	if err != nil {
		outcome, rep.Error = "failed", err.Error()
		u.Log.Error("store compaction failed", "cause", cause, "err", err)
	} else {
		u.Log.Info("store compacted", "cause", cause, "mb_before", rep.MBBefore, "mb_after", rep.MBAfter,
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

// Status is the store's size against its quota, and its last sweep and
// compaction.
func (u *Upkeep) Status() *api.StoreStatus {
	return &api.StoreStatus{Bytes: u.Store.Size(), FreeBytes: u.Store.FreeBytes(), MaxBytes: int64(u.Config().Store.MaxSize),
		OverQuota: u.OverQuota(), LastSweep: u.lastSweep.Load(), LastCompaction: u.lastCompact.Load()}
}

// OverQuota says why new files are refused, or "" while the store is
// within store.max_size.
func (u *Upkeep) OverQuota() string {
	limit := int64(u.Config().Store.MaxSize)
	if limit <= 0 {
		return ""
	}
	size := u.Store.Size()
	if size <= limit {
		return ""
	}
	return fmt.Sprintf("the gateway's store is full: state.db is %s, over store.max_size %s", HumanBytes(size), HumanBytes(limit))
}

// HumanBytes writes a size as people read it: "512 B", "1.5 MiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
