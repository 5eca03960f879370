package intake

import (
	"os"
	"sync"
	"time"

	"github.com/multikanal/multikanal/gateway/sftpd"
)

// uploadHashes keeps the SHA-256 of each SFTP upload until the claim takes
// the file, so a 1 GiB upload is not read again to be hashed. The claim
// trusts a hash only for the same file (device and inode), size and
// modification time as when it landed; anything else is hashed again.
//
// It also follows each SFTP session's pace, so that the files of a burst
// (an ERP's "put *.xml": a file every millisecond or so) are claimed
// together rather than one by one, each claim costing a sync of the file
// system, two commits and a folder sync on the cores the upload needs. A
// file that lands within BurstGap of its session's previous one waits
// (hold) while the session goes on landing files, at most BurstHold; the
// first file of a session, and any file on its own, is claimed at once.
type uploadHashes struct {
	mu       sync.Mutex
	m        map[string]landed
	sessions map[uint64]*uploadSession
}

// landed is an upload not yet claimed.
type landed struct {
	sftpd.Upload
	burst bool // it landed within BurstGap of its session's previous upload
}

// uploadSession is the pace of one SFTP session's uploads.
type uploadSession struct {
	last  time.Time // its latest upload landed
	since time.Time // its oldest upload held for a burst landed; zero when none is held
}

const (
	// maxUploadHashes bounds the map when files are removed from the inbox
	// before a claim (the oldest half is forgotten; they are hashed again).
	maxUploadHashes = 4096
	// BurstGap is the longest pause between two uploads of one session
	// that still counts as a burst; it is also how long the last file of
	// a burst waits after it landed.
	BurstGap = 20 * time.Millisecond
	// BurstHold bounds how long any file of a burst waits for its claim.
	// A burst of small files shorter than this is claimed once it ends,
	// so its claims, reads and receipts do not take the cores the upload
	// needs (~13% faster for 1,000 files; docs/performance.md). Together
	// with the claim's own time it stays well inside the two seconds from
	// a close to its receipt that issue 4 promises.
	BurstHold = time.Second
)

func (u *uploadHashes) add(up sftpd.Upload) { u.addAt(up, time.Now()) }

// addAt records up as landed at now.
func (u *uploadHashes) addAt(up sftpd.Upload, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]landed{}
		u.sessions = map[uint64]*uploadSession{}
	}
	if len(u.m) >= maxUploadHashes {
		n := 0
		for k := range u.m {
			if n >= maxUploadHashes/2 {
				break
			}
			delete(u.m, k)
			n++
		}
	}
	s := u.sessions[up.Session]
	if s == nil {
		if len(u.sessions) >= 64 {
			for id, x := range u.sessions {
				if now.Sub(x.last) > BurstHold {
					delete(u.sessions, id)
				}
			}
		}
		s = &uploadSession{}
		u.sessions[up.Session] = s
	}
	burst := !s.last.IsZero() && now.Sub(s.last) < BurstGap
	s.last = now
	if burst && s.since.IsZero() {
		s.since = now
	}
	u.m[up.Path] = landed{Upload: up, burst: burst}
}

// hold reports whether the file at path is to wait for more files of its
// burst, and until when at most. When the wait is over for one file it is
// over for every file of its session that waits: they are claimed together.
func (u *uploadHashes) hold(path string, now time.Time) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	l, ok := u.m[path]
	if !ok || !l.burst {
		return time.Time{}, false
	}
	s := u.sessions[l.Session]
	if s == nil || s.since.IsZero() {
		return time.Time{}, false
	}
	until := s.last.Add(BurstGap)
	if end := s.since.Add(BurstHold); end.Before(until) {
		until = end
	}
	if now.Before(until) {
		return until, true
	}
	s.since = time.Time{}
	return time.Time{}, false
}

// unchanged reports whether the file at path, now described by fi, is an
// upload that landed complete and has not changed since: no writer can
// still have it open.
func (u *uploadHashes) unchanged(path string, fi os.FileInfo) bool {
	u.mu.Lock()
	l, ok := u.m[path]
	u.mu.Unlock()
	return ok && sameFile(l.File, fi)
}

// take returns the upload's hash when the file at path is still the one
// that landed, and forgets it either way.
func (u *uploadHashes) take(path string, now os.FileInfo) (string, bool) {
	u.mu.Lock()
	l, ok := u.m[path]
	delete(u.m, path)
	u.mu.Unlock()
	if !ok || !sameFile(l.File, now) {
		return "", false
	}
	return l.SHA256, true
}

// sameFile reports whether now is the file landed was: same inode, size
// and modification time.
func sameFile(landed, now os.FileInfo) bool {
	return now != nil && os.SameFile(landed, now) && landed.Size() == now.Size() && landed.ModTime().Equal(now.ModTime())
}
