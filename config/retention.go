package config

import (
	"fmt"
	"time"
)

// Retention is the [retention] table and a tenant's [tenant.retention]: how
// long the gateway keeps what it holds about a document once the document's
// input file is final. docs/retention.md gives the reasons for each default.
//
// In a tenant's table every key is optional: a key left out (zero) takes
// the [retention] value; Config.RetentionFor merges the two.
type Retention struct {
	// Archive says what the gateway keeps as the biller's archive copy
	// (räkenskapsinformation, Bokföringslagen 7 kap. 2 §): "input" (the
	// default) keeps each input file and the summary of every document in
	// it for archive_years; "summary" keeps only the summaries (the ERP
	// keeps the invoices); "none" keeps neither past the payload time (the
	// ERP keeps the invoices and the proof of sending).
	Archive string `toml:"archive"`
	// ArchiveYears is counted from the end of the calendar year in which
	// the fiscal year that the file arrived in ends: 7, as the law says.
	ArchiveYears int `toml:"archive_years"`
	// FiscalYearEnd is the last day of the biller's fiscal year, "MM-DD";
	// default "12-31" (calendar year).
	FiscalYearEnd string `toml:"fiscal_year_end"`
	// Payloads is how long a final file's documents keep their bodies,
	// histories, delivery records and spool-transport outputs; default 90d.
	Payloads Duration `toml:"payloads"`
	// RejectedFiles is how long a rejected or duplicate input file is kept
	// in spool/ once its receipt is final; default 14d.
	RejectedFiles Duration `toml:"rejected_files"`
	// Receipts is how long a final receipt the tenant has not deleted stays
	// in its receipts folder; default 90d.
	Receipts Duration `toml:"receipts"`
}

// Archive modes.
const (
	ArchiveInput   = "input"
	ArchiveSummary = "summary"
	ArchiveNone    = "none"
)

// Store is the [store] table: which store the gateway keeps its state in
// (driver.go) and its quota and upkeep.
type Store struct {
	// Driver is "bolt" (default) or "postgres"; the keys that go with
	// PostgreSQL are described in driver.go.
	Driver  string   `toml:"driver"`
	DSNFile string   `toml:"dsn_file"`
	Node    string   `toml:"node"`
	Lease   Duration `toml:"lease"`
	Migrate bool     `toml:"migrate"`

	// MaxSize is the quota on state.db: above it new input files are
	// refused (rejected with a receipt that says why). Default 10GiB; 0
	// written explicitly turns the quota off.
	MaxSize ByteSize `toml:"max_size"`
	// SweepInterval is how often retention runs (and once at start);
	// default 1h.
	SweepInterval Duration `toml:"sweep_interval"`
	// AutoCompact compacts the store after a sweep when at least half of
	// state.db, and 64 MiB, is free space; default true.
	AutoCompact bool `toml:"auto_compact"`
}

// RetentionFor is the retention of a tenant: its own keys over the
// [retention] table's.
func (c *Config) RetentionFor(tenant string) Retention {
	r := c.Retention
	t := c.Tenant(tenant)
	if t == nil {
		return r
	}
	o := t.Retention
	if o.Archive != "" {
		r.Archive = o.Archive
	}
	if o.ArchiveYears != 0 {
		r.ArchiveYears = o.ArchiveYears
	}
	if o.FiscalYearEnd != "" {
		r.FiscalYearEnd = o.FiscalYearEnd
	}
	for _, p := range []struct{ dst, src *Duration }{{&r.Payloads, &o.Payloads}, {&r.RejectedFiles, &o.RejectedFiles}, {&r.Receipts, &o.Receipts}} {
		if *p.src != 0 {
			*p.dst = *p.src
		}
	}
	return r
}

// FiscalYearEndDate is the last day of the fiscal year that t falls in, at
// the end of that day (UTC). A fiscal_year_end that cannot be read (check
// refuses it) counts as the calendar year.
func (r Retention) FiscalYearEndDate(t time.Time) time.Time {
	month, day := time.December, 31
	if m, d, ok := parseMonthDay(r.FiscalYearEnd); ok {
		month, day = m, d
	}
	t = t.UTC()
	end := monthDay(t.Year(), month, day)
	if t.After(end) {
		end = monthDay(t.Year()+1, month, day)
	}
	return end
}

// ArchiveUntil is when the archive period of a file received at t is over:
// the law keeps räkenskapsinformation "till och med det sjunde året efter
// utgången av det kalenderår då räkenskapsåret avslutades", so to the end
// of the calendar year ArchiveYears after the one the fiscal year ends in.
// A day is added so that no time zone can make it early.
func (r Retention) ArchiveUntil(t time.Time) time.Time {
	end := r.FiscalYearEndDate(t)
	return time.Date(end.Year()+r.ArchiveYears+1, time.January, 2, 0, 0, 0, 0, time.UTC)
}

// monthDay is the end of day MM-DD in year (Feb 29 becomes Feb 28 in a
// common year).
func monthDay(year int, month time.Month, day int) time.Time {
	if last := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day(); day > last {
		day = last
	}
	return time.Date(year, month, day, 23, 59, 59, 0, time.UTC)
}

func parseMonthDay(s string) (time.Month, int, bool) {
	var m, d int
	if n, err := fmt.Sscanf(s, "%2d-%2d", &m, &d); err != nil || n != 2 || len(s) != 5 {
		return 0, 0, false
	}
	if m < 1 || m > 12 || d < 1 || d > time.Date(2024, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return 0, 0, false
	}
	return time.Month(m), d, true
}

// Retention defaults; docs/retention.md says why.
const (
	defaultArchiveYears  = 7
	defaultPayloads      = 90 * 24 * time.Hour
	defaultRejectedFiles = 14 * 24 * time.Hour
	defaultReceipts      = 90 * 24 * time.Hour
	defaultMaxStoreSize  = 10 << 30
	defaultSweepInterval = time.Hour
)

func (c *Config) applyRetentionDefaults(idx docIndex) {
	r := &c.Retention
	setString(&r.Archive, ArchiveInput)
	setInt(&r.ArchiveYears, defaultArchiveYears)
	setString(&r.FiscalYearEnd, "12-31")
	setDuration(&r.Payloads, defaultPayloads)
	setDuration(&r.RejectedFiles, defaultRejectedFiles)
	setDuration(&r.Receipts, defaultReceipts)
	if _, ok := idx["store.max_size"]; !ok {
		c.Store.MaxSize = defaultMaxStoreSize
	}
	setDuration(&c.Store.SweepInterval, defaultSweepInterval)
	if _, ok := idx["store.auto_compact"]; !ok {
		c.Store.AutoCompact = true
	}
	c.applyDriverDefaults()
}

// validateRetention checks a retention table. In a tenant's table (tenant
// true) a key left out is fine: it takes the [retention] value.
func validateRetention(ps *problems, key string, r Retention, tenant bool) {
	switch r.Archive {
	case ArchiveInput, ArchiveSummary, ArchiveNone:
	case "":
		if !tenant {
			ps.add(key+".archive", `required: "input", "summary" or "none"`)
		}
	default:
		ps.add(key+".archive", `%q: use "input" (keep input files and summaries as the biller's archive), "summary" (keep only the summaries) or "none" (the ERP is the archive)`, r.Archive)
	}
	if r.ArchiveYears < 0 || !tenant && r.ArchiveYears == 0 {
		ps.add(key+".archive_years", "%d: use a number of years, 7 as Bokföringslagen 7 kap. 2 § asks; to keep no archive set archive = \"none\"", r.ArchiveYears)
	}
	if r.FiscalYearEnd != "" || !tenant {
		if _, _, ok := parseMonthDay(r.FiscalYearEnd); !ok {
			ps.add(key+".fiscal_year_end", `%q: write the last day of the fiscal year as MM-DD, like "12-31" or "06-30"`, r.FiscalYearEnd)
		}
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"payloads", r.Payloads}, {"rejected_files", r.RejectedFiles}, {"receipts", r.Receipts}} {
		if d.v != 0 || !tenant {
			checkDuration(ps, key+"."+d.name, d.v)
		}
	}
}

func (c *Config) validateStore(ps *problems) {
	checkSize(ps, "store.max_size", c.Store.MaxSize)
	checkDuration(ps, "store.sweep_interval", c.Store.SweepInterval)
	c.validateDriver(ps)
	validateRetention(ps, "retention", c.Retention, false)
}

// String describes the retention in one line for `multikanal check`.
func (r Retention) String() string {
	archive := "no archive"
	switch r.Archive {
	case ArchiveInput:
		archive = fmt.Sprintf("archive input+summary %dy (fiscal year ends %s)", r.ArchiveYears, r.FiscalYearEnd)
	case ArchiveSummary:
		archive = fmt.Sprintf("archive summary %dy (fiscal year ends %s)", r.ArchiveYears, r.FiscalYearEnd)
	}
	return fmt.Sprintf("%s, payloads %s, rejected files %s, receipts %s", archive, Days(r.Payloads), Days(r.RejectedFiles), Days(r.Receipts))
}

// Days writes a duration of whole days as "90d", any other as time.Duration does.
func Days(d Duration) string {
	if day := Duration(24 * time.Hour); d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
