package store

import (
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMap drops the store's pages from the daemon's memory map
// (madvise MADV_DONTNEED on bbolt's read-only shared mapping). They stay in
// the kernel's page cache, and the next read maps them again with a minor
// fault; what goes is their count in the daemon's RSS, which otherwise grows
// with every page ever read until the store is as large as its history.
// It runs inside a read transaction: bbolt remaps only when none is open,
// so the mapping cannot move while it is advised.
func releaseMap(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
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
