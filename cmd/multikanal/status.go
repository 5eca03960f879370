package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/multikanal/multikanal/gateway/api"
)

func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	body, err := df.call("GET", "/api/v1/status", nil, nil)
	if err != nil {
		fmt.Fprintln(stderr, "multikanal status:", err)
		return exitProblems
	}
	if *df.asJSON {
		stdout.Write(body)
		return exitOK
	}
	var st api.Status
	if err := json.Unmarshal(body, &st); err != nil {
		fmt.Fprintln(stderr, "multikanal status: unexpected answer:", err)
		return exitProblems
	}
	printStatus(stdout, &st)
	return exitOK
}

func printStatus(w io.Writer, st *api.Status) {
	ready := "ready"
	if !st.Ready {
		ready = "NOT READY"
	}
	fmt.Fprintf(w, "multikanal %s, %s, up %s, pid %d\n", st.Info.Version, ready, st.Uptime, st.Info.PID)
	fmt.Fprintf(w, "data %s (store %.1f MB)\n", st.Info.DataDir, float64(st.StoreBytes)/1e6)
	printStore(w, st.Store)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "files: %s (%d not final)\n", joinCounts(st.Files), st.FilesOpen)
	fmt.Fprintf(w, "documents: %s\n", joinCounts(st.Documents))
	channels := sortedKeys(st.ByChannel)
	for _, ch := range channels {
		fmt.Fprintf(w, "  %-9s %s\n", ch, joinCounts(st.ByChannel[ch]))
	}
	var q []string
	for _, ch := range sortedKeys(st.Queue) {
		if s := st.Queue[ch]; s.Ready+s.Scheduled > 0 {
			q = append(q, fmt.Sprintf("%s %d", ch, s.Ready+s.Scheduled))
		}
	}
	if len(q) == 0 {
		q = []string{"empty"}
	}
	fmt.Fprintf(w, "queue: %s\n", strings.Join(q, ", "))
	if st.DeadAcknowledged > 0 {
		fmt.Fprintf(w, "dead and acknowledged: %d\n", st.DeadAcknowledged)
	}
	if len(st.Failures) > 0 {
		shown := ""
		if st.NeedsAttention > len(st.Failures) {
			shown = fmt.Sprintf(", the newest %d shown", len(st.Failures))
		}
		fmt.Fprintf(w, "\nneeds attention (%d%s):\n", max(st.NeedsAttention, len(st.Failures)), shown)
		for _, f := range st.Failures {
			fmt.Fprintf(w, "  %s %-8s %-9s %s: %s\n", f.Doc, f.State, f.Channel, f.Number, f.Reason)
		}
		fmt.Fprintln(w, "retry with 'multikanal docs retry ID'; acknowledge a dead one with 'multikanal docs ack --why TEXT ID'")
	}
}

func joinCounts[K ~string, V int | int64](m map[K]V) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
