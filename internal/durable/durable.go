// Package durable puts files in place so that a crash, of the process or of
// the machine, leaves the old file or the new one, whole, never a part of
// either; and so that once a call returns, the new file survives a crash.
// It is the one place the gateway, the transports and the command line
// write such files; it is not a general file library.
//
// The rules (Linux; ext4, xfs and btrfs alike):
//
//  1. Write into a temporary file in the final name's folder: a rename is
//     atomic only within one file system. Temporary names are hidden,
//     "." + the final name + ".<random>.tmp" (CreateTemp), so a folder's
//     readers (the inbox watcher, a tenant over SFTP) pass them by, and a
//     start-up sweep knows them (IsTemp) and removes what a crash left.
//  2. fsync the file before the rename. Without it a crash may leave the
//     final name pointing at an empty or partial file: the rename can
//     reach the disk before the data does.
//  3. Rename over the final name: a reader sees the old file or the new.
//  4. fsync the folder. The rename changed the folder, not the file; until
//     the folder is synced a crash may bring the old name back.
//  5. Nothing counts as done (is recorded in the store, is answered to a
//     client) before step 4 of its file.
//
// Many files may share their syncs (Group): each is written into its
// temporary file, then the data of all is made durable at once (one
// syncfs per file system), then each is renamed, then each folder is
// synced once. A file per receipt or per claim would otherwise cost an
// fsync each (~1 ms here, ../shared/BOUNDS.md).
//
// A transport that must put a file in place before it knows whether the
// send counts (the spool transport's unflushed sends) may rename before
// it syncs, under rule 5: the send is recorded only after the file and
// the folder are synced, and a repeat of an unrecorded send writes the
// same name again, so a crash in between loses nothing.
//
// A file written once, under a name no file has, may skip the temporary
// name: it is created without a name (CreateUnnamed, O_TMPFILE) and
// linked into place (LinkUnnamed), which, like the rename, shows it whole
// or not at all, and leaves nothing behind after a crash; the syncs are
// the same (the spool transport, whose outbox files are written once).
//
// A secret is never overwritten (WriteNew): it is linked into place, which
// fails when the name exists, so two starts cannot make two keys.
package durable

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// tempSuffix ends every temporary name; the random part is before it.
const tempSuffix = ".tmp"

// maxTempBase bounds the final name's part of a temporary name, so that
// with the dot, the random part and the suffix it stays within NAME_MAX
// (255 bytes).
const maxTempBase = 200

// CreateTemp creates the temporary file for final, in final's folder,
// with mode 0600 until the caller sets another.
func CreateTemp(final string) (*os.File, error) {
	base := filepath.Base(final)
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	return os.CreateTemp(filepath.Dir(final), "."+base+".*"+tempSuffix)
}

// IsTemp reports whether name is a temporary name CreateTemp gives: a
// sweep at start removes such files, which no rename ever put in place.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, tempSuffix)
}

// WriteFile replaces path with data, with mode perm, by rules 1–4.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write replaces path with what fill writes, with mode perm, by rules 1–4.
// fill streams: a large file is never whole in memory.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) error {
	tmp, err := writeTemp(path, perm, fill)
	if err == nil {
		err = os.Rename(tmp, path)
		if err != nil {
			os.Remove(tmp)
		}
	}
	if err == nil {
		err = SyncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteNew creates path with data and mode perm, durably, only when no
// file has the name: it fails with an error that is fs.ErrExist otherwise.
// The file is complete when it appears (a link of a synced temporary
// file), so a reader never finds a secret half written.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// writeTemp writes the temporary file of path, synced and with mode perm,
// and returns its name; on an error nothing is left.
func writeTemp(path string, perm os.FileMode, fill func(io.Writer) error) (string, error) {
	f, err := CreateTemp(path)
	if err != nil {
		return "", err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// The umask does not apply to a chmod: perm is what the file gets.
		err = os.Chmod(f.Name(), perm)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// SyncDir makes the renames and links into dir durable (rule 4).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// SyncFileSystems writes all dirty data of the file systems holding dirs
// to disk, one syncfs each: for many files written by this process or by
// another (a cp into an inbox), cheaper than an fsync per file.
func SyncFileSystems(dirs ...string) error {
	synced := map[uint64]bool{}
	for _, dir := range dirs {
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil {
			return err
		}
		if synced[st.Dev] {
			continue
		}
		synced[st.Dev] = true
		if err := syncFS(dir); err != nil {
			return err
		}
	}
	return nil
}

func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}

// Group puts many files in place with their syncs shared: Add writes each
// into its temporary file, Commit makes them durable together and renames
// them. A Group is used by one goroutine.
type Group struct {
	files []groupFile
}

type groupFile struct {
	tmp, path string
	perm      os.FileMode
}

// Add writes what fill writes into the temporary file of path. On an error
// nothing is left and the file is not part of the group.
func (g *Group) Add(path string, perm os.FileMode, fill func(io.Writer) error) error {
	f, err := CreateTemp(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	err = fill(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	g.files = append(g.files, groupFile{tmp: f.Name(), path: path, perm: perm})
	return nil
}

// Len is the number of files added and not yet committed.
func (g *Group) Len() int { return len(g.files) }

// Commit makes the files added durable and puts them in place: one syncfs
// per file system for their data, a rename each, one fsync per folder. It
// returns, in the order the files were added, nil for each that is in
// place and durable, or why not; the temporary file of a file that failed
// before its rename is removed. The group is empty afterwards.
func (g *Group) Commit() []error {
	files := g.files
	g.files = nil
	errs := make([]error, len(files))
	if len(files) == 0 {
		return errs
	}
	var dirs []string
	seen := map[string]bool{}
	for _, f := range files {
		if dir := filepath.Dir(f.path); !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	if err := SyncFileSystems(dirs...); err != nil {
		for i, f := range files {
			os.Remove(f.tmp)
			errs[i] = fmt.Errorf("syncing %s: %w", f.path, err)
		}
		return errs
	}
	for i, f := range files {
		err := os.Chmod(f.tmp, f.perm)
		if err == nil {
			err = os.Rename(f.tmp, f.path)
		}
		if err != nil {
			os.Remove(f.tmp)
			errs[i] = fmt.Errorf("putting %s in place: %w", f.path, err)
		}
	}
	dirErr := map[string]error{}
	for i, f := range files {
		if errs[i] != nil {
			continue
		}
		dir := filepath.Dir(f.path)
		err, done := dirErr[dir]
		if !done {
			err = SyncDir(dir)
			dirErr[dir] = err
		}
		if err != nil {
			errs[i] = fmt.Errorf("syncing the folder of %s: %w", f.path, err)
		}
	}
	return errs
}
