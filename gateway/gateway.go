package gateway

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/collection"
	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/design"
	"github.com/multikanal/multikanal/gateway/dunning"
	"github.com/multikanal/multikanal/gateway/hooks"
	"github.com/multikanal/multikanal/gateway/httpapi"
	"github.com/multikanal/multikanal/gateway/intake"
	"github.com/multikanal/multikanal/gateway/metrics"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/gateway/store"
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
	Started func(api.Info)
	// SFTPListener, when set, is a socket the service manager opened (socket
	// activation, so port 22 needs no privilege); sftp.listen is then unused.
	SFTPListener net.Listener
	// Pprof serves Go's profiles under /debug/pprof/ on the HTTP listener,
	// for profiling a running daemon (docs/performance.md).
	Pprof bool
}

// Daemon is the running gateway: its parts, wired. It holds the
// configuration in force and the tenants, which a reload swaps, and hands
// each part what it needs; the parts do the work.
type Daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	opts    Options
	dataDir string
	// live is the configuration in force: the start-up one, or the last
	// reloaded one. Listen addresses and the data directory never change.
	live       atomic.Pointer[config.Config]
	tenants    atomic.Pointer[map[string]config.Tenant]
	lastReload atomic.Pointer[api.ReloadStatus]
	ready      atomic.Bool
	info       atomic.Pointer[api.Info]
	// clientKeys are the SFTP client keys made for the embedded default.
	clientKeys map[string]string

	store      store.Store
	lanes      deliver.Lanes
	metrics    *metrics.Metrics
	receipts   *receipts.Writer
	registry   *registry.Registry
	engine     *deliver.Engine
	collection *collection.Collection
	intake     *intake.Intake
	upkeep     *upkeep.Upkeep
	dunning    *dunning.Dunning
	hooks      *hooks.Hooks
	httpapi    *httpapi.Server
	sftp       *sftpd.Server
	// node is set where nodes share the store (cluster.go).
	node *node
}

// New prepares the daemon: folders, store, channels, and its parts. It
// fails with a clear message when the store is locked by another process
// or unreadable.
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
	tenants, err := d.makeTenants(cfg)
	if err != nil {
		return nil, err
	}
	d.tenants.Store(&tenants)
	d.live.Store(cfg)
	d.sweepTemporaryFiles()
	if d.clientKeys, err = d.prepareEmbedded(); err != nil {
		return nil, fmt.Errorf("preparing the embedded default: %w", err)
	}
	// The callback URLs the channels give out are the HTTP side's, known
	// once its listeners are open; they are asked at each send.
	parts, err := deliver.BuildLanes(cfg, d.callbackURL)
	if err != nil {
		return nil, err
	}
	d.lanes = deliver.NewLanes(parts)
	st, err := d.openStore()
	if err != nil {
		return nil, err
	}
	d.store = st
	if err := d.wire(st); err != nil {
		st.Close()
		return nil, err
	}
	return d, nil
}

// wire makes the parts, each with what it needs: every dependency is
// passed here, and nothing else reaches another part.
func (d *Daemon) wire(st store.Store) error {
	log, cfg := d.log, d.cfg
	d.metrics = metrics.New(d.opts.Version)
	d.metrics.SetSources(d.documentCounts, d.queueSamples, st.Size)
	d.registry = registry.New(st, func(id string) bool { _, ok := d.tenant(id); return ok },
		func() []recipients.Channel { return registry.RecipientChannels(d.live.Load()) }, log)
	d.receipts = receipts.NewWriter(receipts.Options{Store: st, Dir: d.receiptsDir, Registerer: d.metrics.Registry, Log: log})
	rc, payloads, cluster := d.shared(st)
	d.upkeep = upkeep.New(upkeep.Options{Store: st, DataDir: d.dataDir, Payloads: payloads, Config: d.live.Load, Tenant: d.tenant, Receipts: rc,
		Registerer: d.metrics.Registry, Log: log})
	d.engine = deliver.New(deliver.Options{Store: st, Lanes: d.lanes, Config: d.live.Load, Tenant: d.tenant,
		Receipts: rc, Metrics: d.metrics, Letters: design.Designs{Tenant: d.tenant, Link: d.pageURL}, Cluster: cluster, Log: log})
	d.collection = collection.New(collection.Options{Store: st, Channels: d.lanes, Tenant: d.tenant,
		Delivery: d.engine, Receipts: rc, Log: log})
	d.engine.AddSource(d.collection.Mandates())
	d.intake = intake.New(intake.Options{Store: st, SpoolDir: filepath.Join(d.dataDir, "spool"), Payloads: payloads, Inboxes: d.tenantDirs(),
		Settle: time.Duration(cfg.Inbox.SettleTime), Scan: time.Duration(cfg.Inbox.ScanInterval), Tenant: d.tenant,
		// Files that are not invoices, each told by its first bytes, in
		// this order, before the invoice formats.
		Readers:  func() []formats.Reader { return intake.Readers(d.live.Load()) },
		Appliers: []intake.Applier{d.registry, d.collection.OrderFiles(), d.collection.BankFiles(), d.collection.FileReports()},
		Channels: d.lanes, Prefetch: d.prefetch, OverQuota: d.upkeep.OverQuota, Delivery: d.engine, Receipts: rc,
		Metrics: d.metrics, Log: log})
	d.dunning = dunning.New(dunning.Options{Store: st, Channels: d.lanes, Tenant: d.tenant, Tenants: d.tenantList,
		Delivery: d.engine, Receipts: rc, Log: log})
	d.hooks = hooks.New(hooks.Options{Store: st, Tenant: d.tenant, Tenants: d.tenantList, Log: log,
		Retention: func(t string) time.Duration { return time.Duration(d.live.Load().RetentionFor(t).Payloads) }})
	var err error
	d.httpapi, err = httpapi.New(httpapi.Options{Config: cfg, DataDir: d.dataDir, Store: st, Tenant: d.tenant, Delivery: d.engine,
		Registry: d.registry, Collection: d.collection, Upkeep: d.upkeep, Metrics: d.metrics.Handler(),
		Dunning: d.dunning, Events: d.hooks, Paper: d.paper, Tenants: d.tenantList,
		Pages:      &design.Pages{Store: st, Config: d.live.Load, Tenant: d.tenant, Touch: rc.Touch, Log: log},
		Registered: func() []string { return d.live.Load().ChannelNames() }, Info: d.infoNow, Ready: d.ready.Load, LastReload: d.lastReload.Load, Pprof: d.opts.Pprof, Log: log})
	return err
}

func (d *Daemon) inboxDir(tenant string) string {
	return filepath.Join(d.dataDir, "tenants", tenant, "inbox")
}

func (d *Daemon) receiptsDir(tenant string) string {
	return filepath.Join(d.dataDir, "tenants", tenant, "receipts")
}

// tenant is a configured tenant's configuration, as the parts ask it.
func (d *Daemon) tenant(id string) (config.Tenant, bool) {
	t, ok := (*d.tenants.Load())[id]
	return t, ok
}

// tenantList is the tenants in force, in the configuration's order.
func (d *Daemon) tenantList() []config.Tenant { return d.live.Load().Tenants }

// paper says whether a channel puts paper in an envelope (its
// descriptor's Paper).
func (d *Daemon) paper(channel string) bool {
	desc, ok := d.lanes.Descriptor(channel)
	return ok && desc.Paper
}

// makeTenants makes the folders of cfg's tenants and returns them by id.
func (d *Daemon) makeTenants(cfg *config.Config) (map[string]config.Tenant, error) {
	tenants := map[string]config.Tenant{}
	for _, t := range cfg.Tenants {
		tenants[t.ID] = t
		for _, dir := range []string{d.inboxDir(t.ID), d.receiptsDir(t.ID)} {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
			}
		}
	}
	return tenants, nil
}

// tenantDirs maps every tenant's inbox folder to the tenant.
func (d *Daemon) tenantDirs() map[string]string {
	dirs := map[string]string{}
	for id := range *d.tenants.Load() {
		dirs[d.inboxDir(id)] = id
	}
	return dirs
}

// pageURL is the link to a delivery's invoice page: the HTTP side's.
func (d *Daemon) pageURL(delivery string, expires time.Time) string {
	return d.httpapi.PageURL(delivery, expires)
}

// callbackURL is the channels' deliver.CallbackURL: the HTTP side's.
func (d *Daemon) callbackURL(kind, id string) string { return d.httpapi.CallbackURL(kind, id) }

// infoNow is what the daemon says of itself: empty until it is ready.
func (d *Daemon) infoNow() api.Info {
	if i := d.info.Load(); i != nil {
		return *i
	}
	return api.Info{}
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
