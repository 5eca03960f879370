package ordered

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// The results come in order whatever order the work finishes in, and the
// pieces in flight stay within Ahead and MaxWeight.
func TestMapInOrderWithinBounds(t *testing.T) {
	for _, o := range []Options{
		{Workers: 1},
		{Workers: 4, Ahead: 4},
		{Workers: 3, Ahead: 16},
		{Workers: 4, Ahead: 16, Weight: func(i int) int64 { return int64(i%5) * 10 }, MaxWeight: 25},
		{Workers: 4, Ahead: 8, Weight: func(i int) int64 { return 100 }, MaxWeight: 50}, // each runs alone
	} {
		const n = 500
		var running, weight, maxRunning atomic.Int64
		var overweight atomic.Bool // more than MaxWeight in flight, by more than one piece
		next := 0
		err := Map(n, o, func(i int) int {
			var w int64
			if o.Weight != nil {
				w = o.Weight(i)
			}
			r, wt := running.Add(1), weight.Add(w)
			for m := maxRunning.Load(); r > m && !maxRunning.CompareAndSwap(m, r); m = maxRunning.Load() {
			}
			if o.Weight != nil && r > 1 && wt > o.MaxWeight {
				overweight.Store(true)
			}
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			running.Add(-1)
			weight.Add(-w)
			return i
		}, func(i int) error {
			if i != next {
				t.Fatalf("%+v: result %d came where %d was due", o, i, next)
			}
			next++
			return nil
		})
		if err != nil || next != n {
			t.Fatalf("%+v: %v after %d of %d", o, err, next, n)
		}
		if got := maxRunning.Load(); got > int64(max(o.Workers, 1)) {
			t.Errorf("%+v: %d pieces ran at once", o, got)
		}
		if overweight.Load() {
			t.Errorf("%+v: pieces weighing more than MaxWeight together ran at once", o)
		}
	}
}

// The first error of emit ends Map, which returns it once its goroutines
// have.
func TestMapStopsAtError(t *testing.T) {
	before := runtime.NumGoroutine()
	stop := errors.New("stop")
	emitted := 0
	err := Map(10_000, Options{Workers: 4, Ahead: 8}, func(i int) int { return i }, func(i int) error {
		emitted++
		if i == 100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || emitted != 101 {
		t.Fatalf("err %v after %d results; want stop after 101", err, emitted)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before Map, %d after it returned", before, after)
	}
}
