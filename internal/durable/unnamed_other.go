//go:build !linux

package durable

import "os"

// CreateUnnamed: files without a name (O_TMPFILE) are Linux's; elsewhere
// the caller writes under a temporary name (CreateTemp) and renames.
func CreateUnnamed(final string) (*os.File, bool, error) { return nil, false, nil }

// LinkUnnamed is never reached where CreateUnnamed makes no file.
func LinkUnnamed(f *os.File, final string) (exists, unsupported bool, err error) {
	return false, true, nil
}
