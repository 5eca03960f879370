package deliver

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// jobQueue is an unbounded FIFO: enqueueing never blocks, so a worker that
// falls back to another channel cannot deadlock with that channel's workers.
type jobQueue struct {
	mu     sync.Mutex
	items  []job
	signal chan struct{}
}

func newJobQueue() *jobQueue { return &jobQueue{signal: make(chan struct{}, 1)} }

func (q *jobQueue) push(j job) {
	q.mu.Lock()
	q.items = append(q.items, j)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *jobQueue) pop(ctx context.Context) (job, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			j := q.items[0]
			q.items[0] = job{}
			q.items = q.items[1:]
			more := len(q.items) > 0
			q.mu.Unlock()
			if more {
				select {
				case q.signal <- struct{}{}:
				default:
				}
			}
			return j, true
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-ctx.Done():
			return job{}, false
		}
	}
}

// popPlain takes more delivery jobs from the front of the queue without
// waiting, stopping at the first batch or confirmation job: up to n, and no
// more than a fair share of the queue among the channel's workers, so that
// a short queue is rendered on every core rather than by one worker.
func (q *jobQueue) popPlain(n, workers int) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, (len(q.items)+workers-1)/max(workers, 1))
	var ids []string
	for len(ids) < n && len(q.items) > 0 && !q.items[0].batch && !q.items[0].confirm {
		ids = append(ids, q.items[0].id)
		q.items[0] = job{}
		q.items = q.items[1:]
	}
	return ids
}

func (q *jobQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// scheduler holds jobs until their time.
type scheduler struct {
	mu   sync.Mutex
	h    timedJobs
	wake chan struct{}
}

type timedJob struct {
	at      time.Time
	j       job
	channel string
}

type timedJobs []timedJob

func (h timedJobs) Len() int { return len(h) }

func (h timedJobs) Less(i, j int) bool { return h[i].at.Before(h[j].at) }

func (h timedJobs) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *timedJobs) Push(x any) { *h = append(*h, x.(timedJob)) }

func (h *timedJobs) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newScheduler() *scheduler { return &scheduler{wake: make(chan struct{}, 1)} }

func (s *scheduler) add(j job, channel string, at time.Time) {
	s.mu.Lock()
	heap.Push(&s.h, timedJob{at, j, channel})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}

func (s *scheduler) run(ctx context.Context, due func(job, string)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		for len(s.h) > 0 && !s.h[0].at.After(now) {
			t := heap.Pop(&s.h).(timedJob)
			s.mu.Unlock()
			due(t.j, t.channel)
			s.mu.Lock()
		}
		wait := time.Hour
		if len(s.h) > 0 {
			wait = time.Until(s.h[0].at)
		}
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}
