// Command multikanal-bench measures the Multikanal gateway end to end: it
// generates a realistic batch of invoices, runs the real daemon on its
// embedded default (every channel on the spool transport) in a temporary
// data directory, drops the batch into the demo inbox and follows it to its
// final receipt; then it drops single invoices one at a time for latency;
// then it compares the daemon's SFTP server with OpenSSH's sftp-server,
// same client and cipher. It prints a table and writes the same as JSON.
//
// It measures; it changes nothing in the daemon and needs no configuration.
// Everything runs on loopback, and every process it starts (the daemon,
// sshd, perf) is stopped when it returns, fails or is interrupted.
//
// Usage:
//
//	go run ./cmd/multikanal-bench [flags]
//	go run ./cmd/multikanal-bench -n 10000 -latency 100 -sftp-size 64MiB -sftp-files 200 -json bench.json
//	go run ./cmd/multikanal-bench -gen DIR -n 1000 -zip 100   # only write the batch files
//
// docs/performance.md explains the figures and the goals they are held to.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// result is everything one run measured; the JSON file holds exactly this.
type result struct {
	Started time.Time   `json:"started"`
	Machine machine     `json:"machine"`
	E2E     *e2eResult  `json:"end_to_end,omitempty"`
	SFTP    *sftpResult `json:"sftp,omitempty"`
	Goals   []goal      `json:"goals"`
	Error   string      `json:"error,omitempty"` // what ended the run early
}

// machine is what the figures were measured on.
type machine struct {
	CPUs      int     `json:"cpus"`
	CPUModel  string  `json:"cpu_model"`
	MemBytes  int64   `json:"memory_bytes"`
	Kernel    string  `json:"kernel"`
	Go        string  `json:"go"`
	Load1     float64 `json:"load1_at_start"`
	OpenSSH   string  `json:"openssh,omitempty"`
	Daemon    string  `json:"daemon_version,omitempty"`
	Perf      bool    `json:"perf_profile"`
	Arguments string  `json:"arguments"`
}

// goal is one of issue 10's goals, held against a measured figure.
type goal struct {
	What     string  `json:"what"`
	Target   string  `json:"target"`
	Measured string  `json:"measured"`
	Met      bool    `json:"met"`
	Margin   float64 `json:"margin"` // the quotient How names
	How      string  `json:"how"`
}

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("multikanal-bench", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "invoices in the CSV batch (0 skips it)")
	zipN := fs.Int("zip", 1_000, "invoices in the UBL ZIP batch (0 skips it)")
	zipMix := fs.String("zip-mix", "mixed", "the recipients of the UBL ZIP batch: mixed (the CSV's mix), or one channel for all (email: every invoice an e-mail with its PDF)")
	latency := fs.Int("latency", 200, "single-invoice drops for latency (0 skips them)")
	e2e := fs.Bool("e2e", true, "run the end-to-end part (batch, ZIP, latency)")
	doSFTP := fs.Bool("sftp", true, "run the SFTP comparison with OpenSSH")
	sftpSize := sizeFlag(1 << 30)
	fs.Var(&sftpSize, "sftp-size", "size of the large SFTP upload (bytes, or with KiB, MiB, GiB)")
	sftpFiles := fs.Int("sftp-files", 1_000, "number of small SFTP uploads")
	sftpFileSize := sizeFlag(10 << 10)
	fs.Var(&sftpFileSize, "sftp-file-size", "size of each small SFTP upload")
	rounds := fs.Int("sftp-rounds", 5, "interleaved rounds per server, test and cipher (medians are reported)")
	sftpFsync := fs.Bool("sftp-fsync", false, "upload with put -f (fsync@openssh.com): every file synced to disk before the client's OK, on both servers")
	ciphers := fs.String("sftp-ciphers", "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com", "ciphers to compare, comma-separated")
	daemonBin := fs.String("daemon", "", "the multikanal binary to run (default: go build ./cmd/multikanal)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	perfOut := fs.String("perf", "", "run the daemon under `perf record` during the end-to-end part and write perf.data here (and a report beside it, .txt)")
	pprofOut := fs.String("pprof", "", "take the daemon's Go CPU profile (serve --pprof) over each batch and write it to `PREFIX`.<format>.pprof (go tool pprof reads it)")
	traceOut := fs.String("trace", "", "take the daemon's execution trace (serve --pprof) over the first -trace-seconds of each batch and write it to `PREFIX`.<format>.trace (go tool trace reads it)")
	traceSecs := fs.Int("trace-seconds", 5, "length of each batch's execution trace (-trace)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up on a batch whose receipt is not final after this")
	keep := fs.Bool("keep", false, "keep the temporary directory (data, logs, generated files)")
	genDir := fs.String("gen", "", "only write the batch files (CSV, UBL ZIP, recipients CSV) into this directory and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "multikanal-bench: unexpected arguments %q; it takes flags only (-h lists them)\n", fs.Args())
		return 2
	}
	say := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	if *genDir != "" {
		if err := generateOnly(*genDir, *n, *zipN, recipient(*zipMix), say); err != nil {
			fmt.Fprintln(os.Stderr, "multikanal-bench:", err)
			return 1
		}
		return 0
	}

	// Ctrl-C and SIGTERM stop every process started so far, then exit.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "multikanal-bench: %s: stopping the daemon and sshd\n", s)
		runCleanups()
		os.Exit(130)
	}()
	defer runCleanups()

	work, err := os.MkdirTemp("", "multikanal-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "multikanal-bench:", err)
		return 1
	}
	if *keep {
		say("work directory (kept): %s", work)
	} else {
		atExit(func() { os.RemoveAll(work) })
	}

	res := &result{Started: time.Now().UTC(), Machine: describeMachine(), Goals: []goal{}}
	res.Machine.Arguments = strings.Join(os.Args[1:], " ")
	res.Machine.Perf = *perfOut != ""
	bin := *daemonBin
	if bin == "" {
		say("building the daemon")
		if bin, err = buildDaemon(work); err != nil {
			fmt.Fprintln(os.Stderr, "multikanal-bench:", err)
			return 1
		}
	}
	if out, err := exec.Command(bin, "version").Output(); err == nil {
		res.Machine.Daemon = strings.TrimSpace(string(out))
	}

	writeJSON := func() error {
		if *jsonOut == "" {
			return nil
		}
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
		say("wrote %s", *jsonOut)
		return nil
	}
	// A failure keeps what was measured before it.
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "multikanal-bench:", err)
		res.Error = err.Error()
		res.Goals = goals(res)
		printTable(os.Stdout, res)
		writeJSON()
		return 1
	}
	if *e2e {
		perf := ""
		if *perfOut != "" {
			if _, err := exec.LookPath("perf"); err != nil {
				return fail(errors.New("-perf: perf is not installed (apt-get install linux-perf)"))
			}
			if perf, err = filepath.Abs(*perfOut); err != nil {
				return fail(err)
			}
		}
		res.E2E, err = runE2E(e2eConfig{bin: bin, work: work, invoices: *n, zip: *zipN, zipMix: recipient(*zipMix), latency: *latency, timeout: *timeout, perf: perf, pprof: *pprofOut, trace: *traceOut, traceSecs: *traceSecs}, say)
		if err != nil {
			return fail(err)
		}
		if perf != "" {
			if err := perfReport(perf); err != nil {
				say("perf report: %v", err)
			}
		}
	}
	if *doSFTP {
		res.SFTP, err = runSFTP(sftpConfig{bin: bin, work: work, size: int64(sftpSize), files: *sftpFiles, fileSize: int(sftpFileSize),
			rounds: *rounds, ciphers: strings.Split(*ciphers, ","), fsync: *sftpFsync}, say)
		if err != nil {
			return fail(err)
		}
	}
	res.Goals = goals(res)
	printTable(os.Stdout, res)
	if err := writeJSON(); err != nil {
		fmt.Fprintln(os.Stderr, "multikanal-bench:", err)
		return 1
	}
	return 0
}

// generateOnly writes the batch files a run would drop, for use by hand.
func generateOnly(dir string, n, zipN int, zipMix recipient, say func(string, ...any)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	g := newGenerator(1)
	zg, err := g.onlyTo(zipMix)
	if err != nil {
		return err
	}
	if n > 0 {
		size, err := g.writeCSV(filepath.Join(dir, fmt.Sprintf("batch-%d.csv", n)), 0, n)
		if err != nil {
			return err
		}
		say("batch-%d.csv: %d invoices, %s", n, n, mb(size))
	}
	if zipN > 0 {
		size, err := zg.writeUBLZip(filepath.Join(dir, fmt.Sprintf("batch-%d.zip", zipN)), n, zipN)
		if err != nil {
			return err
		}
		say("batch-%d.zip: %d invoices, %s", zipN, zipN, mb(size))
	}
	var rows int
	_, err = writeFile(filepath.Join(dir, "recipients.csv"), func(w io.Writer) error {
		var err error
		rows, err = g.writeRecipients(w, 0, n+zipN)
		return err
	})
	if err != nil {
		return err
	}
	say("recipients.csv: %d registrations; import it first (multikanal recipients import, or drop it into the inbox)", rows)
	return nil
}

// perfReport writes two views of perf.data beside it, as text: the flat
// profile (where the CPU is spent) and the cumulative one (which functions,
// with what they call, take it), from the frame-pointer call graphs.
func perfReport(data string) error {
	var all []byte
	for _, view := range [][]string{
		{"--no-children", "--percent-limit", "0.5"},
		{"--children", "--percent-limit", "3"},
	} {
		args := append([]string{"report", "-i", data, "--stdio", "--sort", "symbol", "-g", "none"}, view...)
		out, err := exec.Command("perf", args...).Output()
		if err != nil {
			return fmt.Errorf("perf %s: %w", strings.Join(args, " "), err)
		}
		all = append(append(all, "### perf "+strings.Join(args, " ")+"\n"...), out...)
	}
	return os.WriteFile(data+".txt", all, 0o644)
}

// describeMachine says what the figures are measured on.
func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Load1: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if _, v, ok := strings.Cut(strings.SplitN(string(b), "\n", 2)[0], ":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			m.MemBytes = kb << 10
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("ssh", "-V").CombinedOutput(); err == nil {
		m.OpenSSH = strings.TrimSpace(string(out))
	}
	return m
}

// goals holds the figures against issue 10's goals.
func goals(r *result) []goal {
	var gs []goal
	if e := r.E2E; e != nil {
		for _, b := range e.Batches {
			if b.Format != "csv" {
				continue
			}
			per100k := 100_000 / b.InvoicesPerSec
			gs = append(gs, goal{What: "100,000 invoices in one CSV, dropped → receipt final", Target: "≤ 60 s",
				Measured: fmt.Sprintf("%.1f s (%d invoices at %.0f/s, load %.1f)", per100k, b.Invoices, b.InvoicesPerSec, b.Load1After),
				Met:      per100k <= 60, Margin: per100k / 60, How: "seconds for 100,000 at the measured rate / 60"})
		}
		gs = append(gs, goal{What: "peak RSS of the daemon", Target: "≤ 300 MB",
			Measured: fmt.Sprintf("%s (VmHWM, after %s)", mb(e.PeakRSS), batchSizes(e)),
			Met:      e.PeakRSS <= 300e6, Margin: float64(e.PeakRSS) / 300e6, How: "VmHWM / 300 MB"})
		if l := e.Latency; l != nil && l.Outbox.N > 0 {
			gs = append(gs, goal{What: "single invoice dropped → in the spool outbox, p99", Target: "≤ 100 ms",
				Measured: fmt.Sprintf("%.1f ms (p50 %.1f ms, %d samples)", l.Outbox.P99Ms, l.Outbox.P50Ms, l.Outbox.N),
				Met:      l.Outbox.P99Ms <= 100, Margin: l.Outbox.P99Ms / 100, How: "p99 / 100 ms"})
		}
	}
	if s := r.SFTP; s != nil {
		for _, sum := range s.Summary {
			what := fmt.Sprintf("SFTP %s files, %s, ours / OpenSSH", sum.Test, sum.Cipher)
			if s.Fsync {
				what += " (put -f)"
			}
			gs = append(gs, goal{What: what, Target: fmt.Sprintf("≥ %.1f×", sum.Goal),
				Measured: fmt.Sprintf("%.2f× (%.1f vs %.1f %s)", sum.Ratio, sum.Ours, sum.OpenSSH, sum.Unit),
				Met:      sum.Ratio >= sum.Goal, Margin: sum.Ratio / sum.Goal, How: "ratio / goal"})
		}
	}
	return gs
}

func batchSizes(e *e2eResult) string {
	var s []string
	for _, b := range e.Batches {
		s = append(s, fmt.Sprintf("%d %s", b.Invoices, b.Format))
	}
	return strings.Join(s, " + ")
}

// printTable prints the results for people.
func printTable(w io.Writer, r *result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	m := r.Machine
	fmt.Fprintf(tw, "machine\t%d CPUs (%s), %.1f GB, %s, kernel %s, load %.2f at start\n", m.CPUs, m.CPUModel, float64(m.MemBytes)/1e9, m.Go, m.Kernel, m.Load1)
	if e := r.E2E; e != nil {
		fmt.Fprintln(tw, "\nbatch\tinvoices\tMB\tseconds\tinvoices/s\tdaemon CPU s\tpeak RSS\tload before/after\tstates")
		for _, b := range e.Batches {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.0f\t%.1f\t%s\t%.2f / %.2f\t%s\n", b.Name, b.Invoices, float64(b.Bytes)/1e6, b.Seconds, b.InvoicesPerSec,
				b.DaemonCPU, mb(b.PeakRSS), b.Load1Before, b.Load1After, states(b.States))
		}
		fmt.Fprintf(tw, "\ndaemon RSS\tpeak (VmHWM) %s, largest sample %s of %d (anonymous %s, file-backed %s); state.db %s\n",
			mb(e.PeakRSS), mb(e.MaxSampledRSS), e.RSSSamples, mb(e.MaxAnonRSS), mb(e.MaxFileRSS), mb(e.StoreBytes))
		if len(e.ByChannel) > 0 {
			var parts []string
			for _, ch := range sortedKeys(e.ByChannel) {
				parts = append(parts, ch+" "+states64(e.ByChannel[ch]))
			}
			fmt.Fprintf(tw, "by channel\t%s\n", strings.Join(parts, "; "))
		}
		if l := e.Latency; l != nil {
			fmt.Fprintln(tw, "\nsingle-invoice latency\tn\tp50 ms\tp99 ms\tmax ms")
			fmt.Fprintf(tw, "rename → outbox file\t%d\t%.1f\t%.1f\t%.1f\n", l.Outbox.N, l.Outbox.P50Ms, l.Outbox.P99Ms, l.Outbox.MaxMs)
			fmt.Fprintf(tw, "rename → final receipt\t%d\t%.1f\t%.1f\t%.1f\n", l.Final.N, l.Final.P50Ms, l.Final.P99Ms, l.Final.MaxMs)
			for _, ch := range sortedKeys(l.ByChannel) {
				p := l.ByChannel[ch]
				fmt.Fprintf(tw, "  final receipt, %s\t%d\t%.1f\t%.1f\t%.1f\n", ch, p.N, p.P50Ms, p.P99Ms, p.MaxMs)
			}
			if l.Failed > 0 {
				fmt.Fprintf(tw, "  failed\t%d\t%s\n", l.Failed, strings.Join(l.Failures[:min(3, len(l.Failures))], "; "))
			}
		}
	}
	if s := r.SFTP; s != nil {
		if s.Skipped != "" {
			fmt.Fprintf(tw, "\nSFTP\tskipped: %s\n", s.Skipped)
		} else {
			put := "put"
			if s.Fsync {
				put = "put -f"
			}
			fmt.Fprintf(tw, "\nSFTP (%s, medians of %d)\tmultikanal\topenssh\tratio\tgoal\n", put, s.Rounds)
			for _, sum := range s.Summary {
				what := binSize(s.Size) + " file"
				if sum.Test == "small" {
					what = fmt.Sprintf("%d × %s files", s.Files, binSize(int64(s.FileSize)))
				}
				fmt.Fprintf(tw, "%s, %s\t%.1f %s\t%.1f %s\t%.2f×\t≥ %.1f×\n", what, sum.Cipher, sum.Ours, sum.Unit, sum.OpenSSH, sum.Unit, sum.Ratio, sum.Goal)
			}
			fmt.Fprintf(tw, "server CPU per GiB\t%.1f s\t(not measured)\n", s.OursCPU)
			for _, e := range s.Errors {
				fmt.Fprintf(tw, "failed run\t%s\n", strings.SplitN(e, "\n", 2)[0])
			}
		}
	}
	if len(r.Goals) > 0 {
		fmt.Fprintln(tw, "\ngoal\ttarget\tmeasured\tmet")
		for _, g := range r.Goals {
			met := "MISSED"
			if g.Met {
				met = "met"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.What, g.Target, g.Measured, met)
		}
	}
	tw.Flush()
}

func states(m map[string]int) string {
	var s []string
	for _, k := range sortedKeys(m) {
		s = append(s, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(s, ", ")
}

func states64(m map[string]int64) string {
	var s []string
	for _, k := range sortedKeys(m) {
		s = append(s, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// binSize writes a byte count in the binary units the size flags take.
func binSize(n int64) string {
	for _, u := range []struct {
		name string
		m    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.m && n%u.m == 0 {
			return fmt.Sprintf("%d %s", n/u.m, u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}

// sizeFlag is a byte count written as 1073741824, 64MiB or 1GiB.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSuffix(v, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q: write a positive size such as 10240, 64MiB or 1GiB", v)
	}
	*s = sizeFlag(n * mult)
	return nil
}
