// Package ordered runs independent pieces of work on several goroutines
// and hands their results on in the order of the work. The gateway parses
// the documents of one file over the cores this way, and records them in
// the file's order.
//
// It is not a general worker pool: the work is a range of indexes known up
// front, and the results are taken one at a time, in order, on the caller's
// goroutine.
package ordered

import "sync"

// Options bound the work in flight.
type Options struct {
	// Workers is how many goroutines do the work; 1 or less does it on
	// the caller's goroutine, one piece after the other.
	Workers int
	// Ahead is how many results may be done or under way beyond the one
	// to be handed on next (at least Workers).
	Ahead int
	// Weight, when set, is what a piece of work may hold in memory until
	// it is handed on, and MaxWeight bounds the sum of the pieces in
	// flight; a piece heavier than MaxWeight runs alone.
	Weight    func(i int) int64
	MaxWeight int64
}

// Map calls work(i) for every i in [0, n), on o.Workers goroutines, and
// emit with each result in order of i, on the calling goroutine. It stops
// at emit's first error and returns it, once every goroutine it started
// has returned (the work under way is finished and dropped).
func Map[T any](n int, o Options, work func(i int) T, emit func(T) error) error {
	if o.Workers <= 1 || n <= 1 {
		for i := range n {
			if err := emit(work(i)); err != nil {
				return err
			}
		}
		return nil
	}
	ahead := max(o.Ahead, o.Workers)
	// Result i goes into slot i%ahead. At most ahead indexes are handed
	// out and not yet emitted, and they are consecutive, so no two in
	// flight share a slot, and no send to a slot ever waits.
	slots := make([]chan T, ahead)
	weights := make([]int64, ahead)
	for k := range slots {
		slots[k] = make(chan T, 1)
	}
	var (
		mu       sync.Mutex
		room     = sync.NewCond(&mu)
		inflight int
		weight   int64
		stopped  bool
	)
	next := make(chan int)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // hands out the indexes, as room allows
		defer close(next)
		for i := range n {
			var w int64
			if o.Weight != nil {
				w = o.Weight(i)
			}
			mu.Lock()
			for !stopped && inflight > 0 && (inflight >= ahead || o.Weight != nil && weight+w > o.MaxWeight) {
				room.Wait()
			}
			if stopped {
				mu.Unlock()
				return
			}
			inflight++
			weight += w
			weights[i%ahead] = w
			mu.Unlock()
			select {
			case next <- i:
			case <-stop:
				return
			}
		}
	})
	for range o.Workers {
		wg.Go(func() {
			for i := range next {
				slots[i%ahead] <- work(i)
			}
		})
	}
	var err error
	for i := range n {
		r := <-slots[i%ahead]
		if err = emit(r); err != nil {
			break
		}
		mu.Lock()
		inflight--
		weight -= weights[i%ahead]
		room.Signal()
		mu.Unlock()
	}
	mu.Lock()
	stopped = true
	room.Broadcast()
	mu.Unlock()
	close(stop)
	wg.Wait()
	return err
}
