package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

var tenantID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// validate records every problem of a decoded, defaulted and resolved
// configuration in ps. It also normalises tenants' numbers to digits.
func (c *Config) validate(ps *problems) {
	if c.DataDir == "" {
		ps.add("data_dir", `required: the directory for state and spool, like "/var/lib/multikanal"`)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		ps.add("log_level", "%q is not a level: use debug, info, warn or error", c.LogLevel)
	}
	if c.SFTP.Listen != "" {
		checkListen(ps, "sftp.listen", c.SFTP.Listen)
	}
	c.validateListeners(ps)

	s := c.SFTP
	checkSize(ps, "sftp.max_file_size", s.MaxFileSize)
	checkSize(ps, "sftp.min_free_disk", s.MinFreeDisk)
	checkDuration(ps, "sftp.idle_timeout", s.IdleTimeout)
	checkDuration(ps, "sftp.login_grace", s.LoginGrace)
	checkCount(ps, "sftp.max_auth_tries", s.MaxAuthTries)
	checkCount(ps, "sftp.max_conns_per_ip", s.MaxConnsPerIP)
	checkCount(ps, "sftp.max_conns_per_tenant", s.MaxConnsPerTenant)
	if _, _, _, err := parseStartups(s.MaxStartups); err != nil {
		ps.add("sftp.max_startups", "%q: %v", s.MaxStartups, err)
	}
	checkCount(ps, "sftp.max_open_files_per_session", s.MaxOpenFilesPerSession)
	checkCount(ps, "sftp.max_open_files_per_tenant", s.MaxOpenFilesPerTenant)
	checkCount(ps, "sftp.max_open_files", s.MaxOpenFiles)
	// A tenant needs a descriptor for its connection, three for a
	// session's folders and one per file to upload anything.
	if n := s.MaxOpenFilesPerTenant; n > 0 && n < 5 {
		ps.add("sftp.max_open_files_per_tenant", "%d: a tenant needs 1 for its connection, 3 for its session and 1 per open file: use at least 5", n)
	}
	if n := s.MaxOpenFiles; n > 0 && n < 5 {
		ps.add("sftp.max_open_files", "%d: a tenant needs 1 for its connection, 3 for its session and 1 per open file: use at least 5", n)
	}
	d := s.Defender
	checkCount(ps, "sftp.defender.threshold", d.Threshold)
	checkCount(ps, "sftp.defender.score_login_failed", d.LoginFailed)
	checkCount(ps, "sftp.defender.score_no_such_user", d.NoSuchUser)
	checkDuration(ps, "sftp.defender.observation_time", d.Window)
	checkDuration(ps, "sftp.defender.ban_time", d.BanTime)

	checkDuration(ps, "inbox.settle_time", c.Inbox.SettleTime)
	checkDuration(ps, "inbox.scan_interval", c.Inbox.ScanInterval)

	dl := c.Delivery
	checkCount(ps, "delivery.workers", dl.Workers)
	checkCount(ps, "delivery.max_attempts", dl.MaxAttempts)
	checkDuration(ps, "delivery.max_age", dl.MaxAge)
	checkDuration(ps, "delivery.backoff_min", dl.BackoffMin)
	checkDuration(ps, "delivery.backoff_max", dl.BackoffMax)
	checkDuration(ps, "delivery.stop_timeout", dl.StopTimeout)
	if dl.BackoffMin > dl.BackoffMax {
		ps.add("delivery.backoff_min", "%s is longer than backoff_max %s: the first retry waits backoff_min and the wait grows up to backoff_max", dl.BackoffMin, dl.BackoffMax)
	}

	c.validateStore(ps)

	if len(c.Tenants) == 0 {
		ps.add("tenant", "no tenant: add a [[tenant]] table with at least id, name, orgnr and priority")
	}
	seen := map[string]int{}
	for i := range c.Tenants {
		key := fmt.Sprintf("tenant[%d]", i)
		t := &c.Tenants[i]
		if j, dup := seen[t.ID]; dup && t.ID != "" {
			ps.add(key+".id", "%q is already the id of tenant[%d]: tenant ids must be unique", t.ID, j)
		} else {
			seen[t.ID] = i
		}
		c.validateTenant(ps, key, t)
	}
	ps.checkAgreements(c)

	c.validateChannels(ps)
}

// validateChannels checks the [channel.NAME] tables; it runs after the
// tenants, whose priority lists decide which channels are used.
func (c *Config) validateChannels(ps *problems) {
	c.switchOff(ps)
	for _, name := range c.ChannelNames() {
		c.validateChannel(ps, "channel."+name, c.ChannelConfig(name))
	}
}

func (c *Config) validateTenant(ps *problems, key string, t *Tenant) {
	switch {
	case t.ID == "":
		ps.add(key+".id", `required: a short name of lower-case letters, digits and "-", like "acme"; it names the tenant's folders and SFTP user`)
	case !tenantID.MatchString(t.ID):
		ps.add(key+".id", `%q: use 1 to 32 lower-case letters, digits and "-", starting with a letter or digit; it names the tenant's folders and SFTP user`, t.ID)
	}
	if strings.TrimSpace(t.Name) == "" {
		ps.add(key+".name", `required: the biller's name, like "Acme Energi AB"`)
	}
	if t.Orgnr == "" {
		ps.add(key+".orgnr", `required: the biller's organisationsnummer, like "556123-4567"`)
	} else {
		normalise(ps, key+".orgnr", &t.Orgnr, formats.CheckOrgnr)
	}
	c.validateBiller(ps, key, t)
	c.validateDesign(ps, key, t.Design)
	c.validatePage(ps, key, t)
	c.validateReminders(ps, key, t.Reminders)
	c.validateWebhook(ps, key, t.Webhook)
	c.validatePrices(ps, key, t)
	c.validateTenantAPI(ps, key, t.API)

	distribution := c.distribution()
	if len(t.Priority) == 0 {
		ps.add(key+".priority", "required: the channels to try in order, like [%s]", quoteList(distribution))
	}
	used := map[string]bool{}
	for _, name := range t.Priority {
		d, registered := c.descriptor(name)
		switch {
		case registered && d.Role == outbound.Collection:
			ps.add(key+".priority", `%q collects payments, it does not distribute invoices: remove it from priority and give the tenant a %s table instead`, name, name)
		case !slices.Contains(distribution, name):
			ps.add(key+".priority", "unknown channel %q: the channels are %s", name, quoteList(distribution))
		case used[name]:
			ps.add(key+".priority", "%q is listed twice: list each channel once", name)
		}
		used[name] = true
	}

	for i, r := range t.DoNotSend {
		if strings.TrimSpace(r) == "" {
			ps.add(fmt.Sprintf("%s.do_not_send[%d]", key, i), "empty recipient key: remove it")
		}
	}

	validateRetention(ps, key+".retention", t.Retention, true)

	c.checkFile(ps, key+".sftp_authorized_keys", t.SFTPAuthorizedKeys)
	c.checkFile(ps, key+".sftp_password_hash_file", t.SFTPPasswordFile)
}

// checkFile requires a named file to be a readable regular file, so that a
// wrong path fails `multikanal check` instead of the first delivery. The
// embedded default's files are created by the daemon and are not checked.
func (c *Config) checkFile(ps *problems, key, path string) {
	if path == "" || c.Embedded {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		ps.add(key, "%v: create the file or correct the path", unwrapPath(err))
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		ps.add(key, "%s is not a regular file: name the file itself", path)
	}
}

// unwrapPath turns *fs.PathError's "open X: reason" into "X: reason".
func unwrapPath(err error) string {
	return strings.TrimPrefix(err.Error(), "open ")
}

func normalise(ps *problems, key string, p *string, check func(string) (string, error)) {
	d, err := check(*p)
	if err != nil {
		ps.add(key, "%v", err)
		return
	}
	*p = d
}

func checkListen(ps *problems, key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && host != "" && net.ParseIP(host) == nil && host != "localhost" {
		err = fmt.Errorf("listen on an IP address")
	}
	// Port 0 asks the system for a free port (the daemon prints the one it
	// got and writes it to daemon.json): handy for tests and side-by-side runs.
	if err != nil || !(validPort(port) || port == "0") {
		ps.add(key, `%q: write an IP address and port, like "127.0.0.1:8080" or "0.0.0.0:2222" (port 0: any free port), or "" to turn the server off`, addr)
	}
}

func checkAddr(ps *problems, key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || !validPort(port) {
		ps.add(key, `%q: write host:port, like "server.example.se:22"`, addr)
	}
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 65536
}

// checkURL requires https; plain http only to loopback, where test and
// sidecar services run, since the URLs carry credentials.
func checkURL(ps *problems, key, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		ps.add(key, `%q: write the service's URL, like "https://api.example.se"`, raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		ps.add(key, `%q: use https; plain http is allowed only to loopback`, raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkDuration(ps *problems, key string, d Duration) {
	switch {
	case d <= 0:
		ps.add(key, "%s: use a positive duration, like \"30s\", or leave it out for the default", d)
	case d < Duration(time.Millisecond):
		// A bare TOML integer decodes as nanoseconds.
		ps.add(key, "%s is shorter than a millisecond: write the duration as a string with a unit, like \"30s\"", d)
	}
}

func checkSize(ps *problems, key string, s ByteSize) {
	if s < 0 {
		ps.add(key, "%d: use a positive size, like \"256MiB\", or leave it out for the default", int64(s))
	}
}

// parseStartups reads OpenSSH's MaxStartups: "start:rate:full", or
// "start" alone for start:100:start.
func parseStartups(v string) (start, rate, full int, err error) {
	parts := strings.Split(v, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		if nums[i], err = strconv.Atoi(strings.TrimSpace(p)); err != nil {
			break
		}
	}
	switch {
	case err != nil || len(parts) != 1 && len(parts) != 3:
		return 0, 0, 0, fmt.Errorf(`write "start:rate:full" as in OpenSSH, like "10:30:100"`)
	case len(parts) == 1:
		start, rate, full = nums[0], 100, nums[0]
	default:
		start, rate, full = nums[0], nums[1], nums[2]
	}
	if start < 1 || rate < 0 || rate > 100 || full < start {
		return 0, 0, 0, fmt.Errorf("want 1 <= start <= full and a rate of 0 to 100 (percent), like \"10:30:100\": from start connections not logged in yet, new ones are dropped with rate%% chance, rising to all at full")
	}
	return start, rate, full, nil
}

func checkCount(ps *problems, key string, n int) {
	if n < 0 {
		ps.add(key, "%d: use a positive number, or leave it out for the default", n)
	}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
