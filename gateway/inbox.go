package gateway

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"
)

// inbox finds files in the tenants' inboxes. fsnotify events make it quick; a
// full scan at start and every scan interval makes it reliable (nothing
// depends on one event arriving). A file is taken when no process has it open
// for writing (a file renamed in, or written and closed), or, where that
// cannot be told, when it has not changed for the settle time.
type inbox struct {
	d       *Daemon
	settle  time.Duration
	scan    time.Duration
	dirs    map[string]string // inbox dir -> tenant
	pending map[string]*candidate
	wake    chan struct{}
	newDirs chan map[string]string // from a reload
	// held wakes the loop when files held for their SFTP burst are due
	// (uploadHashes.hold); heldUntil is when it fires, zero when unset.
	held      *time.Timer
	heldUntil time.Time
}

type candidate struct {
	tenant  string
	size    int64
	mod     time.Time
	seen    time.Time // when the file was first seen: files are taken in arrival order
	changed time.Time // when size or mtime last changed
	fi      os.FileInfo
}

// ignoredName reports names the inbox leaves alone until they are renamed:
// hidden files and the temporary names upload clients use.
func ignoredName(name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	for _, suffix := range []string{".part", ".filepart", ".tmp"} {
		if strings.HasSuffix(strings.ToLower(name), suffix) {
			return true
		}
	}
	return false
}

func newInbox(d *Daemon) *inbox {
	in := &inbox{d: d, settle: time.Duration(d.cfg.Inbox.SettleTime), scan: time.Duration(d.cfg.Inbox.ScanInterval),
		dirs: d.tenantDirs(), pending: map[string]*candidate{}, wake: make(chan struct{}, 1),
		newDirs: make(chan map[string]string, 1)}
	return in
}

// watch hands the watcher a new set of inboxes after a reload.
func (in *inbox) watch(dirs map[string]string) {
	select {
	case <-in.newDirs: // an older set not yet taken: replace it
	default:
	}
	in.newDirs <- dirs
}

// run watches until ctx ends. It returns an error only if the watcher cannot
// be set up at all.
func (in *inbox) run(ctx context.Context, ready func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	for dir := range in.dirs {
		if err := w.Add(dir); err != nil {
			return err
		}
	}
	in.scanAll()
	ready()
	scan := time.NewTicker(in.scan)
	defer scan.Stop()
	check := time.NewTicker(100 * time.Millisecond)
	defer check.Stop()
	in.held = time.NewTimer(time.Hour)
	in.held.Stop()
	defer in.held.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			// Events of files the inbox leaves alone (an upload's hidden
			// temporary file: several per upload) change nothing to take;
			// nor does a file that waits for the rest of its burst.
			if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Chmod) {
				continue
			}
			tenant, ok := in.dirs[filepath.Dir(ev.Name)]
			if !ok || ignoredName(filepath.Base(ev.Name)) {
				continue
			}
			in.observe(tenant, ev.Name)
			if until, held := in.d.uploads.hold(ev.Name, time.Now()); held {
				in.wakeAt(until)
				continue
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An overflow loses events, not files: the next scan finds them.
			in.d.log.Warn("inbox watcher", "err", err)
			in.scanAll()
		case dirs := <-in.newDirs:
			for dir := range dirs {
				if _, ok := in.dirs[dir]; !ok {
					if err := w.Add(dir); err != nil {
						in.d.log.Error("watching a new inbox failed; the periodic scan covers it", "dir", dir, "err", err)
					}
				}
			}
			for dir := range in.dirs {
				if _, ok := dirs[dir]; !ok {
					w.Remove(dir)
				}
			}
			in.dirs = dirs
			in.scanAll()
		case <-scan.C:
			in.scanAll()
		case <-check.C:
		case <-in.held.C:
			in.heldUntil = time.Time{}
		}
		in.take(ctx)
	}
}

func (in *inbox) scanAll() {
	for dir, tenant := range in.dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			in.d.log.Error("scanning an inbox failed", "tenant", tenant, "dir", dir, "err", err)
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				in.observe(tenant, filepath.Join(dir, e.Name()))
			}
		}
	}
}

func (in *inbox) observe(tenant, path string) {
	if ignoredName(filepath.Base(path)) {
		return
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		delete(in.pending, path)
		return
	}
	c := in.pending[path]
	now := time.Now()
	if c == nil {
		in.pending[path] = &candidate{tenant: tenant, size: fi.Size(), mod: fi.ModTime(), seen: now, changed: now, fi: fi}
		return
	}
	c.fi = fi
	if c.size != fi.Size() || !c.mod.Equal(fi.ModTime()) {
		c.size, c.mod, c.changed = fi.Size(), fi.ModTime(), now
	}
}

// take claims every candidate that is complete, in the order the files
// arrived (a registration file dropped before an invoice file is applied
// before the invoices are routed). SFTP uploads in the middle of a burst
// wait for the rest of it, a bounded time (uploadHashes.hold).
func (in *inbox) take(ctx context.Context) {
	paths := make([]string, 0, len(in.pending))
	for path := range in.pending {
		paths = append(paths, path)
	}
	sort.Slice(paths, func(i, j int) bool {
		a, b := in.pending[paths[i]], in.pending[paths[j]]
		if !a.seen.Equal(b.seen) {
			return a.seen.Before(b.seen)
		}
		return paths[i] < paths[j]
	})
	var group []inboxFile
	now := time.Now()
	var wake time.Time
	for _, path := range paths {
		c := in.pending[path]
		if ctx.Err() != nil {
			return
		}
		if until, held := in.d.uploads.hold(path, now); held {
			if wake.IsZero() || until.Before(wake) {
				wake = until
			}
			continue
		}
		in.observe(c.tenant, path)
		c, ok := in.pending[path]
		if !ok {
			continue
		}
		if !in.complete(path, c) {
			continue
		}
		delete(in.pending, path)
		group = append(group, inboxFile{tenant: c.tenant, path: path})
		if len(group) == claimGroup {
			in.d.claim(group)
			group = group[:0]
		}
	}
	in.d.claim(group)
	if !wake.IsZero() {
		in.wakeAt(wake)
	}
}

// wakeAt makes the loop take files again at t at the latest.
func (in *inbox) wakeAt(t time.Time) {
	if in.heldUntil.IsZero() || t.Before(in.heldUntil) {
		in.heldUntil = t
		in.held.Reset(time.Until(t))
	}
}

// complete reports whether no one writes the file any more: it has settled,
// or it is an SFTP upload as it landed (the server closed it before the
// rename), or the kernel says no process has it open for writing.
func (in *inbox) complete(path string, c *candidate) bool {
	if time.Since(c.changed) >= in.settle || in.d.uploads.unchanged(path, c.fi) {
		return true
	}
	return noWriters(path) == nil
}

// noWriters asks the kernel whether any process has the file open for
// writing: a read lease (F_SETLEASE) is granted only when none has. It needs
// the file to be ours (or CAP_LEASE); otherwise it fails and the settle time
// decides.
func noWriters(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETLEASE, unix.F_RDLCK); err != nil {
		return err
	}
	_, err = unix.FcntlInt(f.Fd(), unix.F_SETLEASE, unix.F_UNLCK)
	return err
}
