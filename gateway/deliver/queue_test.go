package deliver

import (
	"fmt"
	"testing"
)

// A worker takes a fair share of a short queue, so its messages are rendered
// by every worker; a long queue gives full groups; batch and confirmation
// jobs stop a group.
func TestPopPlainTakesAFairShare(t *testing.T) {
	q := newJobQueue()
	for i := range 12 {
		q.push(job{id: fmt.Sprint(i)})
	}
	if got := q.popPlain(63, 4); len(got) != 3 || got[0] != "0" {
		t.Errorf("short queue: took %v, want 3 of 12 for one of 4 workers", got)
	}
	for i := range 1000 {
		q.push(job{id: fmt.Sprint(100 + i)})
	}
	if got := q.popPlain(63, 4); len(got) != 63 {
		t.Errorf("long queue: took %d, want 63", len(got))
	}
	q = newJobQueue()
	q.push(job{id: "a"})
	q.push(job{id: "b", confirm: true})
	q.push(job{id: "c"})
	if got := q.popPlain(63, 1); len(got) != 1 || got[0] != "a" {
		t.Errorf("took %v, want [a]: a confirmation job ends the group", got)
	}
}
