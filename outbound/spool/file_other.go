//go:build !linux

package spool

import "os"

// startWriteback has no portable equivalent of sync_file_range: Flush's
// fsync of each file does all the work.
func startWriteback(*os.File) {}

// createUnnamed: files without a name (O_TMPFILE) are Linux's; elsewhere
// every file is written under a temporary name and renamed.
func createUnnamed(dir, named string) (*os.File, bool, error) { return nil, false, nil }

func linkUnnamed(f *os.File, final string) (exists, unsupported bool, err error) {
	return false, true, nil
}
