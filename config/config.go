// Package config reads the gateway's TOML configuration into plain,
// validated structs. It is the only code that reads configuration files; it
// knows the embedded default that runs with no file at all. Secrets are never
// inline: a *_file key names a file (or a systemd credential) to read.
package config

import (
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Config is the whole validated configuration.
type Config struct {
	// Source says where the configuration came from: a file path or
	// "embedded default".
	Source string `toml:"-"`

	// Embedded is set on the embedded default (see Default). Its tenant's
	// key files do not exist before the daemon's first start, so they are
	// not checked; the daemon creates the files it names.
	Embedded bool `toml:"-"`

	DataDir  string   `toml:"data_dir"`  // absolute after Load
	LogLevel string   `toml:"log_level"` // debug, info (default), warn, error
	SFTP     SFTP     `toml:"sftp"`
	HTTP     HTTP     `toml:"http"`
	Public   Public   `toml:"public"`
	Inbox    Inbox    `toml:"inbox"`
	Delivery Delivery `toml:"delivery"`
	Tenants  []Tenant `toml:"tenant"`
	// Channels are the [channel.NAME] tables, one for every registered
	// channel after Load (a channel missing from the file runs on its
	// spool transport).
	Channels map[string]*Channel `toml:"channel"`

	// registered are the channels Load was given, in their order.
	registered []outbound.Descriptor

	// Retention and Store: how long what the gateway holds is kept, and
	// the store's quota and upkeep (retention.go).
	Retention Retention `toml:"retention"`
	Store     Store     `toml:"store"`
}

// SFTP is the [sftp] table: the inbox server for ERPs.
type SFTP struct {
	Listen            string   `toml:"listen"`               // default 127.0.0.1:2222; "" disables the SFTP server
	MaxFileSize       ByteSize `toml:"max_file_size"`        // default 1 GiB
	MinFreeDisk       ByteSize `toml:"min_free_disk"`        // refuse uploads below this; default 256 MiB
	IdleTimeout       Duration `toml:"idle_timeout"`         // default 10m
	LoginGrace        Duration `toml:"login_grace"`          // default 30s
	MaxAuthTries      int      `toml:"max_auth_tries"`       // default 6
	MaxConnsPerIP     int      `toml:"max_conns_per_ip"`     // default 20
	MaxConnsPerTenant int      `toml:"max_conns_per_tenant"` // default 20
	// MaxStartups is OpenSSH's "start:rate:full" for connections not
	// logged in yet, from all addresses together; default "10:30:100".
	MaxStartups string `toml:"max_startups"`
	// Open files per SFTP session; default 64.
	MaxOpenFilesPerSession int `toml:"max_open_files_per_session"`
	// Descriptors per tenant: 1 per connection, 3 per session, 1 per open
	// file; default 256.
	MaxOpenFilesPerTenant int `toml:"max_open_files_per_tenant"`
	// The same for all tenants together; default 4096. LimitNOFILE in
	// systemd/multikanal.service is sized from it.
	MaxOpenFiles int      `toml:"max_open_files"`
	SyncOnClose  bool     `toml:"sync_on_close"` // fsync each upload and the inbox before the client's OK; default false
	Defender     Defender `toml:"defender"`
}

// Startups returns MaxStartups as numbers; MaxStartups is valid after Load.
func (s SFTP) Startups() (start, rate, full int) {
	start, rate, full, _ = parseStartups(s.MaxStartups)
	return start, rate, full
}

// Defender bans an address for a while after repeated failed logins.
type Defender struct {
	Enabled     bool     `toml:"enabled"`            // default true (only an explicit false turns it off)
	Threshold   int      `toml:"threshold"`          // score that bans; default 15
	LoginFailed int      `toml:"score_login_failed"` // default 1
	NoSuchUser  int      `toml:"score_no_such_user"` // default 2
	Window      Duration `toml:"observation_time"`   // default 30m
	BanTime     Duration `toml:"ban_time"`           // default 30m
}

// HTTP is the [http] table: the operators' listener (health, metrics, API
// and status page). Every request but /healthz and /readyz is
// authenticated: through the socket <data_dir>/http.sock (file
// permissions), a bearer token, or a status page session (docs/security.md).
type HTTP struct {
	Listen string `toml:"listen"` // default 127.0.0.1:8080; "" turns TCP off (the socket stays)
	// Hostnames are the names clients reach the listener by, beside the
	// loopback names and the listen address: any other Host header is
	// refused (DNS rebinding).
	Hostnames []string `toml:"hostnames"`
	// BaseURL is the address operators open when it is not
	// http(s)://listen, such as a reverse proxy's https://gw.example.se:
	// login links point there and its origin is accepted.
	BaseURL string `toml:"base_url"`
	// TokenFile holds the bearer token TCP clients send; without it the
	// daemon generates <data_dir>/http.token (0640) on first start.
	TokenFile   string `toml:"token_file"`
	TLSCertFile string `toml:"tls_cert_file"` // PEM certificate chain; with tls_key_file the listener serves HTTPS
	TLSKeyFile  string `toml:"tls_key_file"`
}

// Public is the [public] table: the listener meant to face the internet,
// serving only what outsiders reach: receivers' callbacks (SMS delivery
// reports). Each callback URL carries a key signed for its delivery.
type Public struct {
	Listen string `toml:"listen"` // "" (off) unless set; the embedded default has 127.0.0.1:8081
	// BaseURL is how receivers reach the listener, such as
	// https://hooks.example.se (a reverse proxy in front of it); callback
	// URLs start with it. Default http://listen.
	BaseURL string `toml:"base_url"`
	// SigningKeyFile holds the secret callback keys are signed with;
	// without it the daemon generates <data_dir>/keys/callback.key.
	SigningKeyFile string `toml:"signing_key_file"`
	TLSCertFile    string `toml:"tls_cert_file"`
	TLSKeyFile     string `toml:"tls_key_file"`
}

// Inbox is the [inbox] table: how files are found and taken.
type Inbox struct {
	SettleTime   Duration `toml:"settle_time"`   // default 2s
	ScanInterval Duration `toml:"scan_interval"` // default 1m
}

// Delivery is the [delivery] table: the retry policy of the delivery engine.
type Delivery struct {
	Workers     int      `toml:"workers"`      // per channel; default 4
	MaxAttempts int      `toml:"max_attempts"` // then the delivery fails permanently; default 10
	MaxAge      Duration `toml:"max_age"`      // then the delivery fails permanently; default 72h
	BackoffMin  Duration `toml:"backoff_min"`  // default 5s
	BackoffMax  Duration `toml:"backoff_max"`  // default 30m
	StopTimeout Duration `toml:"stop_timeout"` // SIGTERM grace for in-flight sends; default 20s
}

// Tenant is one [[tenant]]: a biller sending through the gateway.
//
// After Load the numbers are normalised to digits only (Orgnr and
// SellerOrgnr to 10 digits, Bankgiro, Plusgiro and Swish without
// separators, IBAN and VATID upper case without spaces), so callers compare
// them with the numbers of an invoice without parsing again.
//
// A tenant is pinned to its seller and its payment accounts: an invoice
// naming another seller, or payable to an account that is not one of the
// tenant's, is rejected, so one tenant can never send in another's name or
// divert its payments. SellerOrgnr is the biller's own Orgnr unless set.
// Only the embedded default's tenant may be Open (unchecked), because it
// must take the official Peppol examples, whose sellers are foreign.
type Tenant struct {
	ID          string `toml:"id"` // ^[a-z0-9][a-z0-9-]{0,31}$, used in paths and as SFTP user
	Name        string `toml:"name"`
	Orgnr       string `toml:"orgnr"`        // the biller's organisationsnummer
	SellerOrgnr string `toml:"seller_orgnr"` // the seller its invoices name; default Orgnr
	VATID       string `toml:"vat_id"`       // the seller's VAT id, "SE556123456701"; optional
	// The payment accounts the tenant's invoices may be payable to; at
	// least one is required outside the embedded default.
	Bankgiro string   `toml:"bankgiro"`
	Plusgiro string   `toml:"plusgiro"`
	IBAN     string   `toml:"iban"`
	Swish    string   `toml:"swish"`    // Swish number, 123 456 78 90
	Open     bool     `toml:"open"`     // seller and accounts are not checked; embedded default only
	Priority []string `toml:"priority"` // distribution channel names, first eligible wins
	// Duplicates is what happens to an invoice whose seller, kind and
	// number were received before: "refuse" (default) or "warn".
	Duplicates string `toml:"duplicates"`

	SFTPAuthorizedKeys string `toml:"sftp_authorized_keys"`    // OpenSSH authorized_keys file
	SFTPPasswordFile   string `toml:"sftp_password_hash_file"` // a file holding an argon2id or bcrypt hash

	OCRLengthDigit bool     `toml:"ocr_length_digit"` // the biller's OCR numbers carry a length digit
	DoNotSend      []string `toml:"do_not_send"`      // recipient keys whose invoices are held
	// Design is how the tenant's invoices look and speak (design.go).
	Design *Design `toml:"design"`
	// Page is the hosted invoice page and its links (page.go).
	Page *Page `toml:"page"`
	// Reminders is when and how unpaid invoices are reminded and handed
	// to debt collection; Webhook where the tenant's events are posted;
	// Prices what a document costs per channel (dunning.go).
	Reminders *Reminders `toml:"reminders"`
	Webhook   *Webhook   `toml:"webhook"`
	Prices    Prices     `toml:"prices"`
	API       *TenantAPI `toml:"api"`
	// PriceOf is Prices as read, in öre.
	PriceOf map[string]formats.Amount `toml:"-"`
	// Retention overrides [retention] for this tenant; keys left out
	// take the [retention] value (Config.RetentionFor).
	Retention Retention `toml:"retention"`
	// Agreements are the tenant's [tenant.NAME] tables of the registered
	// channels that take one (outbound.Descriptor.Agreement), decoded by
	// the channel's own type, by channel name: a collection channel's
	// agreement (AutoGiro's customer number and seal key, AvtaleGiro's
	// customer unit and account) says the tenant collects by it.
	Agreements map[string]any `toml:"-"`
}

// Channel is one [channel.NAME] table. The keys below apply to every
// channel; the rest of the table is the transport's own keys, which the
// channel's descriptor declares (outbound.TransportSpec): validation names
// the keys a transport needs and refuses the ones it does not use.
type Channel struct {
	// Descriptor is the registered channel the table configures.
	Descriptor outbound.Descriptor `toml:"-"`

	// Transport is "spool" (write into outbox/<channel>/) or one of the
	// channel's real transports.
	Transport string  `toml:"transport"`  // default spool
	Workers   int     `toml:"workers"`    // overrides [delivery] workers; after Load always set
	RateLimit float64 `toml:"rate_limit"` // sends per second, 0 = unlimited
	// ConfirmWithin (a transport whose receiver posts reports, with the
	// public listener on): a delivery no report has confirmed by then
	// counts as failed, and the invoice falls back to its next channel
	// (paper, say). 0 = trust the send.
	ConfirmWithin Duration `toml:"confirm_within"`

	// Batch channels: when a batch file is cut.
	Cutoff Cutoff `toml:"cutoff"`

	// Settings are the channel's own keys and its transport's as written
	// (addr, base_url, password_file, ...), file and folder paths made
	// absolute.
	Settings outbound.Settings `toml:"-"`

	// Off says why the channel is not run, or "" when it is: a key the
	// channel requires is not set, and nothing uses the channel.
	Off string `toml:"-"`
}

// Cutoff says when a batch channel closes a batch file. A batch channel
// with no cutoff at all cuts at the end of each input file, so nothing waits
// for a time that was never configured.
type Cutoff struct {
	EndOfFile bool     `toml:"end_of_file"` // at the end of each input file (embedded default)
	Times     []string `toml:"times"`       // "06:00", "14:00" local time, every day
	MaxCount  int      `toml:"max_count"`   // close early at this many deliveries
}

// Duration is a time.Duration written as "2s", "1m30s". It is a string in
// TOML because a bare number would not say its unit.
type Duration time.Duration

// ByteSize is a size written as a number of bytes or with a unit: "1GiB", "256MiB", "10MB".
type ByteSize int64
