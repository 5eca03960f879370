package main

import (
	"fmt"
	"io"

	"github.com/multikanal/multikanal/gateway/api"
)

// printStore shows the store's quota and upkeep in `multikanal status`.
func printStore(w io.Writer, s *api.StoreStatus) {
	if s == nil {
		return
	}
	quota := "no quota"
	if s.MaxBytes > 0 {
		quota = fmt.Sprintf("quota %.1f MB", float64(s.MaxBytes)/1e6)
	}
	fmt.Fprintf(w, "store: %s, %.1f MB free inside (multikanal compact gives it back)\n", quota, float64(s.FreeBytes)/1e6)
	if s.OverQuota != "" {
		fmt.Fprintf(w, "STORE OVER QUOTA: new input files are refused: %s\n", s.OverQuota)
	}
	if r := s.LastSweep; r != nil {
		fmt.Fprintf(w, "retention: last sweep %s (%s): %d documents summarised, %d anonymised, %d input files, %d outbox files, %d receipts removed",
			r.Started.Local().Format("2006-01-02 15:04"), r.Took, r.Summarised, r.Anonymised, r.InputFiles, r.OutboxFiles, r.Receipts)
		if r.Error != "" {
			fmt.Fprintf(w, "; FAILED: %s", r.Error)
		}
		fmt.Fprintln(w)
	}
	if c := s.LastCompaction; c != nil {
		fmt.Fprintf(w, "compaction: last %s (%s): %.1f → %.1f MB in %.1f s, writes paused %.1f s",
			c.At.Local().Format("2006-01-02 15:04"), c.Cause, c.MBBefore, c.MBAfter, c.Seconds, c.WritesPaused)
		if c.Error != "" {
			fmt.Fprintf(w, "; FAILED: %s", c.Error)
		}
		fmt.Fprintln(w)
	}
}
