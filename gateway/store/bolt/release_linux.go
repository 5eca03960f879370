package bolt

import (
	"bytes"
	"os"
	"strconv"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMap drops the store's pages from the daemon's memory map
// (madvise MADV_DONTNEED on bbolt's read-only shared mapping). They stay in
// the kernel's page cache, and the next read maps them again with a minor
// fault; what goes is their count in the daemon's RSS, which otherwise grows
// with every page ever read until the store is as large as its history.
// It runs inside a read transaction: bbolt remaps only when none is open,
// so the mapping cannot move while it is advised.
func releaseMap(db *bbolt.DB) error {
	return db.View(func(tx *bbolt.Tx) error {
		size := tx.Size()
		if size <= 0 {
			return nil
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, db.Info().Data, uintptr(size), unix.MADV_DONTNEED)
		if errno != 0 {
			return errno
		}
		return nil
	})
}

// fileResident is how much of the process's resident memory is file-backed
// (the store's map and the binary), from /proc/self/statm; -1 when unknown.
// It costs one small read, so the release loop can look often: a read of
// the store maps up to 16 neighbouring cached pages per fault (the kernel's
// fault-around), and busy workers map ~100 MB in a quarter second.
func fileResident() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return -1
	}
	pages, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}
