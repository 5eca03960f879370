package sftpd

import (
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Free space is accounted across all uploads at once. Checked per upload
// (at open and every 32 MiB), 15 uploads in parallel each saw the free
// space of an empty disk and filled a 400 MiB disk to 0 bytes. Now every
// upload reserves from one pool per file system before it writes beyond
// what it reserved, and a reservation is granted only while
//
//	free − reserved ≥ min_free_disk
//
// where reserved is what all open uploads were granted and have not
// written yet. A write turns reserved bytes into used ones; a closed or
// aborted upload gives back what it did not write.
const (
	// reserveAhead is the most an upload reserves beyond its current
	// write; it reserves no more ahead than it has written, so a client
	// that opens many files and writes little cannot hold space it does
	// not use.
	reserveAhead = 16 << 20
	// Free space far above the limit is not asked again for a moment: a
	// burst of small uploads would otherwise make a statfs per file.
	// roomyMargin is more than uploads can write in roomyFor, so the limit
	// still holds.
	roomyMargin = 1 << 30
	roomyFor    = 250 * time.Millisecond
)

// diskGuard keeps the free space of the inbox file systems above
// Options.MinFreeDisk.
type diskGuard struct {
	min   int64
	probe func(dir string) (int64, error)
	log   *slog.Logger

	mu    sync.Mutex
	pools map[uint64]*diskPool // by device of the inbox folder
}

// diskPool is the reservation of one file system, shared by every upload
// to an inbox on it.
type diskPool struct {
	g *diskGuard
	// reserved is granted to open uploads and not yet written; written is
	// what uploads wrote since the last probe, so that a probe skipped
	// (far from the limit) still counts it.
	reserved atomic.Int64
	written  atomic.Int64

	mu    sync.Mutex
	free  int64     // at the last probe
	until time.Time // the probe may be skipped until then
}

// statfsFree is the free space for unprivileged users on dir's file
// system.
func statfsFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// pool returns the pool of the file system that holds dir, open as f, or
// nil when there is no limit.
func (g *diskGuard) pool(f *os.File) (*diskPool, error) {
	if g.min < 0 {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var dev uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		dev = st.Dev
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.pools[dev]
	if p == nil {
		p = &diskPool{g: g}
		g.pools[dev] = p
	}
	return p, nil
}

// check refuses a new upload while dir's file system is at or below the
// limit, reservations counted.
func (p *diskPool) check(dir string) error {
	_, err := p.grant(dir, 0, 0)
	return err
}

// grant reserves need bytes for an upload that has written written bytes
// so far, and up to as many again (at most reserveAhead) so that the next
// writes need not ask. It returns what it reserved, at least need, or
// errDiskLow.
func (p *diskPool) grant(dir string, need, written int64) (int64, error) {
	if p == nil {
		return need, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	probed := now.After(p.until)
	if probed {
		w := p.written.Load()
		free, err := p.g.probe(dir)
		if err != nil {
			p.g.log.Error("sftp free disk space", "dir", dir, "err", err)
			return 0, errInternal
		}
		p.free = free
		p.written.Add(-w)
	}
	reserved := p.reserved.Load()
	avail := p.free - p.written.Load() - reserved - p.g.min
	if avail < need || avail <= 0 {
		p.until = time.Time{}
		p.g.log.Warn("sftp disk low", "dir", dir, "free", p.free, "reserved", reserved, "min_free", p.g.min, "need", need)
		return 0, errDiskLow
	}
	n := min(need+min(written, reserveAhead), avail)
	p.reserved.Add(n)
	if probed && avail-n > roomyMargin {
		p.until = now.Add(roomyFor)
	}
	return n, nil
}

// wrote turns n reserved bytes into written ones.
func (p *diskPool) wrote(n int64) {
	if p == nil || n == 0 {
		return
	}
	p.written.Add(n)
	p.reserved.Add(-n)
}

// release gives back n reserved bytes that were not written.
func (p *diskPool) release(n int64) {
	if p == nil || n == 0 {
		return
	}
	p.reserved.Add(-n)
}
