package main

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"syscall"
	"time"
)

// The daemon runs on one core while one is enough, and on all of them
// while work waits for a core (coreGovernor).
//
// Why: an SFTP request passes between five goroutines (x/crypto/ssh's
// reader and mux, pkg/sftp's reader, dispatcher, worker and sender). On
// one core each hand-off is a switch on the same thread; on two, most wake
// a second thread, which spins, finds little and sleeps again. Measured on
// this project's 2-core machine, 1,000 uploads of 10 KiB over OpenSSH's
// sftp: 0.47 ms of daemon CPU per file on two cores, 0.30 ms on one, and
// 0.72 s against 0.55 s for the whole upload. Converting and delivering
// invoices needs every core (100,000 invoices keep 1.55 cores busy), and
// so does decrypting one large upload with chacha20-poly1305 (~15% faster
// on two).
const (
	// coreSample is how often the governor looks.
	coreSample = 20 * time.Millisecond
	// raiseWaiting goroutines ready to run but without a core, in
	// raiseSamples samples in a row, mean one core is not enough. A burst
	// of small uploads on one core shows 0-2; a large upload or a batch of
	// invoices 3-300.
	raiseWaiting = 3
	raiseSamples = 2
	// lowerWindow and lowerBelow: all cores go back to one when the
	// daemon used less than lowerBelow of one core over lowerWindow and
	// no work waits at its end.
	lowerWindow = time.Second
	lowerBelow  = 0.75
)

// coreGovernor decides the daemon's GOMAXPROCS between one and max from
// what it samples. It holds no lock: one goroutine drives it.
type coreGovernor struct {
	max     int
	current int
	waited  int           // samples in a row with raiseWaiting or more waiting
	since   time.Time     // start of the current lowerWindow
	cpuAt   time.Duration // process CPU at since
}

// step takes one sample (goroutines waiting for a core, process CPU time
// so far) and returns the GOMAXPROCS to run with from now.
func (g *coreGovernor) step(now time.Time, waiting uint64, cpu time.Duration) int {
	if g.current < g.max {
		if waiting >= raiseWaiting {
			g.waited++
		} else {
			g.waited = 0
		}
		if g.waited >= raiseSamples {
			g.current, g.waited = g.max, 0
			g.since, g.cpuAt = now, cpu
		}
		return g.current
	}
	if g.since.IsZero() {
		g.since, g.cpuAt = now, cpu
		return g.current
	}
	if span := now.Sub(g.since); span >= lowerWindow {
		used := float64(cpu-g.cpuAt) / float64(span)
		g.since, g.cpuAt = now, cpu
		// Work that has just arrived keeps every core.
		if used < lowerBelow && waiting < raiseWaiting {
			g.current = 1
		}
	}
	return g.current
}

// governCores runs the governor until ctx is done, then gives the runtime
// back all its cores. The operator's GOMAXPROCS, when set, is left alone
// (runServe does not start it).
func governCores(ctx context.Context, log *slog.Logger) {
	max := runtime.GOMAXPROCS(0)
	if max <= 1 {
		return
	}
	g := &coreGovernor{max: max, current: max}
	defer runtime.GOMAXPROCS(max)
	sample := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	tick := time.NewTicker(coreSample)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			metrics.Read(sample)
			var waiting uint64
			if sample[0].Value.Kind() == metrics.KindUint64 {
				waiting = sample[0].Value.Uint64()
			}
			before := g.current
			if n := g.step(now, waiting, processCPU()); n != before {
				runtime.GOMAXPROCS(n)
				log.Debug("cores", "gomaxprocs", n, "waiting", waiting)
			}
		}
	}
}

// processCPU is the CPU time (user and system) the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
