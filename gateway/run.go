package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/internal/durable"
)

// Run runs the daemon until ctx ends, then stops taking files, lets sends in
// flight finish and be recorded, and returns. Work not finished stays in the
// store and resumes at the next start.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.store.Close()
	if err := d.httpapi.Open(); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var workers, services sync.WaitGroup

	// The receipt writer stops last: its final turn writes what the
	// workers and the background records (intake's rejections) changed
	// while they stopped. On runCtx, a stop right after a burst of refused
	// files left some of them without a receipt.
	receiptsCtx, stopReceipts := context.WithCancel(context.Background())
	defer stopReceipts()
	receiptsDone := make(chan struct{})
	go func() { defer close(receiptsDone); d.receipts.Run(receiptsCtx) }()
	finishReceipts := func() { stopReceipts(); <-receiptsDone }

	if err := d.resume(); err != nil {
		d.httpapi.Close()
		stop()
		finishReceipts()
		services.Wait()
		return err
	}
	if err := d.engine.Start(runCtx, &workers); err != nil {
		d.httpapi.Close()
		stop()
		workers.Wait()
		finishReceipts()
		services.Wait()
		return err
	}
	workers.Add(1)
	go func() { defer workers.Done(); d.intake.Read(runCtx) }()
	d.startNode(runCtx, &workers)
	if d.node == nil {
		// The schedules: retention, the reminders' timer (dunning.Tick) and
		// the webhooks' posts. Where nodes share a store, the leader alone
		// runs them (cluster.go).
		workers.Add(1)
		go func() { defer workers.Done(); d.upkeep.Run(runCtx) }()
		workers.Add(1)
		go func() { defer workers.Done(); d.dunning.Run(runCtx) }()
		workers.Add(1)
		go func() { defer workers.Done(); d.hooks.Run(runCtx) }()
	}

	d.httpapi.Serve(&services)

	inboxReady := make(chan struct{})
	inboxErr := make(chan error, 1)
	workers.Add(1)
	go func() {
		defer workers.Done()
		inboxErr <- d.intake.Watch(runCtx, func() { close(inboxReady) })
	}()
	// abort stops what has started when the start fails.
	abort := func(err error) error {
		stop()
		d.httpapi.Close()
		workers.Wait()
		d.intake.Wait()
		finishReceipts()
		services.Wait()
		return err
	}
	select {
	case <-inboxReady:
	case err := <-inboxErr:
		return abort(fmt.Errorf("inbox watcher: %w", err))
	}

	services.Add(1)
	sftpSrv, sftpLn, err := d.startSFTP(runCtx, services.Done)
	d.sftp = sftpSrv
	if err != nil {
		return abort(err)
	}

	info := api.Info{PID: os.Getpid(), Version: d.opts.Version, DataDir: d.dataDir, Inboxes: map[string]string{},
		Started: time.Now().UTC(), Config: d.cfg.Source}
	info.HTTP, info.Socket, info.Public = d.httpapi.Addrs()
	info.HTTPS = info.HTTP != "" && d.cfg.HTTP.TLSCertFile != ""
	if sftpSrv != nil {
		info.SFTP = sftpLn.Addr().String()
		info.SFTPHostKey = sftpSrv.HostKeyFingerprint()
		info.SFTPCommands = map[string]string{}
		knownHosts := filepath.Join(d.dataDir, "keys", "known_hosts")
		if err := sftpd.WriteKnownHosts(knownHosts, info.SFTP, sftpSrv.HostKey()); err != nil {
			d.log.Warn("cannot write known_hosts for clients", "err", err)
			knownHosts = ""
		}
		for tenant, key := range d.clientKeys {
			info.SFTPCommands[tenant] = sftpd.SFTPCommand(key, tenant, info.SFTP, knownHosts)
		}
	}
	for _, t := range d.cfg.Tenants {
		info.Inboxes[t.ID] = d.inboxDir(t.ID)
	}
	d.info.Store(&info)
	d.ready.Store(true)
	d.notify("READY=1")
	d.log.Info("multikanal ready", "data", d.dataDir, "http", info.HTTP, "tenants", len(d.cfg.Tenants))
	if d.opts.Started != nil {
		d.opts.Started(info)
	}
	// Last: daemon.json tells `status` and scripts that start-up is done.
	d.writeInfo(info)

	var fenced error
	select {
	case <-ctx.Done():
	case <-d.fenced():
		fenced = errFenced
	}
	d.ready.Store(false)
	d.notify("STOPPING=1")
	d.log.Info("stopping: no new files; finishing sends in flight")
	stop()
	workers.Wait()
	d.httpapi.Shutdown(2 * time.Second)
	d.intake.Wait()
	finishReceipts()
	services.Wait()
	os.Remove(filepath.Join(d.dataDir, "daemon.json"))
	d.log.Info("stopped")
	return fenced
}

func (d *Daemon) notify(state string) {
	if d.opts.Notify != nil {
		d.opts.Notify(state)
	}
}

// writeInfo leaves the daemon's addresses in the data directory, so
// `multikanal status` finds the running daemon without flags.
func (d *Daemon) writeInfo(info api.Info) {
	data, _ := json.MarshalIndent(info, "", "  ")
	if err := durable.WriteFile(filepath.Join(d.dataDir, "daemon.json"), data, 0o640); err != nil {
		d.log.Warn("cannot write daemon.json", "err", err)
	}
}
