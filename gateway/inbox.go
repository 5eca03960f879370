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
}

type candidate struct {
	tenant  string
	size    int64
	mod     time.Time
	seen    time.Time // when the file was first seen: files are taken in arrival order
	changed time.Time // when size or mtime last changed
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
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write) || ev.Has(fsnotify.Chmod) {
				if tenant, ok := in.dirs[filepath.Dir(ev.Name)]; ok {
					in.observe(tenant, ev.Name)
					in.take(ctx)
				}
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
		in.pending[path] = &candidate{tenant: tenant, size: fi.Size(), mod: fi.ModTime(), seen: now, changed: now}
		return
	}
	if c.size != fi.Size() || !c.mod.Equal(fi.ModTime()) {
		c.size, c.mod, c.changed = fi.Size(), fi.ModTime(), now
	}
}

// take claims every candidate that is complete, in the order the files
// arrived (a registration file dropped before an invoice file is applied
// before the invoices are routed).
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
	for _, path := range paths {
		c := in.pending[path]
		if ctx.Err() != nil {
			return
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
}

func (in *inbox) complete(path string, c *candidate) bool {
	if time.Since(c.changed) >= in.settle {
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
