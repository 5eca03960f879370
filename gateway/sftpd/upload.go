package sftpd

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/sys/unix"
)

// An upload is written in order, give or take the packets in flight:
// pkg/sftp's eight workers write the packets of one file in any order, and
// the stream passes on at most maxInFlight of them (16 × at most 256 KiB).
// A write further ahead than maxAhead of the bytes written without a gap
// would leave a hole, and is refused, as is a file that still has a hole
// at its close: a sparse 1 GiB file (one byte at its end) cost 3 s of CPU
// to hash at close, for one byte sent. So the hash is computed as the
// bytes arrive, and reading the file again at close (after a resume or a
// client writing the same bytes twice) costs no more than the bytes the
// client sent.
const (
	// maxAhead bounds how far beyond the gap-free bytes a write may land,
	// and so the copies of early packets held to hash in order.
	maxAhead = 8 << 20
	// maxAheadWrites bounds the number of writes held beyond the gap, so
	// that tiny packets cannot make a large map.
	maxAheadWrites = 256
	// maxHashCopies bounds the copies of early packets that all uploads
	// together hold to hash in order (an upload in order needs at most the
	// packets in flight, ~4 MiB). Past it an upload keeps no copies and is
	// read again at its close: slower, but a client that writes out of
	// order in many files cannot make the server hold 8 MiB for each.
	maxHashCopies = 64 << 20
	// maxSpare bounds the buffers an upload keeps for reuse.
	maxSpare = 16
)

// errHole refuses a write that would leave a gap.
func errHole(off, covered int64) error {
	return fmt.Errorf("the write at offset %d would leave a hole after byte %d: write a file from its start, in order: %w",
		off, covered, sftp.ErrSSHFxFailure)
}

// upload is one file being written into the inbox.
//
// Invariant: until Close succeeds, the data lives only under tmp, a hidden
// name (".upload-<random>.tmp") that the inbox watcher ignores; the visible
// name appears by one rename, so the watcher sees either nothing or the
// whole file. A failed, refused or interrupted upload removes tmp (or, when
// it resumed a .part file, puts that file back as it was).
type upload struct {
	ss      *session
	name    string // the visible name in the inbox
	tmp     string // the hidden name while writing
	f       *os.File
	started time.Time
	resumed int64 // size of the .part file it continues; -1 for a new file

	release func() // gives back the upload's place among the open files

	mu        sync.Mutex
	size      int64 // end of the furthest write
	failed    error // first error; the upload is discarded at close
	closed    bool
	allowance int64 // disk space reserved (session.disk) and not yet written
	durable   bool  // the client asked for fsync: Close syncs the rename too
	dirty     bool  // written since the last sync

	// The sha256 of the audit log is computed as the data arrives:
	// covered bytes (from the start, without a gap) are done; pending
	// holds the writes beyond them, with copies of their packets until
	// the gap before them is filled (pkg/sftp's eight workers call WriteAt
	// in any order, and the packet's buffer goes back to its allocator
	// after the reply); spare keeps the copies' buffers for reuse. With
	// rehash (a resumed file, bytes written twice) pending keeps no
	// copies, and the file is read again at close.
	hash    hash.Hash
	covered int64
	pending map[int64]aheadWrite
	pendLen int64
	spare   [][]byte
	held    int64 // capacity of the copies and spare buffers (Server.hashCopies)
	rehash  bool
}

// aheadWrite is a write beyond the covered bytes: where it ends, and its
// bytes while they are to be hashed in order.
type aheadWrite struct {
	end  int64
	data []byte
}

// tempName returns a fresh hidden name for an upload in progress.
func tempName() string {
	var b [8]byte
	rand.Read(b[:])
	return ".upload-" + hex.EncodeToString(b[:]) + ".tmp"
}

// IsTempName reports whether name is one the server writes an upload
// under before it lands. One left in an inbox after a crash of the daemon
// is an upload whose client never got its OK; the gateway removes it at
// start.
func IsTempName(name string) bool {
	return strings.HasPrefix(name, ".upload-") && strings.HasSuffix(name, ".tmp")
}

// startUpload creates the temporary file for name. With resume, the
// existing visible file is moved under the temporary name and continued at
// whatever offsets the client writes (OpenSSH's reput sends the offsets
// after the existing size; the append flag is honoured through them).
func (ss *session) startUpload(name string, resume bool, release func()) (*upload, error) {
	u := &upload{ss: ss, name: name, tmp: tempName(), started: time.Now(), resumed: -1, dirty: true,
		release: release, hash: sha256.New(), pending: make(map[int64]aheadWrite)}
	var err error
	if resume {
		if err = ss.inbox.Rename(name, u.tmp); err != nil {
			return nil, ss.fsErr("resume", err)
		}
		if u.f, err = ss.inbox.OpenFile(u.tmp, os.O_RDWR|syscall.O_NOFOLLOW, 0); err != nil {
			ss.inbox.Rename(u.tmp, name)
			return nil, ss.fsErr("resume", err)
		}
		fi, err := u.f.Stat()
		if err != nil {
			u.f.Close()
			ss.inbox.Rename(u.tmp, name)
			return nil, ss.fsErr("resume", err)
		}
		u.resumed, u.size, u.covered, u.rehash = fi.Size(), fi.Size(), fi.Size(), true
	} else if u.f, err = ss.createTemp(u.tmp); err != nil {
		return nil, ss.fsErr("upload", err)
	}
	ss.startWriting(u)
	return u, nil
}

// createTemp creates the new hidden file name (from tempName: one path
// component, no link can stand in for it with O_EXCL) in the inbox folder
// the session opened through its os.Root. Root.OpenFile would do the same
// and then try to register the file with Go's network poller, which a
// regular file refuses: five system calls more per upload (four fcntl, an
// epoll_ctl). The open of a small upload went from 36-43 to 32-34 us.
func (ss *session) createTemp(name string) (*os.File, error) {
	fd, err := unix.Openat(int(ss.inboxDir.Fd()), name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o640)
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// WriteAt writes one packet: within the size limit, without leaving a
// hole, and within the disk space reserved for it.
func (u *upload) WriteAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	if u.failed != nil || u.closed {
		u.mu.Unlock()
		if u.failed != nil {
			return 0, u.failed
		}
		return 0, os.ErrClosed
	}
	end := off + int64(len(p))
	if max := u.ss.srv.opt.MaxFileSize; off < 0 || (max > 0 && end > max) {
		err := fmt.Errorf("the file is larger than the limit of %d bytes: %w", max, sftp.ErrSSHFxFailure)
		u.failLocked(err)
		u.mu.Unlock()
		return 0, err
	}
	if err := u.track(p, off); err != nil {
		u.failLocked(err)
		u.mu.Unlock()
		return 0, err
	}
	grow := max(end-u.size, 0)
	if grow > u.allowance {
		n, err := u.ss.disk.grant(u.ss.tenant.InboxDir, grow-u.allowance, u.size)
		if err != nil {
			u.failLocked(err)
			u.mu.Unlock()
			return 0, err
		}
		u.allowance += n
	}
	u.allowance -= grow
	u.size = max(u.size, end)
	u.dirty = true
	u.mu.Unlock()

	// Outside the lock: pkg/sftp's workers write different offsets of the
	// same file at once. The bytes count as written after the write, so
	// that a probe of the free space in between counts them twice rather
	// than not at all.
	n, err := u.f.WriteAt(p, off)
	u.ss.disk.wrote(grow)
	if err != nil {
		err = u.ss.fsErr("write", err)
		u.mu.Lock()
		u.failLocked(err)
		u.mu.Unlock()
	}
	return n, err
}

// track follows which bytes of the file were written, and feeds them to
// the running hash in file order. It refuses a write that would leave a
// hole further ahead than maxAhead.
func (u *upload) track(p []byte, off int64) error {
	end := off + int64(len(p))
	if off > u.covered {
		if w, again := u.pending[off]; again {
			// The same offset written twice: the file, not the packets,
			// says which bytes count.
			u.unordered()
			if end > w.end {
				u.pendLen += end - w.end
				u.pending[off] = aheadWrite{end: end}
			}
			return nil
		}
		if off-u.covered > maxAhead || u.pendLen+int64(len(p)) > maxAhead || len(u.pending) >= maxAheadWrites {
			return errHole(off, u.covered)
		}
		w := aheadWrite{end: end}
		if !u.rehash {
			if n := len(u.spare); n > 0 && cap(u.spare[n-1]) >= len(p) {
				w.data, u.spare = u.spare[n-1], u.spare[:n-1]
			} else if copies := &u.ss.srv.hashCopies; copies.Add(int64(len(p))) <= maxHashCopies {
				w.data = make([]byte, 0, len(p))
				u.held += int64(len(p))
			} else {
				copies.Add(-int64(len(p)))
				u.unordered()
			}
		}
		if !u.rehash {
			w.data = append(w.data, p...)
		}
		u.pending[off] = w
		u.pendLen += int64(len(p))
		return nil
	}
	if off < u.covered {
		u.unordered()
	}
	if end > u.covered {
		if !u.rehash {
			u.hash.Write(p) // off == covered
		}
		u.covered = end
		u.drain()
	}
	return nil
}

// drain moves the pending writes that the covered bytes reach into them.
func (u *upload) drain() {
	for !u.rehash {
		w, ok := u.pending[u.covered]
		if !ok {
			return
		}
		delete(u.pending, u.covered)
		u.pendLen -= w.end - u.covered
		u.hash.Write(w.data)
		u.covered = w.end
		if len(u.spare) < maxSpare {
			u.spare = append(u.spare, w.data[:0])
		} else {
			u.dropBuffer(w.data)
		}
	}
	// Without copies to hash, overlapping writes may be pending too.
	for moved := true; moved; {
		moved = false
		for off, w := range u.pending {
			if off <= u.covered {
				delete(u.pending, off)
				u.pendLen -= w.end - off
				u.covered = max(u.covered, w.end)
				moved = true
			}
		}
	}
}

// unordered gives up hashing as the bytes arrive: the file is read again
// at close.
func (u *upload) unordered() {
	if u.rehash {
		return
	}
	u.rehash = true
	u.dropCopies()
}

// dropCopies lets go of the copies and spare buffers.
func (u *upload) dropCopies() {
	for off, w := range u.pending {
		u.pending[off] = aheadWrite{end: w.end}
	}
	u.spare = nil
	u.ss.srv.hashCopies.Add(-u.held)
	u.held = 0
}

// dropBuffer lets go of one copy's buffer.
func (u *upload) dropBuffer(b []byte) {
	u.ss.srv.hashCopies.Add(-int64(cap(b)))
	u.held -= int64(cap(b))
}

// holeLocked reports a gap left at close: bytes the client never wrote.
func (u *upload) holeLocked() error {
	if len(u.pending) == 0 {
		return nil
	}
	// Writes that overlap each other are pending still; drain them
	// without the hash.
	u.unordered()
	u.drain()
	if len(u.pending) == 0 {
		return nil
	}
	return fmt.Errorf("the file has a hole after byte %d that was never written: write a file from its start, in order: %w",
		u.covered, sftp.ErrSSHFxFailure)
}

// failLocked records the first reason the upload cannot complete and logs
// it; Close discards the data. The disk space it reserved and wrote is
// given back at once rather than at the close, which the client may send
// much later: with the disk near its limit, uploads failing one after
// another and holding their space until then made every other one fail too.
func (u *upload) failLocked(err error) {
	if u.failed != nil {
		return
	}
	u.failed = err
	u.ss.log.Info("sftp refused", "what", "upload", "path", "/inbox/"+u.name, "why", err.Error(), "bytes", u.size)
	u.ss.disk.release(u.allowance)
	u.allowance = 0
	if !u.closed {
		u.f.Truncate(max(u.resumed, 0))
	}
}

// TransferError is called by pkg/sftp when the session ends while the file
// is open: the connection dropped, so the upload is incomplete.
func (u *upload) TransferError(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failed == nil {
		u.failed = fmt.Errorf("transfer interrupted: %w", err)
		u.ss.log.Info("sftp upload aborted", "name", u.name, "bytes", u.size, "why", err.Error())
	}
}

// sync makes what was written so far durable, for fsync@openssh.com, and
// makes Close sync the rename into the inbox as well: a client that asks
// for fsync before closing gets a durable file with its close's OK.
func (u *upload) sync() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failed != nil {
		return u.failed
	}
	if u.closed {
		return nil
	}
	u.durable = true
	if err := u.syncLocked(); err != nil {
		u.failLocked(err)
		return err
	}
	return nil
}

func (u *upload) syncLocked() error {
	if !u.dirty {
		return nil
	}
	if err := u.f.Sync(); err != nil {
		return u.ss.fsErr("sync", err)
	}
	u.dirty = false
	return nil
}

// Close completes the upload: on success the file is renamed to its
// visible name, so the client's OK means the file is in the inbox. With
// Options.SyncOnClose, or after the client asked for fsync, the file and
// the rename are synced to disk first, and the OK means it survives a
// crash of the machine too. On failure nothing is left.
func (u *upload) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil
	}
	u.closed = true
	defer u.ss.endWriting(u)
	defer u.release()
	defer u.dropCopies()
	u.ss.disk.release(u.allowance)
	u.allowance = 0

	if u.failed == nil {
		if err := u.holeLocked(); err != nil {
			u.failLocked(err)
		}
	}
	durable := u.durable || u.ss.srv.opt.SyncOnClose
	if u.failed == nil && durable {
		if err := u.syncLocked(); err != nil {
			u.failLocked(err)
		}
	}
	if u.failed != nil {
		u.discard()
		return u.failed
	}
	sum, err := u.sum()
	// The file as it lands: a rename changes neither its inode, size nor
	// modification time.
	var fi os.FileInfo
	report := u.ss.srv.opt.Uploaded
	if err == nil && report != nil {
		fi, err = u.f.Stat()
	}
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	// Reported just before the rename: the inbox watcher, woken by it,
	// asks at once whether the file came in a burst (intake's
	// uploadHashes.hold). Should the rename fail, the report names a file
	// that never lands, which Uploaded allows for.
	if err == nil && report != nil {
		report(Upload{Tenant: u.ss.tenant.ID, Path: filepath.Join(u.ss.tenant.InboxDir, u.name), SHA256: sum, File: fi, Session: u.ss.id})
	}
	if err == nil {
		err = u.ss.inbox.Rename(u.tmp, u.name)
	}
	if err == nil && durable {
		err = u.ss.syncInbox()
	}
	if err != nil {
		u.failLocked(u.ss.fsErr("finish upload", err))
		u.ss.inbox.Remove(u.tmp)
		return u.failed
	}
	u.ss.log.Info("sftp upload", "name", u.name, "size", u.size, "sha256", sum,
		"seconds", time.Since(u.started).Seconds(), "resumed", u.resumed >= 0, "synced", durable)
	return nil
}

// discard removes the temporary file, or gives a resumed .part file back
// its old content and name. The file is still open.
func (u *upload) discard() {
	defer u.f.Close()
	if u.resumed >= 0 && u.f.Truncate(u.resumed) == nil {
		if _, err := u.ss.inbox.Lstat(u.name); errors.Is(err, os.ErrNotExist) && u.ss.inbox.Rename(u.tmp, u.name) == nil {
			return
		}
	}
	if err := u.ss.inbox.Remove(u.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		u.ss.log.Error("sftp temporary file left behind", "name", u.tmp, "err", err)
	}
}

// sum returns the hex sha256 of the whole file, reading it again only when
// the packets could not be hashed in order. The file has no hole by then
// (holeLocked), so reading it costs no more than the bytes written.
func (u *upload) sum() (string, error) {
	if !u.rehash && len(u.pending) == 0 && u.covered == u.size {
		return hex.EncodeToString(u.hash.Sum(nil)), nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(u.f, 0, u.size)); err != nil {
		return "", fmt.Errorf("hash upload: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// syncInbox makes the rename into the inbox durable.
func (ss *session) syncInbox() error {
	d, err := ss.inbox.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
