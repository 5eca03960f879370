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

const (
	// diskCheckEvery is how many bytes an upload writes between checks of
	// the free disk space.
	diskCheckEvery = 32 << 20
	// maxPendingHash bounds the out-of-order writes held to hash a file
	// while it arrives; pkg/sftp runs several writers, so packets can come
	// slightly out of order. Beyond it the file is hashed again at close.
	maxPendingHash = 8 << 20
)

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

	mu       sync.Mutex
	size     int64 // end of the furthest write
	failed   error // first error; the upload is discarded at close
	closed   bool
	sinceChk int64 // bytes since the last free disk check
	durable  bool  // the client asked for fsync: Close syncs the rename too
	dirty    bool  // written since the last sync

	// The sha256 of the audit log is computed as the data arrives:
	// hashed bytes are done, pending holds copies of early packets until
	// the gap before them is filled (pkg/sftp's eight workers call WriteAt
	// in any order, and the packet's buffer goes back to its allocator
	// after the reply), spare the copies' buffers for reuse. rehash gives
	// up and reads the file at close.
	hash    hash.Hash
	hashed  int64
	pending map[int64][]byte
	pendLen int
	spare   [][]byte
	rehash  bool
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
func (ss *session) startUpload(name string, resume bool) (*upload, error) {
	u := &upload{ss: ss, name: name, tmp: tempName(), started: time.Now(), resumed: -1, dirty: true,
		hash: sha256.New(), pending: make(map[int64][]byte)}
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
		u.resumed, u.size, u.rehash = fi.Size(), fi.Size(), true
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

// WriteAt writes one packet, within the size limit and while the disk has
// room.
func (u *upload) WriteAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	if u.failed != nil {
		u.mu.Unlock()
		return 0, u.failed
	}
	end := off + int64(len(p))
	if max := u.ss.srv.opt.MaxFileSize; off < 0 || (max > 0 && end > max) {
		err := fmt.Errorf("the file is larger than the limit of %d bytes: %w", max, sftp.ErrSSHFxFailure)
		u.failLocked(err)
		u.mu.Unlock()
		return 0, err
	}
	if u.sinceChk += int64(len(p)); u.sinceChk >= diskCheckEvery {
		u.sinceChk = 0
		if err := u.ss.srv.checkDisk(u.ss.tenant.InboxDir); err != nil {
			u.failLocked(err)
			u.mu.Unlock()
			return 0, err
		}
	}
	u.track(p, off)
	u.size = max(u.size, end)
	u.dirty = true
	u.mu.Unlock()

	// Outside the lock: pkg/sftp's workers write different offsets of the
	// same file at once.
	n, err := u.f.WriteAt(p, off)
	if err != nil {
		err = u.ss.fsErr("write", err)
		u.mu.Lock()
		u.failLocked(err)
		u.mu.Unlock()
	}
	return n, err
}

// track feeds p at off to the running hash, in file order.
func (u *upload) track(p []byte, off int64) {
	switch {
	case u.rehash:
	case off == u.hashed:
		u.hash.Write(p)
		u.hashed += int64(len(p))
		for {
			q, ok := u.pending[u.hashed]
			if !ok {
				break
			}
			delete(u.pending, u.hashed)
			u.pendLen -= len(q)
			u.hash.Write(q)
			u.hashed += int64(len(q))
			u.spare = append(u.spare, q[:0])
		}
	case off > u.hashed && u.pendLen+len(p) <= maxPendingHash && u.pending[off] == nil:
		var q []byte
		if n := len(u.spare); n > 0 && cap(u.spare[n-1]) >= len(p) {
			q, u.spare = u.spare[n-1], u.spare[:n-1]
		}
		u.pending[off] = append(q, p...)
		u.pendLen += len(p)
	default:
		u.rehash, u.pending, u.spare = true, nil, nil
	}
}

// failLocked records the first reason the upload cannot complete and logs
// it; Close discards the data.
func (u *upload) failLocked(err error) {
	if u.failed != nil {
		return
	}
	u.failed = err
	u.ss.log.Info("sftp refused", "what", "upload", "path", "/inbox/"+u.name, "why", err.Error(), "bytes", u.size)
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
	// asks at once whether the file came in a burst (gateway's
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
// the packets could not be hashed in order.
func (u *upload) sum() (string, error) {
	if !u.rehash && len(u.pending) == 0 && u.hashed == u.size {
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
