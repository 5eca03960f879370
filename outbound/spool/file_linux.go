package spool

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's data now, without
// waiting: the blocks are allocated and on their way before the group's
// Flush, whose fsyncs then mostly wait for writes already under way.
func startWriteback(f *os.File) {
	unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// createUnnamed opens a new file in dir that has no name yet (O_TMPFILE):
// no folder entry is made for it until linkUnnamed gives it its name, and
// should the daemon stop before that, the file is gone with its last
// descriptor, with nothing left to sweep. named is the name the *os.File
// carries in errors. ok is false where the file system or the kernel
// cannot make such a file (EOPNOTSUPP, EISDIR or EINVAL for O_TMPFILE): the
// caller then uses a temporary name and a rename.
func createUnnamed(dir, named string) (f *os.File, ok bool, err error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
			return nil, false, nil
		}
		return nil, true, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return os.NewFile(uintptr(fd), named), true, nil
}

// linkUnnamed gives the file createUnnamed made the name final: a reader
// of the folder sees it whole, at once, as after a rename. It links through
// /proc/self/fd, which needs no privilege (linkat's AT_EMPTY_PATH needs
// CAP_DAC_READ_SEARCH). exists is true when final is taken (a message sent
// again): a link never replaces a file, so the caller writes it by rename.
// unsupported is true when /proc is not mounted.
func linkUnnamed(f *os.File, final string) (exists, unsupported bool, err error) {
	err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, final, unix.AT_SYMLINK_FOLLOW)
	switch {
	case err == nil:
		return false, false, nil
	case errors.Is(err, unix.EEXIST):
		return true, false, nil
	case errors.Is(err, unix.ENOENT) && !procMounted():
		return false, true, nil
	}
	return false, false, &os.LinkError{Op: "link", Old: f.Name(), New: final, Err: err}
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/fd")
	return err == nil
}
