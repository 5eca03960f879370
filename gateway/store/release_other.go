//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMap does nothing where madvise is not at hand.
func releaseMap(*bolt.DB) error { return nil }
