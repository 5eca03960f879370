// Package spool is the transport that writes exactly what would be sent into
// a folder (outbox/<channel>/) instead of sending it. The embedded default
// uses it for every channel, so a new user sees real output with no external
// service; an operator can use it to hand files to another system.
package spool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/multikanal/multikanal/internal/durable"
	"github.com/multikanal/multikanal/outbound"
)

// tmpPrefix began the temporary names of versions before durable's:
// a crash under one of them may have left such a file.
const tmpPrefix = ".tmp-"

// Spool writes messages as files into one folder.
type Spool struct {
	dir string
	// named is set once the folder is found to take no unnamed files
	// (durable.CreateUnnamed): every file is then written under a
	// temporary name.
	named atomic.Bool

	// Files renamed into place and not yet synced, kept open for Flush.
	pendingMu sync.Mutex
	pending   []*os.File

	// Flushes are shared: a Flush waits for one that started after it was
	// called, starting one when none runs, so concurrent callers cost one
	// sync between them, not one each.
	mu      sync.Mutex
	cond    *sync.Cond
	started uint64 // flushes started
	done    uint64 // flushes finished
	running bool
	lastErr error
}

// New prepares dir and removes temporary files a crash left behind: they
// were never renamed, so nothing counts them as sent.
func New(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) || durable.IsTemp(e.Name()) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	s := &Spool{dir: dir}
	s.cond = sync.NewCond(&s.mu)
	return s, nil
}

// Dir is the folder the spool writes into.
func (s *Spool) Dir() string { return s.dir }

// Send writes m.Body to DIR/m.Name atomically and durably: a temporary
// file, rename, then a Flush. The name is derived from the idempotency key,
// so sending the same message again replaces the file instead of adding one.
func (s *Spool) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	sent, err := s.SendUnflushed(ctx, m)
	if err != nil {
		return sent, err
	}
	if err := s.Flush(); err != nil {
		return outbound.Sent{}, err
	}
	return sent, nil
}

// SendUnflushed writes m.Body into DIR/m.Name so that a reader of the
// folder sees the whole file or none of it: as a file without a name that
// is then linked under it (durable.CreateUnnamed, LinkUnnamed), or where that
// cannot be, or the name is taken (the same message sent again), under a
// temporary name that is then renamed. The unnamed way makes and removes
// no temporary folder entry: per file it is one system call less and two
// folder changes fewer. The file is on disk for certain only after the
// next Flush, which is why the send counts only after it (the rename-first
// rule of package durable).
func (s *Spool) SendUnflushed(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	if err := ctx.Err(); err != nil {
		return outbound.Sent{}, outbound.Temporary(err)
	}
	name := filepath.Base(m.Name)
	if name == "." || name == "/" || strings.HasPrefix(name, ".") || name != m.Name {
		return outbound.Sent{}, outbound.Permanentf("spool: message name %q is not a plain file name", m.Name)
	}
	final := filepath.Join(s.dir, name)
	if !s.named.Load() {
		f, linked, err := s.writeUnnamed(final, m.Body)
		if err != nil {
			return outbound.Sent{}, outbound.Temporary(fmt.Errorf("spool: writing %s: %w", final, err))
		}
		if linked {
			s.pend(f)
			return outbound.Sent{Ref: final}, nil
		}
	}
	tmp, err := durable.CreateTemp(final)
	if err != nil {
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("spool: %w", err))
	}
	_, err = tmp.Write(m.Body)
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("spool: writing %s: %w", final, err))
	}
	s.pend(tmp)
	return outbound.Sent{Ref: final}, nil
}

// writeUnnamed writes body into a file without a name and links it as
// final. linked is false, with no error, when the file must be written
// under a temporary name instead: final is taken, or the folder takes no
// unnamed files (then never again tried for this spool).
func (s *Spool) writeUnnamed(final string, body []byte) (f *os.File, linked bool, err error) {
	f, ok, err := durable.CreateUnnamed(final)
	if err != nil || !ok {
		if err == nil {
			s.named.Store(true)
		}
		return nil, false, err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return nil, false, err
	}
	exists, unsupported, err := durable.LinkUnnamed(f, final)
	if err != nil || exists || unsupported {
		f.Close()
		if unsupported {
			s.named.Store(true)
		}
		return nil, false, err
	}
	return f, true, nil
}

// pend starts writing f out and keeps it open for the next Flush.
func (s *Spool) pend(f *os.File) {
	startWriteback(f)
	s.pendingMu.Lock()
	s.pending = append(s.pending, f)
	s.pendingMu.Unlock()
}

// FinishesBody: SendUnflushed has written the body when it returns
// (outbound.BodyFinisher).
func (s *Spool) FinishesBody() {}

var _ outbound.BodyFinisher = (*Spool)(nil)

// Flush makes every file renamed before the call durable, with the folder
// entries that name them.
func (s *Spool) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	need := s.started + 1 // a flush already running may have missed our file
	for s.done < need {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		s.started++
		gen := s.started
		s.mu.Unlock()
		err := s.flush()
		s.mu.Lock()
		s.running, s.done, s.lastErr = false, gen, err
		s.cond.Broadcast()
	}
	if s.lastErr != nil {
		return outbound.Temporary(fmt.Errorf("spool: syncing %s: %w", s.dir, s.lastErr))
	}
	return nil
}

// flush syncs the pending files, then the folder. Each file's writeback was
// started when it was written (startWriteback), so the fsyncs mostly wait
// for writes already under way instead of starting one each; on a
// journalling file system the first fsync's commit also covers the others'
// metadata. Either way a group costs about one disk round trip, where an
// fsync per send cost one per message.
func (s *Spool) flush() error {
	s.pendingMu.Lock()
	files := s.pending
	s.pending = nil
	s.pendingMu.Unlock()
	var first error
	for _, f := range files {
		if err := f.Sync(); err != nil && first == nil {
			first = fmt.Errorf("%s: %w", f.Name(), err)
		}
		f.Close()
	}
	if err := durable.SyncDir(s.dir); err != nil && first == nil {
		first = err
	}
	return first
}
