package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cleanups are the processes and directories the benchmark must not leave
// behind, run by main on return and by the signal handler on Ctrl-C.
var cleanups struct {
	mu  sync.Mutex
	fns []func()
}

// atExit registers f, which may be called more than once (it must be
// idempotent), and returns a function that runs it now.
func atExit(f func()) func() {
	once := &sync.Once{}
	g := func() { once.Do(f) }
	cleanups.mu.Lock()
	cleanups.fns = append(cleanups.fns, g)
	cleanups.mu.Unlock()
	return g
}

// runCleanups runs every registered cleanup, newest first.
func runCleanups() {
	cleanups.mu.Lock()
	fns := cleanups.fns
	cleanups.fns = nil
	cleanups.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// startGroup starts cmd in its own process group, killed with the whole
// group at exit and, should the benchmark itself be killed, by the kernel
// (Pdeathsig). stop sends sig to the group and waits up to grace for cmd to
// exit before it kills the group.
func startGroup(cmd *exec.Cmd) (stop func(sig syscall.Signal, grace time.Duration) error, err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pgid := cmd.Process.Pid
	var exitErr error
	var once sync.Once
	stop = func(sig syscall.Signal, grace time.Duration) error {
		once.Do(func() {
			syscall.Kill(-pgid, sig)
			select {
			case <-done: // an exit status after a signal says nothing new
			case <-time.After(grace):
				exitErr = fmt.Errorf("%s did not exit within %s of %s; killed", cmd.Path, grace, sig)
				syscall.Kill(-pgid, syscall.SIGKILL)
				<-done
			}
			// Children that outlived their parent (sshd's sessions) go too.
			syscall.Kill(-pgid, syscall.SIGKILL)
		})
		return exitErr
	}
	atExit(func() { stop(syscall.SIGTERM, 10*time.Second) })
	return stop, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitPort waits until something accepts connections on addr.
func waitPort(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", addr, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procStatus reads the given kB fields (VmRSS, VmHWM) of /proc/PID/status,
// in bytes.
func procStatus(pid int, fields ...string) (map[string]int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		for _, f := range fields {
			if name == f {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
				out[f] = kb << 10
			}
		}
	}
	return out, nil
}

// procCPU is the user+system CPU time pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	// utime and stime: fields 14 and 15 of stat(5).
	var ticks int64
	for _, v := range f[11:13] {
		t, _ := strconv.ParseInt(v, 10, 64)
		ticks += t
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ticks) * time.Second / hz, nil
}

// alive reports whether pid is a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// loadAvg is the 1-minute load average, as /proc/loadavg says.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
