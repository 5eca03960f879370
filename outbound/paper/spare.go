package paper

import "sync"

// maxSpare bounds the buffer a channel keeps between batches: a batch of
// 500 letters takes ~24 MB, and a channel configured for far bigger
// batches keeps none rather than hundreds of MB for as long as it runs.
const maxSpare = 64 << 20

// spare holds the ZIP buffer of the last batch whose message was sent and
// released (outbound.Message.Release), for the next batch. A new buffer of
// 20 MB is cleared first, and on memory the runtime has given back to the
// kernel that clearing faults in every 4 KB page: 4-8% of the daemon's
// CPU over a file. A reused one is resident already, and needs no
// clearing. One buffer is kept, not a pool: batches come seconds apart,
// with collections in between that would empty a sync.Pool.
type spare struct {
	mu    sync.Mutex
	buf   []byte
	limit int // maxSpare; smaller in tests
}

// take returns an empty buffer with room for n bytes: the spare when it
// is big enough, otherwise a new one.
func (s *spare) take(n int) []byte {
	s.mu.Lock()
	b := s.buf
	s.buf = nil
	s.mu.Unlock()
	if cap(b) < n {
		return make([]byte, 0, n)
	}
	return b[:0]
}

// put keeps b, a released message's body, for the next batch, unless it
// is over the limit or the spare already held is bigger.
func (s *spare) put(b []byte) {
	if cap(b) > s.limit {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cap(b) > cap(s.buf) {
		s.buf = b[:0]
	}
}
