package main

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// feed drives a governor with samples coreSample apart: waiting goroutines
// and the share of one core used since the previous sample.
type feed struct {
	g   *coreGovernor
	now time.Time
	cpu time.Duration
}

func (f *feed) sample(waiting uint64, cores float64) int {
	f.now = f.now.Add(coreSample)
	f.cpu += time.Duration(cores * float64(coreSample))
	return f.g.step(f.now, waiting, f.cpu)
}

func TestCoreGovernorPolicy(t *testing.T) {
	f := &feed{g: &coreGovernor{max: 4, current: 4}, now: time.Unix(1e9, 0)}

	// Busy on all cores (a batch of invoices: 1.5 cores) stays there.
	for i := range 3 * int(lowerWindow/coreSample) {
		if n := f.sample(40, 1.5); n != 4 {
			t.Fatalf("sample %d of a busy second: %d cores, want 4", i, n)
		}
	}
	// Quiet for a window: one core.
	n := 0
	for range 2*int(lowerWindow/coreSample) + 1 {
		n = f.sample(0, 0.1)
	}
	if n != 1 {
		t.Fatalf("after two quiet windows: %d cores, want 1", n)
	}
	// A burst of small SFTP uploads on one core: up to two goroutines
	// wait, now and then. One core stays enough.
	for i := range 200 {
		if n := f.sample(uint64(i%3), 0.6); n != 1 {
			t.Fatalf("sample %d of a burst of small uploads: %d cores, want 1", i, n)
		}
	}
	// One sample with many waiting is not enough...
	f.sample(50, 1)
	if n := f.sample(0, 1); n != 1 {
		t.Fatalf("a single busy sample: %d cores, want 1", n)
	}
	// ...two in a row are.
	f.sample(5, 1)
	if n := f.sample(5, 1); n != 4 {
		t.Fatalf("two samples with work waiting: %d cores, want 4", n)
	}
	// Used 0.8 of a core over the window (a large chacha20 upload uses
	// 1.3): above lowerBelow, so all cores stay.
	for i := range 2 * int(lowerWindow/coreSample) {
		if n := f.sample(1, 0.8); n != 4 {
			t.Fatalf("sample %d at 0.8 of a core: %d cores, want 4", i, n)
		}
	}
}

// A quiet window that ends as work arrives keeps every core; the next
// quiet one lets them go.
func TestCoreGovernorKeepsCoresForArrivingWork(t *testing.T) {
	f := &feed{g: &coreGovernor{max: 2, current: 2}, now: time.Unix(1e9, 0)}
	f.sample(0, 0) // starts the window
	perWindow := int(lowerWindow / coreSample)
	for range perWindow - 1 {
		f.sample(0, 0.1)
	}
	if n := f.sample(8, 0.1); n != 2 {
		t.Fatalf("a quiet window ending with 8 goroutines waiting: %d cores, want 2", n)
	}
	for range perWindow - 1 {
		f.sample(0, 0.1)
	}
	if n := f.sample(0, 0.1); n != 1 {
		t.Fatalf("the next quiet window: %d cores, want 1", n)
	}
}

// The governor on the real runtime: goroutines that wait for a core get
// every core within a few samples, and an idle process goes back to one.
func TestCoreGovernorFollowsWork(t *testing.T) {
	max := runtime.GOMAXPROCS(0)
	if max < 2 {
		t.Skipf("GOMAXPROCS is %d: nothing to govern", max)
	}
	defer runtime.GOMAXPROCS(max)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { governCores(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor := func(want int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for runtime.GOMAXPROCS(0) != want {
			if time.Now().After(deadline) {
				t.Fatalf("GOMAXPROCS is %d after %v, want %d", runtime.GOMAXPROCS(0), within, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1, 5*lowerWindow) // this test alone is quiet
	var stop atomic.Bool
	for range 2 * max {
		go func() {
			for !stop.Load() {
				for i := 0; i < 1e5; i++ {
				}
			}
		}()
	}
	waitFor(max, 2*time.Second)
	stop.Store(true)
	waitFor(1, 5*lowerWindow)
}
