package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/sftpd"
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
			if _, err := os.Stat(t.SFTPAuthorizedKeys); errors.Is(err, os.ErrNotExist) {
				if err := os.WriteFile(t.SFTPAuthorizedKeys, []byte(line+"\n"), 0o600); err != nil {
					return nil, err
				}
			}
			keys[t.ID] = priv
		}
		if t.AutoGiro != nil && t.AutoGiro.SealKeyFile != "" {
			if _, err := os.Stat(t.AutoGiro.SealKeyFile); errors.Is(err, os.ErrNotExist) {
				if err := os.WriteFile(t.AutoGiro.SealKeyFile, []byte(config.BankgirotTestSealKey+"\n"), 0o600); err != nil {
					return nil, err
				}
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
	srv, err := sftpd.New(sftpd.Options{
		Listen:            c.Listen,
		HostKeyDir:        filepath.Join(d.dataDir, "hostkeys"),
		MaxFileSize:       int64(c.MaxFileSize),
		MinFreeDisk:       int64(c.MinFreeDisk),
		IdleTimeout:       time.Duration(c.IdleTimeout),
		LoginGrace:        time.Duration(c.LoginGrace),
		MaxAuthTries:      c.MaxAuthTries,
		MaxConnsPerIP:     c.MaxConnsPerIP,
		MaxConnsPerTenant: c.MaxConnsPerTenant,
		SyncOnClose:       c.SyncOnClose,
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
type uploadHashes struct {
	mu sync.Mutex
	m  map[string]sftpd.Upload
}

// maxUploadHashes bounds the map when files are removed from the inbox
// before a claim (the oldest half is forgotten; they are hashed again).
const maxUploadHashes = 4096

func (u *uploadHashes) add(up sftpd.Upload) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]sftpd.Upload{}
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
	u.m[up.Path] = up
}

// take returns the upload's hash when the file at path is still the one
// that landed, and forgets it either way.
func (u *uploadHashes) take(path string, now os.FileInfo) (string, bool) {
	u.mu.Lock()
	up, ok := u.m[path]
	delete(u.m, path)
	u.mu.Unlock()
	if !ok || now == nil || !os.SameFile(up.File, now) || up.File.Size() != now.Size() || !up.File.ModTime().Equal(now.ModTime()) {
		return "", false
	}
	return up.SHA256, true
}
