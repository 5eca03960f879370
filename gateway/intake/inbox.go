package intake

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

// watcher finds files in the tenants' inboxes. fsnotify events make it quick; a
// full scan at start and every scan interval makes it reliable (nothing
// depends on one event arriving). A file is taken when no process has it open
// for writing (a file renamed in, or written and closed), or, where that
// cannot be told, when it has not changed for the settle time.
type watcher struct {
	in      *Intake
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

func newWatcher(in *Intake) *watcher {
	return &watcher{in: in, settle: in.Settle, scan: in.Scan, dirs: in.Inboxes, pending: map[string]*candidate{},
		wake: make(chan struct{}, 1), newDirs: make(chan map[string]string, 1)}
}

// watch hands the watcher a new set of inboxes after a reload.
func (w *watcher) watch(dirs map[string]string) {
	select {
	case <-w.newDirs: // an older set not yet taken: replace it
	default:
	}
	w.newDirs <- dirs
}

// run watches until ctx ends. It returns an error only if the watcher cannot
// be set up at all.
func (w *watcher) run(ctx context.Context, ready func()) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer fw.Close()
	for dir := range w.dirs {
		if err := fw.Add(dir); err != nil {
			return err
		}
	}
	w.scanAll()
	ready()
	scan := time.NewTicker(w.scan)
	defer scan.Stop()
	check := time.NewTicker(100 * time.Millisecond)
	defer check.Stop()
	w.held = time.NewTimer(time.Hour)
	w.held.Stop()
	defer w.held.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			// Events of files the inbox leaves alone (an upload's hidden
			// temporary file: several per upload) change nothing to take;
			// nor does a file that waits for the rest of its burst.
			if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Chmod) {
				continue
			}
			tenant, ok := w.dirs[filepath.Dir(ev.Name)]
			if !ok || ignoredName(filepath.Base(ev.Name)) {
				continue
			}
			w.observe(tenant, ev.Name)
			if until, held := w.in.uploads.hold(ev.Name, time.Now()); held {
				w.wakeAt(until)
				continue
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			// An overflow loses events, not files: the next scan finds them.
			w.in.Log.Warn("inbox watcher", "err", err)
			w.scanAll()
		case dirs := <-w.newDirs:
			for dir := range dirs {
				if _, ok := w.dirs[dir]; !ok {
					if err := fw.Add(dir); err != nil {
						w.in.Log.Error("watching a new inbox failed; the periodic scan covers it", "dir", dir, "err", err)
					}
				}
			}
			for dir := range w.dirs {
				if _, ok := dirs[dir]; !ok {
					fw.Remove(dir)
				}
			}
			w.dirs = dirs
			w.scanAll()
		case <-scan.C:
			w.scanAll()
		case <-check.C:
		case <-w.held.C:
			w.heldUntil = time.Time{}
		}
		w.take(ctx)
	}
}

func (w *watcher) scanAll() {
	for dir, tenant := range w.dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			w.in.Log.Error("scanning an inbox failed", "tenant", tenant, "dir", dir, "err", err)
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				w.observe(tenant, filepath.Join(dir, e.Name()))
			}
		}
	}
}

func (w *watcher) observe(tenant, path string) {
	if ignoredName(filepath.Base(path)) {
		return
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		delete(w.pending, path)
		return
	}
	c := w.pending[path]
	now := time.Now()
	if c == nil {
		w.pending[path] = &candidate{tenant: tenant, size: fi.Size(), mod: fi.ModTime(), seen: now, changed: now, fi: fi}
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
func (w *watcher) take(ctx context.Context) {
	paths := make([]string, 0, len(w.pending))
	for path := range w.pending {
		paths = append(paths, path)
	}
	sort.Slice(paths, func(i, j int) bool {
		a, b := w.pending[paths[i]], w.pending[paths[j]]
		if !a.seen.Equal(b.seen) {
			return a.seen.Before(b.seen)
		}
		return paths[i] < paths[j]
	})
	var group []inboxFile
	now := time.Now()
	var wake time.Time
	for _, path := range paths {
		c := w.pending[path]
		if ctx.Err() != nil {
			return
		}
		if until, held := w.in.uploads.hold(path, now); held {
			if wake.IsZero() || until.Before(wake) {
				wake = until
			}
			continue
		}
		w.observe(c.tenant, path)
		c, ok := w.pending[path]
		if !ok {
			continue
		}
		if !w.complete(path, c) {
			continue
		}
		delete(w.pending, path)
		group = append(group, inboxFile{tenant: c.tenant, path: path})
		if len(group) == ClaimGroup {
			w.in.claim(group)
			group = group[:0]
		}
	}
	w.in.claim(group)
	if !wake.IsZero() {
		w.wakeAt(wake)
	}
}

// wakeAt makes the loop take files again at t at the latest.
func (w *watcher) wakeAt(t time.Time) {
	if w.heldUntil.IsZero() || t.Before(w.heldUntil) {
		w.heldUntil = t
		w.held.Reset(time.Until(t))
	}
}

// complete reports whether no one writes the file any more: it has settled,
// or it is an SFTP upload as it landed (the server closed it before the
// rename), or the kernel says no process has it open for writing.
func (w *watcher) complete(path string, c *candidate) bool {
	if time.Since(c.changed) >= w.settle || w.in.uploads.unchanged(path, c.fi) {
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
