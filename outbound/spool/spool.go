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

	"github.com/multikanal/multikanal/outbound"
)

const tmpPrefix = ".tmp-"

// Spool writes messages as files into one folder.
type Spool struct {
	dir string

	// Folder fsyncs are shared: every Send whose rename happened before a
	// sync started waits for that one sync instead of doing its own, so
	// concurrent sends cost one folder fsync between them, not one each.
	mu      sync.Mutex
	cond    *sync.Cond
	started uint64 // syncs started
	done    uint64 // syncs finished
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
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	s := &Spool{dir: dir}
	s.cond = sync.NewCond(&s.mu)
	return s, nil
}

// syncDir makes every rename done before the call durable: it waits for a
// folder fsync that started after the call, starting one when none runs.
func (s *Spool) syncDir() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	need := s.started + 1 // a sync already running may have missed our rename
	for s.done < need {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		s.started++
		gen := s.started
		s.mu.Unlock()
		err := fsyncDir(s.dir)
		s.mu.Lock()
		s.running, s.done, s.lastErr = false, gen, err
		s.cond.Broadcast()
	}
	return s.lastErr
}

func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Dir is the folder the spool writes into.
func (s *Spool) Dir() string { return s.dir }

// Send writes m.Body to DIR/m.Name atomically: a temporary file, fsync,
// rename, fsync of the folder. The name is derived from the idempotency key,
// so sending the same message again replaces the file instead of adding one.
func (s *Spool) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	if err := ctx.Err(); err != nil {
		return outbound.Sent{}, outbound.Temporary(err)
	}
	name := filepath.Base(m.Name)
	if name == "." || name == "/" || strings.HasPrefix(name, ".") || name != m.Name {
		return outbound.Sent{}, outbound.Permanentf("spool: message name %q is not a plain file name", m.Name)
	}
	final := filepath.Join(s.dir, name)
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("spool: %w", err))
	}
	_, err = tmp.Write(m.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("spool: writing %s: %w", final, err))
	}
	if err := s.syncDir(); err != nil {
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("spool: syncing %s: %w", s.dir, err))
	}
	return outbound.Sent{Ref: final}, nil
}
