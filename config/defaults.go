package config

import (
	"os"
	"path/filepath"
	"time"
)

// Defaults for zero values. A zero in the file means "not set": every
// setting below has no useful zero, and a negative value is refused by
// validation instead.
const (
	defaultSFTPListen = "127.0.0.1:2222"
	defaultHTTPListen = "127.0.0.1:8080"
)

// applyDefaults fills every field left zero. idx tells "absent" from
// "written as empty or false" where the difference matters: listen = ""
// disables a server and defender.enabled = false turns the defender off.
func (c *Config) applyDefaults(idx docIndex) {
	setString(&c.LogLevel, "info")
	if _, ok := idx["sftp.listen"]; !ok {
		c.SFTP.Listen = defaultSFTPListen
	}
	if _, ok := idx["http.listen"]; !ok {
		c.HTTP.Listen = defaultHTTPListen
	}

	s := &c.SFTP
	setSize(&s.MaxFileSize, 1<<30)
	setSize(&s.MinFreeDisk, 256<<20)
	setDuration(&s.IdleTimeout, 10*time.Minute)
	setDuration(&s.LoginGrace, 30*time.Second)
	setInt(&s.MaxAuthTries, 6)
	setInt(&s.MaxConnsPerIP, 20)
	setInt(&s.MaxConnsPerTenant, 20)
	setString(&s.MaxStartups, "10:30:100")
	setInt(&s.MaxOpenFilesPerSession, 64)
	setInt(&s.MaxOpenFilesPerTenant, 256)
	setInt(&s.MaxOpenFiles, 4096)

	d := &s.Defender
	if _, ok := idx["sftp.defender.enabled"]; !ok {
		d.Enabled = true
	}
	setInt(&d.Threshold, 15)
	setInt(&d.LoginFailed, 1)
	setInt(&d.NoSuchUser, 2)
	setDuration(&d.Window, 30*time.Minute)
	setDuration(&d.BanTime, 30*time.Minute)

	setDuration(&c.Inbox.SettleTime, 2*time.Second)
	setDuration(&c.Inbox.ScanInterval, time.Minute)

	dl := &c.Delivery
	setInt(&dl.Workers, 4)
	setInt(&dl.MaxAttempts, 10)
	setDuration(&dl.MaxAge, 72*time.Hour)
	setDuration(&dl.BackoffMin, 5*time.Second)
	setDuration(&dl.BackoffMax, 30*time.Minute)
	setDuration(&dl.StopTimeout, 20*time.Second)
	c.applyRetentionDefaults(idx)

	for i := range c.Tenants {
		t := &c.Tenants[i]
		setString(&t.Duplicates, DuplicatesRefuse)
	}

	c.applyChannelDefaults()
}

func (k Cutoff) set() bool { return k.EndOfFile || len(k.Times) > 0 || k.MaxCount != 0 }

func setString(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setDuration(p *Duration, v time.Duration) {
	if *p == 0 {
		*p = Duration(v)
	}
}

func setSize(p *ByteSize, v int64) {
	if *p == 0 {
		*p = ByteSize(v)
	}
}

// resolvePaths makes every relative path absolute against base (the config
// file's directory; for the embedded default, the data directory), so the
// daemon's working directory never matters. A relative secret file that
// systemd handed over with LoadCredential= is taken from
// $CREDENTIALS_DIRECTORY instead, so `password_file = "smtp"` names the
// credential "smtp".
func (c *Config) resolvePaths(base string) {
	dir := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	file := func(p *string) {
		if *p == "" || filepath.IsAbs(*p) {
			return
		}
		if cred, ok := credentialPath(*p); ok {
			*p = cred
			return
		}
		dir(p)
	}
	dir(&c.DataDir)
	for i := range c.Tenants {
		t := &c.Tenants[i]
		file(&t.SFTPAuthorizedKeys)
		file(&t.SFTPPasswordFile)
		if t.Design != nil {
			file(&t.Design.LogoPNGFile)
			file(&t.Design.LogoSVGFile)
			file(&t.Design.Templates)
		}
		if t.Webhook != nil {
			file(&t.Webhook.SecretFile)
		}
		if t.API != nil {
			file(&t.API.TokenFile)
		}
	}
	c.prepareAgreements(file)
	c.resolveChannelPaths(file, dir)
	for _, p := range []*string{&c.Store.DSNFile, &c.HTTP.TokenFile, &c.HTTP.TLSCertFile, &c.HTTP.TLSKeyFile,
		&c.Public.SigningKeyFile, &c.Public.TLSCertFile, &c.Public.TLSKeyFile} {
		file(p)
	}
}

// credentialPath returns where systemd put the credential rel, if
// $CREDENTIALS_DIRECTORY is set and holds a file of that name.
func credentialPath(rel string) (string, bool) {
	cd := os.Getenv("CREDENTIALS_DIRECTORY")
	if cd == "" || filepath.IsAbs(rel) {
		return "", false
	}
	p := filepath.Join(cd, rel)
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return "", false
	}
	return p, true
}
