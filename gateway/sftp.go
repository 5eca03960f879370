package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/internal/durable"
)

// prepareEmbedded creates, on the embedded default's first start, the files
// its configuration names but no user could have made yet: the demo
// tenant's SFTP client key pair (and the authorized_keys that trusts it)
// and Bankgirot's published AutoGiro test seal key. It returns the client
// key per tenant, for the sftp command printed at start.
func (d *Daemon) prepareEmbedded() (map[string]string, error) {
	keys := map[string]string{}
	if !d.cfg.Embedded {
		return keys, nil
	}
	keyDir := filepath.Join(d.dataDir, "keys")
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		return nil, err
	}
	for _, t := range d.cfg.Tenants {
		if t.SFTPAuthorizedKeys != "" {
			priv, line, err := sftpd.EnsureClientKey(keyDir, t.ID+"_sftp_ed25519")
			if err != nil {
				return nil, err
			}
			if err := durable.WriteNew(t.SFTPAuthorizedKeys, []byte(line+"\n"), 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, err
			}
			keys[t.ID] = priv
		}
		if t.AutoGiro != nil && t.AutoGiro.SealKeyFile != "" {
			if err := durable.WriteNew(t.AutoGiro.SealKeyFile, []byte(config.BankgirotTestSealKey+"\n"), 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, err
			}
		}
	}
	return keys, nil
}

// sftpTenants maps the configuration's tenants to the SFTP server's view.
func (d *Daemon) sftpTenants(cfg *config.Config) ([]sftpd.Tenant, error) {
	var out []sftpd.Tenant
	for _, t := range cfg.Tenants {
		st := sftpd.Tenant{ID: t.ID, InboxDir: d.inboxDir(t.ID), ReceiptsDir: d.receiptsDir(t.ID), AuthorizedKeysFile: t.SFTPAuthorizedKeys}
		if t.SFTPPasswordFile != "" {
			h, err := config.ReadSecret(t.SFTPPasswordFile)
			if err != nil {
				return nil, fmt.Errorf("tenant %s: sftp_password_hash_file: %w", t.ID, err)
			}
			st.PasswordHash = strings.TrimSpace(string(h))
		}
		out = append(out, st)
	}
	return out, nil
}

// startSFTP listens and serves the SFTP inbox until ctx ends. It returns the
// server (nil when sftp.listen is empty) once it is listening.
func (d *Daemon) startSFTP(ctx context.Context, done func()) (*sftpd.Server, net.Listener, error) {
	c := d.cfg.SFTP
	serving := false
	defer func() {
		if !serving {
			done()
		}
	}()
	if c.Listen == "" && d.opts.SFTPListener == nil {
		return nil, nil, nil
	}
	tenants, err := d.sftpTenants(d.cfg)
	if err != nil {
		return nil, nil, err
	}
	start, rate, full := c.Startups()
	srv, err := sftpd.New(sftpd.Options{
		Listen:                 c.Listen,
		HostKeyDir:             filepath.Join(d.dataDir, "hostkeys"),
		MaxFileSize:            int64(c.MaxFileSize),
		MinFreeDisk:            int64(c.MinFreeDisk),
		IdleTimeout:            time.Duration(c.IdleTimeout),
		LoginGrace:             time.Duration(c.LoginGrace),
		MaxAuthTries:           c.MaxAuthTries,
		MaxConnsPerIP:          c.MaxConnsPerIP,
		MaxConnsPerTenant:      c.MaxConnsPerTenant,
		MaxStartups:            sftpd.Startups{Start: start, Rate: rate, Full: full},
		MaxOpenFilesPerSession: c.MaxOpenFilesPerSession,
		MaxOpenFilesPerTenant:  c.MaxOpenFilesPerTenant,
		MaxOpenFiles:           c.MaxOpenFiles,
		SyncOnClose:            c.SyncOnClose,
		Defender: sftpd.DefenderOptions{
			Enabled: c.Defender.Enabled, Threshold: c.Defender.Threshold,
			ScoreLoginFailed: c.Defender.LoginFailed, ScoreNoSuchUser: c.Defender.NoSuchUser,
			Window: time.Duration(c.Defender.Window), BanTime: time.Duration(c.Defender.BanTime),
		},
		Logger:   d.log.With("component", "sftp"),
		Observer: sftpObserver{d.metrics},
		Uploaded: d.uploads.add,
	}, tenants)
	if err != nil {
		return nil, nil, fmt.Errorf("sftp: %w", err)
	}
	ln := d.opts.SFTPListener
	if ln == nil {
		if ln, err = net.Listen("tcp", c.Listen); err != nil {
			return nil, nil, fmt.Errorf("sftp.listen %s: %w", c.Listen, err)
		}
	}
	serving = true
	go func() {
		defer done()
		if err := srv.Serve(ctx, ln); err != nil && ctx.Err() == nil {
			d.log.Error("sftp server stopped", "err", err)
		}
	}()
	return srv, ln, nil
}

// uploadHashes keeps the SHA-256 of each SFTP upload until the claim takes
// the file, so a 1 GiB upload is not read again to be hashed. The claim
// trusts a hash only for the same file (device and inode), size and
// modification time as when it landed; anything else is hashed again.
//
// It also follows each SFTP session's pace, so that the files of a burst
// (an ERP's "put *.xml": a file every millisecond or so) are claimed
// together rather than one by one, each claim costing a sync of the file
// system, two commits and a folder sync on the cores the upload needs. A
// file that lands within burstGap of its session's previous one waits
// (hold) while the session goes on landing files, at most burstHold; the
// first file of a session, and any file on its own, is claimed at once.
type uploadHashes struct {
	mu       sync.Mutex
	m        map[string]landed
	sessions map[uint64]*uploadSession
}

// landed is an upload not yet claimed.
type landed struct {
	sftpd.Upload
	burst bool // it landed within burstGap of its session's previous upload
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
	// burstGap is the longest pause between two uploads of one session
	// that still counts as a burst; it is also how long the last file of
	// a burst waits after it landed.
	burstGap = 20 * time.Millisecond
	// burstHold bounds how long any file of a burst waits for its claim.
	// A burst of small files shorter than this is claimed once it ends,
	// so its claims, reads and receipts do not take the cores the upload
	// needs (~13% faster for 1,000 files; docs/performance.md). Together
	// with the claim's own time it stays well inside the two seconds from
	// a close to its receipt that issue 4 promises.
	burstHold = time.Second
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
				if now.Sub(x.last) > burstHold {
					delete(u.sessions, id)
				}
			}
		}
		s = &uploadSession{}
		u.sessions[up.Session] = s
	}
	burst := !s.last.IsZero() && now.Sub(s.last) < burstGap
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
	until := s.last.Add(burstGap)
	if end := s.since.Add(burstHold); end.Before(until) {
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
