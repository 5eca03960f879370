package gateway

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/multikanal/multikanal/config"
)

// ReloadStatus is the outcome of the last configuration reload, shown by
// `multikanal status`.
type ReloadStatus struct {
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
	Restart []string  `json:"needs_restart,omitempty"` // changed keys only a restart applies
}

// Reload applies a new configuration without dropping SFTP sessions or
// work in flight: tenants (new inboxes are watched, SFTP keys and passwords
// change at once), priorities, do-not-send lists and channel settings.
// Sends already under way finish with the settings they started with. A
// configuration that does not validate, or whose channels cannot be built,
// is refused whole and the running one stays. Listen addresses and the data
// directory need a restart; they are reported, not applied.
func (d *Daemon) Reload(cfg *config.Config, loadErr error) error {
	st := &ReloadStatus{At: time.Now().UTC()}
	defer func() { d.lastReload.Store(st) }()
	if loadErr != nil {
		st.Error = loadErr.Error()
		return loadErr
	}
	old := d.live.Load()
	if cfg.DataDir != old.DataDir {
		st.Restart = append(st.Restart, "data_dir")
	}
	if cfg.SFTP.Listen != old.SFTP.Listen {
		st.Restart = append(st.Restart, "sftp.listen")
	}
	if !reflect.DeepEqual(cfg.HTTP, old.HTTP) {
		st.Restart = append(st.Restart, "http")
	}
	if cfg.Public != old.Public {
		st.Restart = append(st.Restart, "public")
	}
	cfg.DataDir, cfg.HTTP, cfg.SFTP.Listen, cfg.Public = old.DataDir, old.HTTP, old.SFTP.Listen, old.Public
	parts, err := buildLanes(cfg, d.callbackURL)
	if err != nil {
		st.Error = err.Error()
		return err
	}
	tenants := map[string]*tenantState{}
	for _, t := range cfg.Tenants {
		tenants[t.ID] = &tenantState{cfg: t}
		for _, dir := range []string{d.inboxDir(t.ID), d.receiptsDir(t.ID)} {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				st.Error = fmt.Sprintf("tenant %s: %v", t.ID, err)
				return errors.New(st.Error)
			}
		}
	}
	if d.sftp != nil {
		sftpTenants, err := d.sftpTenants(cfg)
		if err == nil {
			err = d.sftp.SetTenants(sftpTenants)
		}
		if err != nil {
			st.Error = "sftp: " + err.Error()
			return errors.New(st.Error)
		}
	}
	for name, p := range parts {
		if l := d.lanes[name]; l != nil {
			l.parts.Store(p)
		} else {
			// A channel that was off at start gets its lane at the next.
			st.Restart = append(st.Restart, "channel."+name)
		}
	}
	d.tenants.Store(&tenants)
	d.live.Store(cfg)
	if d.inbox != nil {
		d.inbox.watch(d.tenantDirs())
	}
	st.OK = true
	d.log.Info("configuration reloaded", "source", cfg.Source, "tenants", len(cfg.Tenants), "needs_restart", st.Restart)
	return nil
}

// tenantDirs maps every tenant's inbox folder to the tenant.
func (d *Daemon) tenantDirs() map[string]string {
	dirs := map[string]string{}
	for id := range *d.tenants.Load() {
		dirs[d.inboxDir(id)] = id
	}
	return dirs
}
