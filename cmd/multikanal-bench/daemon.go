package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// daemonInfo is the part of <data>/daemon.json the benchmark uses.
type daemonInfo struct {
	PID          int               `json:"pid"`
	HTTP         string            `json:"http"`
	SFTP         string            `json:"sftp"`
	SFTPCommands map[string]string `json:"sftp_commands"`
}

// daemon is one `multikanal serve` on the embedded default in its own data
// directory.
type daemon struct {
	data string
	info daemonInfo
	stop func(syscall.Signal, time.Duration) error
	log  *os.File

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	sampler chan struct{} // closed to stop sampling
	samples []int64       // VmRSS, bytes
	maxRSS  int64
	// The largest anonymous (heap, stacks) and file-backed (bbolt's mmap of
	// state.db, the binary) parts of the resident set seen in a sample.
	maxAnon, maxFile int64
	// The high-water mark is read and reset (clear_refs) at every sample,
	// so peak is the true peak and peakAt says when it happened; timeline
	// is one line per sample (seconds, interval peak, RSS, anon, file).
	peak     int64
	peakAt   time.Time
	started  time.Time
	timeline *os.File
}

// buildDaemon builds the daemon binary into dir.
func buildDaemon(dir string) (string, error) {
	bin := filepath.Join(dir, "multikanal")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/multikanal/multikanal/cmd/multikanal").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/multikanal: %v\n%s", err, out)
	}
	return bin, nil
}

// startDaemon runs bin on data with loopback listeners on free ports and
// waits for daemon.json, which the daemon writes when it is ready. With
// perfOut set the daemon runs under `perf record`, which writes its CPU
// profile there when the daemon exits; with pprof it serves Go's profiles
// (serve --pprof).
func startDaemon(bin, data, perfOut string, pprof bool) (*daemon, error) {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(filepath.Dir(data), filepath.Base(data)+".log"))
	if err != nil {
		return nil, err
	}
	args := []string{bin, "serve", "--data", data, "--http", "127.0.0.1:0", "--sftp", "127.0.0.1:0", "--public", "127.0.0.1:0"}
	if pprof {
		args = append(args, "--pprof")
	}
	if perfOut != "" {
		args = append([]string{"perf", "record", "-F", "499", "-g", "-q", "-o", perfOut, "--"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	stop, err := startGroup(cmd)
	if err != nil {
		log.Close()
		return nil, err
	}
	d := &daemon{data: data, stop: stop, log: log}
	info := filepath.Join(data, "daemon.json")
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(info)
		if err == nil && json.Unmarshal(b, &d.info) == nil && d.info.PID != 0 {
			break
		}
		if syscall.Kill(cmd.Process.Pid, 0) != nil || time.Now().After(deadline) {
			d.close()
			return nil, fmt.Errorf("the daemon did not become ready (no %s); its log is %s:\n%s", info, log.Name(), tail(log.Name()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.sampler = make(chan struct{})
	d.started = time.Now()
	if f, err := os.Create(filepath.Join(filepath.Dir(data), "rss.tsv")); err == nil {
		d.timeline = f
		fmt.Fprintln(f, "seconds\tpeak_mb\trss_mb\tanon_mb\tfile_mb")
	}
	go d.sample()
	return d, nil
}

// tail is the end of a log file, for error messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// sample records the daemon's resident set every 250 ms until close, and
// the peak within each interval: it reads the kernel's high-water mark and
// resets it (writing 5 to /proc/PID/clear_refs), so a spike between two
// samples is still seen, with its time.
func (d *daemon) sample() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	if d.timeline != nil {
		defer d.timeline.Close()
	}
	clear := fmt.Sprintf("/proc/%d/clear_refs", d.info.PID)
	for {
		select {
		case <-d.sampler:
			return
		case <-t.C:
		}
		st, err := procStatus(d.info.PID, "VmRSS", "RssAnon", "RssFile", "VmHWM")
		if err != nil {
			continue
		}
		os.WriteFile(clear, []byte("5"), 0)
		now := time.Now()
		if d.timeline != nil {
			fmt.Fprintf(d.timeline, "%.2f\t%.1f\t%.1f\t%.1f\t%.1f\n", now.Sub(d.started).Seconds(),
				float64(st["VmHWM"])/1e6, float64(st["VmRSS"])/1e6, float64(st["RssAnon"])/1e6, float64(st["RssFile"])/1e6)
		}
		d.mu.Lock()
		if st["VmHWM"] > d.peak {
			d.peak, d.peakAt = st["VmHWM"], now
		}
		d.samples = append(d.samples, st["VmRSS"])
		d.maxRSS = max(d.maxRSS, st["VmRSS"])
		d.maxAnon = max(d.maxAnon, st["RssAnon"])
		d.maxFile = max(d.maxFile, st["RssFile"])
		d.mu.Unlock()
	}
}

// rss is the largest VmRSS sampled so far and the number of samples.
func (d *daemon) rss() (maxSampled int64, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxRSS, len(d.samples)
}

// rssParts is the largest anonymous and file-backed resident set sampled.
func (d *daemon) rssParts() (anon, file int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxAnon, d.maxFile
}

// peakRSS is the peak of the daemon's resident set so far (the kernel's
// high-water mark, reset and collected at every sample) and when it was.
func (d *daemon) peakRSS() (int64, time.Time) {
	st, _ := procStatus(d.info.PID, "VmHWM")
	d.mu.Lock()
	defer d.mu.Unlock()
	if st["VmHWM"] > d.peak {
		return st["VmHWM"], time.Now()
	}
	return d.peak, d.peakAt
}

// cpu is the CPU time the daemon has used so far.
func (d *daemon) cpu() time.Duration {
	t, _ := procCPU(d.info.PID)
	return t
}

// close stops the daemon: SIGTERM to the daemon, then, once it is gone or
// after 60 s, to its process group (perf, when it runs under perf, writes
// its profile when the daemon exits), then SIGKILL.
func (d *daemon) close() error {
	d.closeOnce.Do(func() { d.closeErr = d.shutdown() })
	return d.closeErr
}

func (d *daemon) shutdown() error {
	if d.sampler != nil {
		close(d.sampler)
	}
	if d.info.PID != 0 && syscall.Kill(d.info.PID, syscall.SIGTERM) == nil {
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if !alive(d.info.PID) {
				break
			}
		}
	}
	err := d.stop(syscall.SIGINT, 60*time.Second)
	d.log.Close()
	return err
}

func (d *daemon) inbox() string    { return filepath.Join(d.data, "tenants", "demo", "inbox") }
func (d *daemon) receipts() string { return filepath.Join(d.data, "tenants", "demo", "receipts") }

// drop moves src into the demo inbox under name by rename, the way a
// careful client delivers, and returns the time of the rename.
func (d *daemon) drop(src, name string) (time.Time, error) {
	t := time.Now()
	return t, os.Rename(src, filepath.Join(d.inbox(), name))
}

// receiptHead is what a receipt says about its file as a whole, without
// its document list.
type receiptHead struct {
	State   string         `json:"state"`
	Reason  string         `json:"reason"`
	Final   bool           `json:"final"`
	Summary map[string]int `json:"summary"`
}

// readReceiptHead reads what a receipt says about its file as a whole.
// The receipt of a large batch is many megabytes and is rewritten while the
// batch runs, so only its ends are read: the file-level fields are before
// the document list or after it (the summary and "final" of a receipt that
// is written as a stream), and both ends come from one open file, which a
// rewrite replaces by rename rather than changes. ok is false while there is
// no receipt yet.
func (d *daemon) readReceiptHead(name string) (h receiptHead, ok bool, err error) {
	f, err := os.Open(filepath.Join(d.receipts(), name+".receipt.json"))
	if errors.Is(err, os.ErrNotExist) {
		return h, false, nil
	}
	if err != nil {
		return h, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return h, false, err
	}
	const end = 64 << 10
	if st.Size() <= 2*end {
		b, err := io.ReadAll(f)
		if err != nil {
			return h, false, err
		}
		if err := json.Unmarshal(b, &h); err != nil {
			return h, false, fmt.Errorf("receipt %s: %w", name, err)
		}
		return h, true, nil
	}
	head := make([]byte, end)
	if _, err := f.ReadAt(head, 0); err != nil {
		return h, false, err
	}
	if i := bytes.Index(head, []byte(`"documents"`)); i >= 0 {
		head = append(bytes.TrimRight(bytes.TrimSpace(head[:i]), ","), '}')
	}
	if err := json.Unmarshal(head, &h); err != nil {
		return h, false, fmt.Errorf("receipt %s: cannot read its head: %w", name, err)
	}
	tail := make([]byte, end)
	if _, err := f.ReadAt(tail, st.Size()-end); err != nil {
		return h, false, err
	}
	// After the document list's closing bracket: the fields written last.
	if i := bytes.LastIndexByte(tail, ']'); i >= 0 {
		rest := bytes.TrimLeft(tail[i+1:], " \n\t\r,")
		if len(rest) > 1 {
			if err := json.Unmarshal(append([]byte{'{'}, rest...), &h); err != nil {
				return h, false, fmt.Errorf("receipt %s: cannot read its end: %w", name, err)
			}
		}
	}
	return h, true, nil
}

// api sends one request to the daemon's HTTP API with the token the
// daemon wrote into its data directory.
func (d *daemon) api(method, path, contentType string, body io.Reader) (*http.Response, error) {
	token, err := os.ReadFile(filepath.Join(d.data, "http.token"))
	if err != nil {
		return nil, fmt.Errorf("the daemon's HTTP token: %w", err)
	}
	req, err := http.NewRequest(method, "http://"+d.info.HTTP+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	return http.DefaultClient.Do(req)
}

// apiGet decodes GET path from the daemon's HTTP API into v.
func (d *daemon) apiGet(path string, v any) error {
	body, err := d.get(path, "GET "+path)
	if err != nil {
		return err
	}
	defer body.Close()
	return json.NewDecoder(body).Decode(v)
}

// get is the body of GET path from the daemon's HTTP API, or an error that
// names what was asked for (what) and what the daemon answered.
func (d *daemon) get(path, what string) (io.ReadCloser, error) {
	resp, err := d.api("GET", path, "", nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%s: %s: %s", what, resp.Status, strings.TrimSpace(string(b)))
	}
	return resp.Body, nil
}

// importRecipients posts a registration CSV to the demo tenant's registry.
func (d *daemon) importRecipients(body io.Reader) (map[string]int, error) {
	resp, err := d.api("POST", "/api/v1/tenants/demo/recipients?name=bench", "text/csv", body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("importing recipients: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var out map[string]int
	return out, json.Unmarshal(b, &out)
}
