package intake

import (
	"context"
	"runtime"
	"sync"
)

// ingestQueue holds the claimed files waiting to be read, one queue per
// tenant in arrival order, and hands them to the readers with the tenants
// in turn: a reader takes the oldest file of the next tenant that has one
// waiting and none being read.
//
// Why: files were read one at a time in arrival order, so a 100,000-entry
// ZIP from one tenant delayed another tenant's single invoice by 8.6 s.
// Now several readers run (ingestReaders), and one tenant holds at most
// one of them: another tenant's file is read beside its large one. A
// tenant's own files are still read one after another, in the order they
// arrived, so that a file relying on an earlier one (a recipient
// registration, then the invoices for it) finds it recorded, and the
// documents of one file are recorded in order as before.
type ingestQueue struct {
	mu      sync.Mutex
	waiting map[string][]string // tenant -> file ids, oldest first
	turn    []string            // tenants with files waiting and none being read, next first
	reading map[string]bool     // tenants with a file being read
	wake    chan struct{}
}

func newIngestQueue() *ingestQueue {
	return &ingestQueue{waiting: map[string][]string{}, reading: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// ingestReaders is the number of files read at once: the cores, up to 8
// (the store takes one write at a time), and at least 2, so that one
// tenant's large file never holds the only reader.
func ingestReaders() int { return min(max(runtime.NumCPU(), 2), 8) }

// push queues a file of tenant.
func (q *ingestQueue) push(tenant, id string) {
	q.mu.Lock()
	q.waiting[tenant] = append(q.waiting[tenant], id)
	if len(q.waiting[tenant]) == 1 && !q.reading[tenant] {
		q.turn = append(q.turn, tenant)
	}
	q.mu.Unlock()
	q.signal()
}

func (q *ingestQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop waits for a file to read and returns it with its tenant, or false
// when ctx ends. The caller calls done(tenant) when it has read the file.
func (q *ingestQueue) pop(ctx context.Context) (tenant, id string, ok bool) {
	for {
		q.mu.Lock()
		if len(q.turn) > 0 {
			tenant = q.turn[0]
			q.turn[0] = ""
			q.turn = q.turn[1:]
			files := q.waiting[tenant]
			id = files[0]
			if len(files) == 1 {
				delete(q.waiting, tenant)
			} else {
				q.waiting[tenant] = files[1:]
			}
			q.reading[tenant] = true
			more := len(q.turn) > 0
			q.mu.Unlock()
			if more {
				q.signal()
			}
			return tenant, id, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-ctx.Done():
			return "", "", false
		}
	}
}

// done ends the read of a file of tenant; its next file, if any, waits
// for its turn behind the other tenants'.
func (q *ingestQueue) done(tenant string) {
	q.mu.Lock()
	delete(q.reading, tenant)
	more := len(q.waiting[tenant]) > 0
	if more {
		q.turn = append(q.turn, tenant)
	}
	q.mu.Unlock()
	if more {
		q.signal()
	}
}
