package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/collection"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/intake"
	"github.com/multikanal/multikanal/gateway/metrics"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/store/bolt"
	"github.com/multikanal/multikanal/gateway/upkeep"
	"github.com/multikanal/multikanal/internal/durable"
)

// Options are what the command line hands the daemon.
type Options struct {
	Config  *config.Config
	Logger  *slog.Logger
	Version string
	// Notify reports service state to the supervisor (systemd's sd_notify:
	// "READY=1", "STOPPING=1"); nil when not supervised.
	Notify func(state string)
	// Started is called once the daemon is ready, with the addresses it
	// listens on, so the command can tell the user where to drop files.
	Started func(Info)
	// SFTPListener, when set, is a socket the service manager opened (socket
	// activation, so port 22 needs no privilege); sftp.listen is then unused.
	SFTPListener net.Listener
	// Pprof serves Go's profiles under /debug/pprof/ on the HTTP listener,
	// for profiling a running daemon (docs/performance.md).
	Pprof bool
}

// Info describes a running daemon.
type Info struct {
	PID     int    `json:"pid"`
	Version string `json:"version"`
	DataDir string `json:"data_dir"`
	HTTP    string `json:"http,omitempty"`
	SFTP    string `json:"sftp,omitempty"`
	// SFTPHostKey is the SSH host key's fingerprint, for clients to verify.
	SFTPHostKey string `json:"sftp_host_key,omitempty"`
	// SFTPCommands is, per tenant whose client key the daemon made (the
	// embedded default), the exact command that logs in.
	SFTPCommands map[string]string `json:"sftp_commands,omitempty"`
	Inboxes      map[string]string `json:"inboxes"`
	Started      time.Time         `json:"started"`
	Config       string            `json:"config"`
	// HTTPS says the HTTP listener serves TLS.
	HTTPS bool `json:"https,omitempty"`
	// Socket is the operators' Unix socket, which the CLI prefers.
	Socket string `json:"socket,omitempty"`
	// Public is the public listener's address.
	Public string `json:"public,omitempty"`
}

// tenantState is a tenant's configuration as the pipeline uses it.
type tenantState struct {
	cfg config.Tenant
}

// Daemon is the running gateway.
type Daemon struct {
	cfg        *config.Config
	log        *slog.Logger
	opts       Options
	dataDir    string
	store      store.Store
	lanes      deliver.Lanes
	tenants    atomic.Pointer[map[string]*tenantState]
	engine     *deliver.Engine
	registry   *registry.Registry
	collection *collection.Collection
	intake     *intake.Intake
	receipts   *receipts.Writer
	// recording counts store changes made without waiting for them
	// (rejectFile); a stop waits for them before the store closes.
	recording sync.WaitGroup
	ready     atomic.Bool
	info      Info
	// clientKeys are the SFTP client keys made for the embedded default.
	clientKeys map[string]string
	// live is the configuration in force: the start-up one, or the last
	// reloaded one. Listen addresses and the data directory never change.
	live       atomic.Pointer[config.Config]
	lastReload atomic.Pointer[ReloadStatus]
	sftp       *sftpd.Server
	metrics    *metrics.Metrics
	upkeep     *upkeep.Upkeep
	// auth authenticates operators; callbacks signs and checks the keys
	// in callback URLs, which start with publicBase. Both bases are set
	// once the listeners are open ("" for one that is off).
	auth       *operatorAuth
	callbacks  *callbackKeys
	publicBase string
	// pageBase is where login links point (pageBase in auth.go).
	pageBase string
	// backupMu is held while a backup is made and downloaded.
	backupMu sync.Mutex
}

// New prepares the daemon: folders, store, channels. It fails with a clear
// message when the store is locked by another process or unreadable.
func New(opts Options) (*Daemon, error) {
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: log, opts: opts, dataDir: dataDir}
	for _, dir := range []string{dataDir, filepath.Join(dataDir, "spool"), filepath.Join(dataDir, "outbox")} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	tenants := map[string]*tenantState{}
	for _, t := range cfg.Tenants {
		tenants[t.ID] = &tenantState{cfg: t}
		for _, dir := range []string{d.inboxDir(t.ID), d.receiptsDir(t.ID)} {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
			}
		}
	}
	d.tenants.Store(&tenants)
	d.live.Store(cfg)
	d.sweepTemporaryFiles()
	if d.auth, err = newOperatorAuth(cfg, dataDir); err != nil {
		return nil, err
	}
	if d.callbacks, err = loadCallbackKeys(cfg, dataDir); err != nil {
		return nil, err
	}
	if d.clientKeys, err = d.prepareEmbedded(); err != nil {
		return nil, fmt.Errorf("preparing the embedded default: %w", err)
	}
	parts, err := deliver.BuildLanes(cfg, d.callbackURL)
	if err != nil {
		return nil, err
	}
	d.lanes = deliver.NewLanes(parts)
	st, err := bolt.Open(filepath.Join(dataDir, "state.db"))
	if err != nil {
		return nil, err
	}
	d.store = st
	d.registry = registry.New(st, func(id string) bool { return d.tenant(id) != nil }, log)
	d.metrics = metrics.New(opts.Version)
	d.metrics.SetSources(d.documentCounts, d.queueSamples, d.store.Size)
	d.receipts = receipts.NewWriter(receipts.Options{Store: st, Dir: d.receiptsDir, Registerer: d.metrics.Registry, Log: log})
	d.upkeep = upkeep.New(upkeep.Options{Store: st, DataDir: dataDir, Config: d.live.Load, Tenant: d.tenantConfig, Receipts: d.receipts,
		Registerer: d.metrics.Registry, Log: log})
	d.engine = deliver.New(deliver.Options{Store: st, Lanes: d.lanes, Config: d.live.Load, Tenant: d.tenantConfig,
		Receipts: d.receipts, Metrics: d.metrics, Log: log})
	d.collection = collection.New(collection.Options{Store: st, Channels: d.lanes, Tenant: d.tenantConfig,
		Delivery: d.engine, Receipts: d.receipts, Log: log})
	d.engine.AddSource(d.collection.Mandates())
	// Files in the inbox that are not invoices, each told by its first
	// bytes, in this order.
	d.intake = intake.New(intake.Options{Store: st, SpoolDir: filepath.Join(dataDir, "spool"), Inboxes: d.tenantDirs(),
		Settle: time.Duration(cfg.Inbox.SettleTime), Scan: time.Duration(cfg.Inbox.ScanInterval), Tenant: d.tenantConfig,
		Readers: Readers, Appliers: []intake.Applier{d.registry, d.collection.BankFiles(), d.collection.EfakturaReports()},
		Channels: d.lanes, Prefetch: d.askKivra, OverQuota: d.upkeep.OverQuota, Delivery: d.engine, Receipts: d.receipts,
		Metrics: d.metrics, Log: log})
	return d, nil
}

func (d *Daemon) inboxDir(tenant string) string {
	return filepath.Join(d.dataDir, "tenants", tenant, "inbox")
}

func (d *Daemon) receiptsDir(tenant string) string {
	return filepath.Join(d.dataDir, "tenants", tenant, "receipts")
}

func (d *Daemon) tenant(id string) *tenantState { return (*d.tenants.Load())[id] }

// tenantConfig is a configured tenant's configuration.
func (d *Daemon) tenantConfig(id string) (config.Tenant, bool) {
	if t := d.tenant(id); t != nil {
		return t.cfg, true
	}
	return config.Tenant{}, false
}

// Run runs the daemon until ctx ends, then stops taking files, lets sends in
// flight finish and be recorded, and returns. Work not finished stays in the
// store and resumes at the next start.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.store.Close()
	ls, err := d.listen()
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var workers, services sync.WaitGroup

	// The receipt writer stops last: its final turn writes what the
	// workers and the background records (rejectFile) changed while they
	// stopped. On runCtx, a stop right after a burst of refused files
	// left some of them without a receipt.
	receiptsCtx, stopReceipts := context.WithCancel(context.Background())
	defer stopReceipts()
	receiptsDone := make(chan struct{})
	go func() { defer close(receiptsDone); d.receipts.Run(receiptsCtx) }()
	finishReceipts := func() { stopReceipts(); <-receiptsDone }

	if err := d.intake.Resume(); err != nil {
		ls.close()
		stop()
		finishReceipts()
		services.Wait()
		return err
	}
	if err := d.engine.Start(runCtx, &workers); err != nil {
		ls.close()
		stop()
		workers.Wait()
		finishReceipts()
		services.Wait()
		return err
	}
	workers.Add(1)
	go func() { defer workers.Done(); d.intake.Read(runCtx) }()
	workers.Add(1)
	go func() { defer workers.Done(); d.upkeep.Run(runCtx) }()

	srvs := d.serveHTTP(ls, &services)

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
		srvs.close()
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

	d.info = Info{PID: os.Getpid(), Version: d.opts.Version, DataDir: d.dataDir, Inboxes: map[string]string{},
		Started: time.Now().UTC(), Config: d.cfg.Source}
	if ls.op != nil {
		d.info.HTTP = ls.op.Addr().String()
		d.info.HTTPS = d.cfg.HTTP.TLSCertFile != ""
	}
	if ls.sock != nil {
		d.info.Socket = ls.sock.Addr().String()
	}
	if ls.pub != nil {
		d.info.Public = ls.pub.Addr().String()
	}
	if sftpSrv != nil {
		d.info.SFTP = sftpLn.Addr().String()
		d.info.SFTPHostKey = sftpSrv.HostKeyFingerprint()
		d.info.SFTPCommands = map[string]string{}
		knownHosts := filepath.Join(d.dataDir, "keys", "known_hosts")
		if err := sftpd.WriteKnownHosts(knownHosts, d.info.SFTP, sftpSrv.HostKey()); err != nil {
			d.log.Warn("cannot write known_hosts for clients", "err", err)
			knownHosts = ""
		}
		for tenant, key := range d.clientKeys {
			d.info.SFTPCommands[tenant] = sftpd.SFTPCommand(key, tenant, d.info.SFTP, knownHosts)
		}
	}
	for _, t := range d.cfg.Tenants {
		d.info.Inboxes[t.ID] = d.inboxDir(t.ID)
	}
	d.ready.Store(true)
	d.notify("READY=1")
	d.log.Info("multikanal ready", "data", d.dataDir, "http", d.info.HTTP, "tenants", len(d.cfg.Tenants))
	if d.opts.Started != nil {
		d.opts.Started(d.info)
	}
	// Last: daemon.json tells `status` and scripts that start-up is done.
	d.writeInfo()

	<-ctx.Done()
	d.ready.Store(false)
	d.notify("STOPPING=1")
	d.log.Info("stopping: no new files; finishing sends in flight")
	stop()
	workers.Wait()
	srvs.shutdown(2 * time.Second)
	d.intake.Wait()
	finishReceipts()
	services.Wait()
	os.Remove(filepath.Join(d.dataDir, "daemon.json"))
	d.log.Info("stopped")
	return nil
}

func (d *Daemon) notify(state string) {
	if d.opts.Notify != nil {
		d.opts.Notify(state)
	}
}

// writeInfo leaves the daemon's addresses in the data directory, so
// `multikanal status` finds the running daemon without flags.
func (d *Daemon) writeInfo() {
	data, _ := json.MarshalIndent(d.info, "", "  ")
	if err := durable.WriteFile(filepath.Join(d.dataDir, "daemon.json"), data, 0o640); err != nil {
		d.log.Warn("cannot write daemon.json", "err", err)
	}
}

// sweepTemporaryFiles removes what a crash (kill -9) left of durable
// writes: the temporary files of receipts, daemon.json, backups and key
// files (durable.IsTemp, and ".receipt-*" of versions before it), and
// SFTP uploads cut off mid-transfer (".upload-*.tmp" in an inbox; the
// client never got its OK). They were
// never renamed into place, so nothing refers to them; a tenant must not see
// them in /receipts. In an inbox only the SFTP server's own names go: a
// local program may be writing its own hidden file there.
func (d *Daemon) sweepTemporaryFiles() {
	dirs := []string{d.dataDir, filepath.Join(d.dataDir, "keys"), filepath.Join(d.dataDir, "hostkeys")}
	var inboxes []string
	for id := range *d.tenants.Load() {
		dirs = append(dirs, d.receiptsDir(id))
		inboxes = append(inboxes, d.inboxDir(id))
	}
	sweep := func(dir string, stale func(name string) bool) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Type().IsRegular() && stale(e.Name()) {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, dir := range dirs {
		sweep(dir, func(n string) bool {
			return strings.HasPrefix(n, ".receipt-") || durable.IsTemp(n)
		})
	}
	for _, dir := range inboxes {
		sweep(dir, sftpd.IsTempName)
	}
}
