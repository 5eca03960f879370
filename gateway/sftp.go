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
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/metrics"
	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/internal/durable"
	"github.com/multikanal/multikanal/outbound"
)

// prepareEmbedded creates, on the embedded default's first start, the files
// its configuration names but no user could have made yet: the demo
// tenant's SFTP client key pair (and the authorized_keys that trusts it)
// and the files its channel agreements name (outbound.AgreementFiles:
// Bankgirot's published AutoGiro test seal key). It returns the client key
// per tenant, for the sftp command printed at start.
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
		for _, a := range t.Agreements {
			af, ok := a.(outbound.AgreementFiles)
			if !ok {
				continue
			}
			for path, body := range af.EmbeddedFiles() {
				if err := durable.WriteNew(path, body, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
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
		Observer: metrics.SFTP{M: d.metrics},
		Uploaded: d.intake.Uploaded,
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
