package durable

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// CreateUnnamed opens a new file, mode 0600, in final's folder that has no
// name yet (O_TMPFILE): no folder entry is made until LinkUnnamed gives it
// final, and should the process stop before that, the file is gone with
// its last descriptor, with nothing for a sweep to remove. The *os.File
// carries final as its name, for errors. ok is false, with no error,
// where the file system or the kernel cannot make such a file: the caller
// then writes under a temporary name (CreateTemp) and renames.
func CreateUnnamed(final string) (f *os.File, ok bool, err error) {
	dir := filepath.Dir(final)
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
			return nil, false, nil
		}
		return nil, true, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return os.NewFile(uintptr(fd), final), true, nil
}

// LinkUnnamed gives a file CreateUnnamed made its name final: a reader of
// the folder sees it whole, at once, as after a rename (rule 3), but a
// link never replaces a file: exists is true, with no error, when final is
// taken, and the caller writes it by rename instead. It links through
// /proc/self/fd, which needs no privilege (linkat's AT_EMPTY_PATH needs
// CAP_DAC_READ_SEARCH); unsupported is true when /proc is not mounted.
// The folder is synced by the caller (rule 4), as after a rename.
func LinkUnnamed(f *os.File, final string) (exists, unsupported bool, err error) {
	err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, final, unix.AT_SYMLINK_FOLLOW)
	switch {
	case err == nil:
		return false, false, nil
	case errors.Is(err, unix.EEXIST):
		return true, false, nil
	case errors.Is(err, unix.ENOENT) && !procMounted():
		return false, true, nil
	}
	return false, false, &os.LinkError{Op: "link", Old: "/proc/self/fd/" + strconv.Itoa(int(f.Fd())), New: final, Err: err}
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/fd")
	return err == nil
}
