package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's data now, without
// waiting: the blocks are allocated and on their way before the group's
// Flush, whose fsyncs then mostly wait for writes already under way.
func startWriteback(f *os.File) {
	unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
