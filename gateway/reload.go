package gateway

import (
	"errors"
	"reflect"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/deliver"
)

// Reload applies a new configuration without dropping SFTP sessions or
// work in flight: tenants (new inboxes are watched, SFTP keys and passwords
// change at once), priorities, do-not-send lists and channel settings.
// Sends already under way finish with the settings they started with. A
// configuration that does not validate, or whose channels cannot be built,
// is refused whole and the running one stays. Listen addresses and the data
// directory need a restart; they are reported, not applied.
func (d *Daemon) Reload(cfg *config.Config, loadErr error) error {
	st := &api.ReloadStatus{At: time.Now().UTC()}
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
	parts, err := deliver.BuildLanes(cfg, d.callbackURL)
	if err != nil {
		st.Error = err.Error()
		return err
	}
	tenants, err := d.makeTenants(cfg)
	if err != nil {
		st.Error = err.Error()
		return err
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
	// A channel that was off at start gets its lane at the next.
	for _, name := range d.lanes.Swap(parts) {
		st.Restart = append(st.Restart, "channel."+name)
	}
	d.tenants.Store(&tenants)
	d.live.Store(cfg)
	d.intake.Rewatch(d.tenantDirs())
	st.OK = true
	d.log.Info("configuration reloaded", "source", cfg.Source, "tenants", len(cfg.Tenants), "needs_restart", st.Restart)
	return nil
}
