package sftpd

import (
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Tenant is one SFTP account: a user name and the two directories it sees.
type Tenant struct {
	// ID is the SFTP user name and the tenant's name in the audit log.
	ID string
	// InboxDir is the absolute directory that /inbox shows. Uploads land
	// here by rename when they are complete.
	InboxDir string
	// ReceiptsDir is the absolute directory that /receipts shows: its
	// receipts can be read and deleted, nothing else.
	ReceiptsDir string
	// AuthorizedKeysFile is an OpenSSH authorized_keys file. It is read
	// again when it changes, so edits take effect at the next login. Empty
	// means no public key login.
	AuthorizedKeysFile string
	// PasswordHash is an argon2id ($argon2id$...) or bcrypt ($2a$, $2b$,
	// $2y$) hash, as made by HashPassword. Empty means no password login.
	PasswordHash string
}

// DefenderOptions configure the ban of addresses that fail to log in.
//
// Every failed login adds a score to the client's address; when the sum of
// the scores within Window reaches Threshold, the address is banned for
// BanTime and its connections are closed as soon as they are accepted.
type DefenderOptions struct {
	// Enabled turns the defender on.
	Enabled bool
	// Threshold is the score at which an address is banned (default 15).
	Threshold int
	// ScoreLoginFailed is added for a failed login as an existing tenant
	// (default 1).
	ScoreLoginFailed int
	// ScoreNoSuchUser is added for a login as a user that does not exist
	// (default 2): guessing names is a stronger sign of an attack.
	ScoreNoSuchUser int
	// Window is how long a score counts (default 30 minutes).
	Window time.Duration
	// BanTime is how long a ban lasts (default 30 minutes).
	BanTime time.Duration
}

// Options configure a Server. The zero value of every field means its
// default.
type Options struct {
	// Listen is the address ListenAndServe listens on (default
	// 127.0.0.1:2222).
	Listen string
	// HostKeyDir holds ssh_host_ed25519_key. The key is created on first
	// start (file 0600, directory 0700) and reused after. Required.
	HostKeyDir string
	// MaxFileSize is the largest upload in bytes, enforced while writing
	// (default 1 GiB; negative: no limit).
	MaxFileSize int64
	// MinFreeDisk refuses uploads while the free space on the inbox file
	// system is below it, in bytes (default 256 MiB; negative: no check).
	MinFreeDisk int64
	// SyncOnClose makes every upload durable before the client's OK for
	// its close: the file is synced to disk, renamed into the inbox and the
	// inbox folder is synced. Off by default, as with OpenSSH's
	// sftp-server: the OK then means the file is in the inbox, and a crash
	// of the machine within the next seconds may lose it. A client that
	// wants durability for one upload asks for it with fsync@openssh.com
	// (OpenSSH's "put -f"), which is honoured either way.
	SyncOnClose bool
	// IdleTimeout closes a connection that sent nothing for this long
	// (default 15 minutes).
	IdleTimeout time.Duration
	// LoginGrace closes a connection that has not logged in after this
	// long (default 30 seconds).
	LoginGrace time.Duration
	// MaxAuthTries is the number of failed authentication attempts allowed
	// on one connection (default 6, as in OpenSSH).
	MaxAuthTries int
	// MaxConnsPerIP limits simultaneous connections from one address
	// (default 20).
	MaxConnsPerIP int
	// MaxConnsPerTenant limits simultaneous logged-in connections of one
	// tenant (default 20).
	MaxConnsPerTenant int
	// MaxStartups limits connections that have not logged in yet, from
	// all addresses together, as OpenSSH's MaxStartups does (default
	// 10:30:100).
	MaxStartups Startups
	// MaxOpenFilesPerSession limits the files (uploads and downloads) one
	// SFTP session holds open at once (default 64).
	MaxOpenFilesPerSession int
	// MaxOpenFilesPerTenant limits the file descriptors the server holds
	// for one tenant: one per connection, three per SFTP session (its
	// folders) and one per open file (default 256).
	MaxOpenFilesPerTenant int
	// MaxOpenFiles limits the same descriptors for all tenants together
	// (default 4096), so that the server's share of the process's
	// descriptors (LimitNOFILE) does not grow with the number of tenants.
	MaxOpenFiles int
	// Defender bans addresses after repeated failed logins.
	Defender DefenderOptions
	// Logger receives the audit log (default slog.Default()).
	Logger *slog.Logger
	// Observer, when set, is told of sessions, failed logins and bans as
	// they happen, for metrics. Its methods must not block.
	Observer Observer
	// Uploaded, when set, is told of every upload that lands in an inbox,
	// with the SHA-256 the server computed while receiving it, so whoever
	// takes the file need not read it again to hash it. It is told just
	// before the rename that makes the file visible, so it knows of the
	// file when the inbox watcher sees it; in the rare case that the
	// rename then fails, it was told of a file that never lands (Upload.File
	// matches no file in the inbox). It must not block.
	Uploaded func(Upload)

	// freeSpace returns the bytes free for unprivileged users on the file
	// system of dir (default: statfs). Tests replace it to play a small
	// disk without filling the real one.
	freeSpace func(dir string) (int64, error)
}

// Startups is OpenSSH's MaxStartups "start:rate:full": with Start or more
// connections not yet logged in, a new connection is dropped with a
// probability of Rate percent, rising linearly to 100% at Full.
type Startups struct {
	Start, Rate, Full int
}

// String formats s as in sshd_config.
func (s Startups) String() string { return fmt.Sprintf("%d:%d:%d", s.Start, s.Rate, s.Full) }

// Upload is a file that landed in a tenant's inbox.
type Upload struct {
	Tenant string
	Path   string      // in the tenant's InboxDir
	SHA256 string      // hex, of the bytes written
	File   os.FileInfo // of the file as it landed: check it is unchanged before trusting SHA256
	// Session numbers the SFTP session that uploaded the file, unique
	// while the server runs: uploads with the same number came one after
	// another from one client.
	Session uint64
}

// Defaults of Options; documented in docs/sftp.md.
const (
	DefaultListen            = "127.0.0.1:2222"
	DefaultMaxFileSize       = 1 << 30
	DefaultMinFreeDisk       = 256 << 20
	DefaultIdleTimeout       = 15 * time.Minute
	DefaultLoginGrace        = 30 * time.Second
	DefaultMaxAuthTries      = 6
	DefaultMaxConnsPerIP     = 20
	DefaultMaxConnsPerTenant = 20
	// DefaultMaxOpenFilesPerSession allows an ERP far more parallel
	// transfers than any client makes (OpenSSH's sftp opens one file at a
	// time; WinSCP and lftp a few).
	DefaultMaxOpenFilesPerSession = 64
	// DefaultMaxOpenFilesPerTenant covers a tenant at its connection limit
	// with one session each (20 × (1 + 3)) and 176 open files.
	DefaultMaxOpenFilesPerTenant = 256
	DefaultMaxOpenFiles          = 4096
)

// DefaultMaxStartups is OpenSSH's default.
var DefaultMaxStartups = Startups{Start: 10, Rate: 30, Full: 100}

// withDefaults fills zero fields and rejects impossible values.
func (o Options) withDefaults() (Options, error) {
	if o.HostKeyDir == "" {
		return o, fmt.Errorf("sftpd: HostKeyDir is empty: set the directory for the host key (e.g. /var/lib/multikanal/hostkeys)")
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MinFreeDisk == 0 {
		o.MinFreeDisk = DefaultMinFreeDisk
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.LoginGrace <= 0 {
		o.LoginGrace = DefaultLoginGrace
	}
	if o.MaxAuthTries <= 0 {
		o.MaxAuthTries = DefaultMaxAuthTries
	}
	if o.MaxConnsPerIP <= 0 {
		o.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if o.MaxConnsPerTenant <= 0 {
		o.MaxConnsPerTenant = DefaultMaxConnsPerTenant
	}
	if o.MaxStartups == (Startups{}) {
		o.MaxStartups = DefaultMaxStartups
	}
	if st := o.MaxStartups; st.Start < 1 || st.Rate < 0 || st.Rate > 100 || st.Full < st.Start {
		return o, fmt.Errorf("sftpd: MaxStartups %s: want start:rate:full with 1 <= start <= full and rate 0..100", st)
	}
	if o.MaxOpenFilesPerSession <= 0 {
		o.MaxOpenFilesPerSession = DefaultMaxOpenFilesPerSession
	}
	if o.MaxOpenFilesPerTenant <= 0 {
		o.MaxOpenFilesPerTenant = DefaultMaxOpenFilesPerTenant
	}
	if o.MaxOpenFiles <= 0 {
		o.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if o.freeSpace == nil {
		o.freeSpace = statfsFree
	}
	d := &o.Defender
	if d.Threshold <= 0 {
		d.Threshold = 15
	}
	if d.ScoreLoginFailed <= 0 {
		d.ScoreLoginFailed = 1
	}
	if d.ScoreNoSuchUser <= 0 {
		d.ScoreNoSuchUser = 2
	}
	if d.Window <= 0 {
		d.Window = 30 * time.Minute
	}
	if d.BanTime <= 0 {
		d.BanTime = 30 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Observer hears what the server does, for metrics.
type Observer interface {
	Session(delta int) // +1 at login, -1 at logout
	AuthFailure()
	Ban()
}
