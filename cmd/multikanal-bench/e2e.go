package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/multikanal/multikanal/outbound/channels"
)

// e2eConfig sizes the end-to-end run.
type e2eConfig struct {
	bin       string    // daemon binary
	work      string    // temporary directory for data and generated files
	invoices  int       // invoices in the CSV batch
	zip       int       // invoices in the UBL ZIP batch
	zipMix    recipient // -zip-mix: "" or "mixed" for the mix, else one channel for all
	latency   int       // single-invoice drops
	timeout   time.Duration
	perf      string // perf.data path, or "" for no profile
	pprof     string // Go CPU profiles of each batch: <pprof>.<batch>.pprof, or ""
	trace     string // execution traces of each batch's first traceSecs: <trace>.<batch>.trace, or ""
	traceSecs int
}

// batchResult is one batch file dropped and followed to its final receipt.
type batchResult struct {
	Name           string         `json:"name"`
	Format         string         `json:"format"`
	Invoices       int            `json:"invoices"`
	Bytes          int64          `json:"bytes"`
	GenSeconds     float64        `json:"generate_seconds"`
	Seconds        float64        `json:"seconds"`
	InvoicesPerSec float64        `json:"invoices_per_second"`
	FileState      string         `json:"file_state"`
	FileReason     string         `json:"file_reason,omitempty"`
	States         map[string]int `json:"states"`
	DaemonCPU      float64        `json:"daemon_cpu_seconds"`
	PeakRSS        int64          `json:"daemon_peak_rss_bytes"`                // VmHWM after this batch
	PeakAtSeconds  float64        `json:"daemon_peak_rss_at_seconds,omitempty"` // when, from the drop
	Load1Before    float64        `json:"load1_before"`
	Load1After     float64        `json:"load1_after"`
	Profile        string         `json:"cpu_profile,omitempty"` // -pprof: the daemon's Go CPU profile over this batch
}

// percentiles summarises a set of latencies.
type percentiles struct {
	N     int     `json:"n"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

// latencyResult is the single-invoice drops.
type latencyResult struct {
	Samples   int                    `json:"samples"`
	Failed    int                    `json:"failed"`
	Final     percentiles            `json:"rename_to_final_receipt"`
	Outbox    percentiles            `json:"rename_to_outbox_file"`
	ByChannel map[string]percentiles `json:"rename_to_final_receipt_by_channel"`
	Load1     float64                `json:"load1_after"`
	Failures  []string               `json:"failures,omitempty"`
}

// e2eResult is the whole end-to-end run.
type e2eResult struct {
	Registered    int                         `json:"recipients_registered"`
	Batches       []batchResult               `json:"batches"`
	PeakRSS       int64                       `json:"daemon_peak_rss_bytes"`
	MaxSampledRSS int64                       `json:"daemon_max_sampled_rss_bytes"`
	RSSSamples    int                         `json:"daemon_rss_samples"`
	MaxAnonRSS    int64                       `json:"daemon_max_sampled_rss_anon_bytes"`
	MaxFileRSS    int64                       `json:"daemon_max_sampled_rss_file_bytes"`
	StoreBytes    int64                       `json:"store_bytes"`
	ByChannel     map[string]map[string]int64 `json:"documents_by_channel"`
	Latency       *latencyResult              `json:"latency,omitempty"`
	Profile       string                      `json:"perf_profile,omitempty"`
}

// runE2E runs the daemon on a fresh data directory, drops the CSV batch,
// then the UBL ZIP, then single invoices one at a time.
func runE2E(cfg e2eConfig, say func(string, ...any)) (*e2eResult, error) {
	g := newGenerator(1)
	zg, err := g.onlyTo(cfg.zipMix)
	if err != nil {
		return nil, err
	}
	res := &e2eResult{}
	type batch struct {
		name, format, path string
		n                  int
		bytes              int64
		gen                time.Duration
	}
	var batches []batch
	for _, b := range []struct {
		format string
		from   int
		n      int
		only   recipient
		write  func(string, int, int) (int64, error)
	}{
		{"csv", 0, cfg.invoices, "", g.writeCSV},
		{"ubl-zip", cfg.invoices, cfg.zip, zg.only, zg.writeUBLZip},
	} {
		if b.n == 0 {
			continue
		}
		ext := map[string]string{"csv": ".csv", "ubl-zip": ".zip"}[b.format]
		name := fmt.Sprintf("batch-%d%s", b.n, ext)
		if b.only != "" {
			name = fmt.Sprintf("batch-%d-%s%s", b.n, b.only, ext)
		}
		path := filepath.Join(cfg.work, name)
		say("generating %s: %d invoices", name, b.n)
		start := time.Now()
		size, err := b.write(path, b.from, b.n)
		if err != nil {
			return nil, err
		}
		batches = append(batches, batch{name, b.format, path, b.n, size, time.Since(start)})
		say("  %s, %.1f MB in %.1fs", name, float64(size)/1e6, time.Since(start).Seconds())
	}
	latFrom := cfg.invoices + cfg.zip
	var singles []string
	for k := range cfg.latency {
		path := filepath.Join(cfg.work, fmt.Sprintf("single-%04d.csv", k))
		if _, err := g.writeCSV(path, latFrom+k, 1); err != nil {
			return nil, err
		}
		singles = append(singles, path)
	}

	d, err := startDaemon(cfg.bin, filepath.Join(cfg.work, "data"), cfg.perf, cfg.pprof != "" || cfg.trace != "")
	if err != nil {
		return nil, err
	}
	defer d.close()
	say("daemon pid %d, http %s, data %s", d.info.PID, d.info.HTTP, d.data)

	var reg bytes.Buffer
	rows, err := g.writeRecipients(&reg, 0, latFrom+cfg.latency)
	if err != nil {
		return nil, err
	}
	if rows > 0 {
		if _, err := d.importRecipients(&reg); err != nil {
			return nil, err
		}
		res.Registered = rows
		say("registered %d personnummer for e-faktura and Kivra", rows)
	}

	for _, b := range batches {
		br := batchResult{Name: b.name, Format: b.format, Invoices: b.n, Bytes: b.bytes, GenSeconds: b.gen.Seconds(), Load1Before: loadAvg()}
		var prof *cpuProfile
		if cfg.pprof != "" {
			prof = d.startCPUProfile(cfg.pprof + "." + b.format + ".pprof")
		}
		var traced <-chan error
		if cfg.trace != "" {
			traced = d.takeTrace(cfg.trace+"."+b.format+".trace", cfg.traceSecs)
		}
		cpu0 := d.cpu()
		start, err := d.drop(b.path, b.name)
		if err != nil {
			return nil, err
		}
		say("dropped %s", b.name)
		h, end, err := followBatch(d, b.name, start, cfg.timeout, say)
		if err != nil {
			return nil, err
		}
		br.Seconds = end.Sub(start).Seconds()
		br.InvoicesPerSec = float64(b.n) / br.Seconds
		br.FileState, br.FileReason, br.States = h.State, h.Reason, h.Summary
		br.DaemonCPU = (d.cpu() - cpu0).Seconds()
		if prof != nil {
			if err := prof.finish(); err != nil {
				say("CPU profile: %v", err)
			} else {
				br.Profile = prof.out
				say("  CPU profile: %s", prof.out)
			}
		}
		if traced != nil {
			if err := <-traced; err != nil {
				say("execution trace: %v", err)
			} else {
				say("  execution trace: %s.%s.trace (go tool trace)", cfg.trace, b.format)
			}
		}
		var at time.Time
		br.PeakRSS, at = d.peakRSS()
		if at.After(start) {
			br.PeakAtSeconds = at.Sub(start).Seconds()
		}
		br.Load1After = loadAvg()
		res.Batches = append(res.Batches, br)
		say("  final after %.1fs: %.0f invoices/s, states %v, peak RSS %s at %.1fs", br.Seconds, br.InvoicesPerSec, br.States, mb(br.PeakRSS), br.PeakAtSeconds)
	}

	if len(singles) > 0 {
		say("latency: %d single-invoice drops, one at a time", len(singles))
		if res.Latency, err = measureLatency(d, singles, latFrom); err != nil {
			return nil, err
		}
	}

	var st struct {
		ByChannel map[string]map[string]int64 `json:"documents_by_channel"`
	}
	if err := d.apiGet("/api/v1/status", &st); err != nil {
		say("status: %v", err)
	}
	res.ByChannel = st.ByChannel
	res.PeakRSS, _ = d.peakRSS()
	res.MaxSampledRSS, res.RSSSamples = d.rss()
	res.MaxAnonRSS, res.MaxFileRSS = d.rssParts()
	if st, err := os.Stat(filepath.Join(d.data, "state.db")); err == nil {
		res.StoreBytes = st.Size()
	}
	if err := d.close(); err != nil {
		say("stopping the daemon: %v", err)
	}
	if cfg.perf != "" {
		res.Profile = cfg.perf
	}
	return res, nil
}

// followBatch polls the receipt of name until it is final, saying how far
// the batch has come every 5 seconds. It returns the final receipt head and
// the time the benchmark saw it final.
func followBatch(d *daemon, name string, start time.Time, limit time.Duration, say func(string, ...any)) (receiptHead, time.Time, error) {
	next := start.Add(5 * time.Second)
	for {
		h, ok, err := d.readReceiptHead(name)
		now := time.Now()
		if err != nil {
			return h, now, err
		}
		if ok && h.Final {
			return h, now, nil
		}
		if now.Sub(start) > limit {
			return h, now, fmt.Errorf("%s: no final receipt after %s (last: %v)", name, limit, h.Summary)
		}
		if now.After(next) {
			max, _ := d.rss()
			say("  %4.0fs %v, RSS max %s, load %.2f", now.Sub(start).Seconds(), h.Summary, mb(max), loadAvg())
			next = next.Add(5 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// measureLatency drops each single-invoice file and waits for its final
// receipt before the next. fsnotify tells when the receipt is rewritten and
// when a file appears under outbox/<channel>/; a 20 ms poll of the receipt
// covers a missed event.
func measureLatency(d *daemon, singles []string, from int) (*latencyResult, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if err := w.Add(d.receipts()); err != nil {
		return nil, err
	}
	for _, ch := range channels.All() {
		dir := filepath.Join(d.data, "outbox", ch.Name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		if err := w.Add(dir); err != nil {
			return nil, err
		}
	}
	res := &latencyResult{Samples: len(singles), ByChannel: map[string]percentiles{}}
	var final, outbox []time.Duration
	byChannel := map[string][]time.Duration{}
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for k, path := range singles {
		name := filepath.Base(path)
		receipt := name + ".receipt.json"
	drain:
		for {
			select {
			case <-w.Events:
			case <-w.Errors:
			default:
				break drain
			}
		}
		start, err := d.drop(path, name)
		if err != nil {
			return nil, err
		}
		var outAt, finalAt time.Time
		var h receiptHead
		deadline := time.After(30 * time.Second)
	wait:
		for {
			check := false
			select {
			case ev := <-w.Events:
				base := filepath.Base(ev.Name)
				switch {
				case filepath.Dir(ev.Name) == d.receipts():
					check = base == receipt
				case outAt.IsZero() && !strings.HasPrefix(base, ".") && ev.Has(fsnotify.Create):
					outAt = time.Now()
				}
			case <-poll.C:
				check = true
			case err := <-w.Errors:
				return nil, fmt.Errorf("watching the outbox: %w", err)
			case <-deadline:
				res.Failed++
				res.Failures = append(res.Failures, name+": no final receipt within 30s")
				break wait
			}
			if !check {
				continue
			}
			var ok bool
			if h, ok, err = d.readReceiptHead(name); err != nil {
				return nil, err
			}
			if ok && h.Final {
				finalAt = time.Now()
				break wait
			}
		}
		if finalAt.IsZero() {
			continue
		}
		if h.Summary["delivered"] != 1 {
			res.Failed++
			res.Failures = append(res.Failures, fmt.Sprintf("%s: final but not delivered: %s %v %s", name, h.State, h.Summary, h.Reason))
			continue
		}
		lat := finalAt.Sub(start)
		final = append(final, lat)
		ch := string(recipientOf(from + k))
		byChannel[ch] = append(byChannel[ch], lat)
		if !outAt.IsZero() {
			outbox = append(outbox, outAt.Sub(start))
		}
	}
	res.Final, res.Outbox = summarise(final), summarise(outbox)
	for ch, l := range byChannel {
		res.ByChannel[ch] = summarise(l)
	}
	res.Load1 = loadAvg()
	return res, nil
}

// summarise gives the nearest-rank percentiles of ds.
func summarise(ds []time.Duration) percentiles {
	if len(ds) == 0 {
		return percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[max(i, 0)])
	}
	return percentiles{N: len(s), P50Ms: rank(0.50), P99Ms: rank(0.99), MaxMs: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }

// mb formats a byte count in MB (10^6), as the goals are written.
func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/1e6) }
