package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/outbound/channels"
)

// defaultMemoryLimit is the Go heap's soft limit when GOMEMLIMIT is not
// set, and defaultGCPercent the collector's GOGC when that is not set.
// Together: collect when the heap has grown to five times the live data
// (GOGC 400), but never let it pass 128 MB (the limit) while less would
// do. The live heap under load is small (6-10 MB while 5,000 e-mails are
// sent, 10-45 MB at 1,000,000 invoices, from heap profiles and gctrace),
// so at the old GOGC 50 the collector ran 80 times a second for garbage
// that is nearly all short-lived (messages, PDFs): 293 collections for
// 5,000 e-mails and ~700 for 30,000 invoices of the mixed CSV, 10-15% of
// the daemon's CPU. With these: 31 and 74, 14-15% less CPU per invoice.
// The limit, not GOGC, keeps the peak RSS (300 MB goal, with up to
// ~100 MB of the store's mapped pages on top) where it was: a burst of
// garbage (a status request decoding 100,000 documents) makes the
// collector work harder near 128 MB instead of letting the heap grow.
const (
	defaultMemoryLimit = 128 << 20
	defaultGCPercent   = 400
)

func runServe(args []string, stdout, stderr io.Writer) int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML); without it the embedded default runs")
	dataDir := fs.String("data", "", "data directory for the embedded default (default ./var)")
	httpAddr := fs.String("http", "", "override http.listen (host:port; port 0 picks a free one)")
	sftpAddr := fs.String("sftp", "", "override sftp.listen (host:port; port 0 picks a free one)")
	publicAddr := fs.String("public", "", "override public.listen (host:port; port 0 picks a free one)")
	pprofOn := fs.Bool("pprof", false, "serve Go profiles under /debug/pprof/ on the HTTP listener (for profiling)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, err := loadConfig(*cfgPath, *dataDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitProblems
	}
	if *httpAddr != "" {
		cfg.HTTP.Listen = *httpAddr
	}
	if *sftpAddr != "" {
		cfg.SFTP.Listen = *sftpAddr
	}
	if *publicAddr != "" {
		cfg.Public.Listen = *publicAddr
	}
	// A flag must not put a listener on the network that check would refuse.
	if err := cfg.CheckListeners(); err != nil {
		fmt.Fprintln(stderr, err)
		return exitProblems
	}
	log := newLogger(stderr, cfg.LogLevel)
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if os.Getenv("GOMAXPROCS") == "" {
		go governCores(ctx, log)
	}
	sftpLn, err := activatedListener("sftp")
	if err != nil {
		fmt.Fprintln(stderr, "multikanal: socket activation:", err)
		return exitProblems
	}
	d, err := gateway.New(gateway.Options{
		Pprof:        *pprofOn,
		SFTPListener: sftpLn,
		Config:       cfg,
		Logger:       log,
		Version:      version,
		Notify:       func(state string) { sddaemon.SdNotify(false, state) },
		Started:      func(info api.Info) { printStarted(stdout, cfg, info) },
	})
	if err != nil {
		fmt.Fprintln(stderr, "multikanal:", err)
		return exitProblems
	}
	go watchdog(ctx)
	go reloadOnHUP(ctx, d, *cfgPath, log)
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "multikanal:", err)
		return exitProblems
	}
	return exitOK
}

// loadConfig reads the file, or the embedded default when there is none.
func loadConfig(path, dataDir string) (*config.Config, error) {
	if path == "" {
		return config.Default(dataDir, channels.All()), nil
	}
	if dataDir != "" {
		return nil, errors.New("--data is for the embedded default; set data_dir in the configuration file")
	}
	return config.Load(path, channels.All())
}

func printStarted(w io.Writer, cfg *config.Config, info api.Info) {
	fmt.Fprintf(w, "multikanal %s is running (%s)\n", version, cfg.Source)
	for tenant, dir := range info.Inboxes {
		fmt.Fprintf(w, "  drop invoice files for tenant %s into: %s\n", tenant, dir)
	}
	if info.SFTP != "" {
		fmt.Fprintf(w, "  sftp on %s (host key %s)\n", info.SFTP, info.SFTPHostKey)
		for tenant, cmd := range info.SFTPCommands {
			fmt.Fprintf(w, "  upload as %s with:\n    %s\n    sftp> put invoices.xml /inbox/\n", tenant, cmd)
		}
	}
	if info.HTTP != "" {
		fmt.Fprintf(w, "  status page on %s: run 'multikanal login' for a link that logs you in\n", info.HTTP)
	}
	if info.Public != "" {
		fmt.Fprintf(w, "  public listener (receivers' callbacks) on %s\n", info.Public)
	}
	fmt.Fprintf(w, "  receipts appear in %s/tenants/<tenant>/receipts/, output in %s/outbox/<channel>/\n", info.DataDir, info.DataDir)
	fmt.Fprintln(w, "  stop with Ctrl-C")
}

// newLogger logs text on a terminal and JSON otherwise (journald, files).
func newLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts))
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// watchdog pings systemd at half the WatchdogSec interval while ctx lives.
func watchdog(ctx context.Context) {
	interval, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sddaemon.SdNotify(false, sddaemon.SdNotifyWatchdog)
		}
	}
}

// reloadOnHUP re-reads the configuration on SIGHUP and applies it; a bad
// one is refused and the running one stays. systemd is told RELOADING=1
// (with the monotonic time it asks for) and READY=1 when done.
func reloadOnHUP(ctx context.Context, d *gateway.Daemon, path string, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if path == "" {
				log.Info("SIGHUP: running on the embedded default, nothing to reload")
				continue
			}
			var ts unix.Timespec
			unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
			sddaemon.SdNotify(false, fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/1000))
			if err := d.Reload(config.Load(path, channels.All())); err != nil {
				log.Error("SIGHUP: the new configuration is refused; the running one stays", "err", err)
			}
			sddaemon.SdNotify(false, sddaemon.SdNotifyReady)
		}
	}
}

// activatedListener returns the socket systemd passed under name (a .socket
// unit with FileDescriptorName=name), or nil when the daemon was not socket
// activated.
func activatedListener(name string) (net.Listener, error) {
	byName, err := activation.ListenersWithNames()
	if err != nil {
		return nil, err
	}
	for _, ln := range byName[name] {
		if ln != nil {
			return ln, nil
		}
	}
	return nil, nil
}
