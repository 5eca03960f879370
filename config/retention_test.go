package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRetentionDefaultsAndTenantOverride(t *testing.T) {
	doc := validDoc + "[tenant.retention]\narchive = \"summary\"\npayloads = \"30d\"\n"
	c, err := Parse([]byte(doc), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	want := Retention{Archive: "input", ArchiveYears: 7, FiscalYearEnd: "12-31", Payloads: Duration(90 * 24 * time.Hour),
		RejectedFiles: Duration(14 * 24 * time.Hour), Receipts: Duration(90 * 24 * time.Hour)}
	if c.Retention != want {
		t.Errorf("[retention] %+v, want %+v", c.Retention, want)
	}
	acme := want
	acme.Archive, acme.Payloads = "summary", Duration(30*24*time.Hour)
	if got := c.RetentionFor("acme"); got != acme {
		t.Errorf("acme %+v, want %+v", got, acme)
	}
	if got := c.RetentionFor("nobody"); got != want {
		t.Errorf("unknown tenant %+v, want the [retention] table", got)
	}
	if c.Store.MaxSize != 10<<30 || c.Store.SweepInterval != Duration(time.Hour) || !c.Store.AutoCompact {
		t.Errorf("[store] %+v", c.Store)
	}
	off, err := Parse([]byte(validDoc+"[store]\nmax_size = 0\nauto_compact = false\n"), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	if off.Store.MaxSize != 0 || off.Store.AutoCompact {
		t.Errorf("max_size = 0 and auto_compact = false must turn them off: %+v", off.Store)
	}
	if d := Default(t.TempDir(), registered); d.Retention != want || d.Store.MaxSize != 10<<30 {
		t.Errorf("embedded default: %+v %+v", d.Retention, d.Store)
	}
}

func TestRetentionProblems(t *testing.T) {
	tests := []struct {
		doc  string
		want []string
	}{
		{validDoc + "[tenant.retention]\narchive = \"forever\"\n",
			[]string{`m.toml:9: tenant[0].retention.archive: "forever": use "input"`}},
		{validDoc + "[tenant.retention]\nfiscal_year_end = \"31-12\"\narchive_years = -1\n",
			[]string{`tenant[0].retention.fiscal_year_end: "31-12": write the last day`, "tenant[0].retention.archive_years: -1"}},
		{"[retention]\npayloads = \"-3d\"\nreceipts = \"soon\"\narchive_years = 0\n" + validDoc,
			[]string{`m.toml:2: retention.payloads: duration "-3d"`, `m.toml:3: retention.receipts: duration "soon"`}},
		{"[store]\nmax_size = \"lots\"\n" + validDoc, []string{`m.toml:2: store.max_size: size "lots"`}},
		{"[store]\nsweep_interval = \"-1h\"\n" + validDoc, []string{"m.toml:2: store.sweep_interval: -1h0m0s: use a positive duration"}},
		{validDoc + "[tenant.retention]\nsweep_interval = \"1h\"\n",
			[]string{`unknown key "tenant[0].retention.sweep_interval"`}},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc), "m.toml", t.TempDir(), registered)
		var cerr *Error
		if !errors.As(err, &cerr) {
			t.Errorf("%q: error %v, want *config.Error", tt.doc, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error does not contain %q:\n%v", w, err)
			}
		}
	}
}

func TestDurationDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "1d12h": 36 * time.Hour, "0d": 0, "2h": 2 * time.Hour} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || d.D() != want {
			t.Errorf("%q: %v, %v; want %v", in, d.D(), err, want)
		}
	}
	for _, bad := range []string{"d", "3 days", "1d-2h", "1.5d"} {
		var d Duration
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestArchiveUntil(t *testing.T) {
	day := func(s string) time.Time {
		v, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		fyEnd, received, want string
	}{
		// Calendar year 2025 ends 2025-12-31: kept through 2032.
		{"12-31", "2025-03-01", "2033-01-02"},
		{"12-31", "2025-12-31", "2033-01-02"},
		// A fiscal year from July: an invoice of March 2025 belongs to the
		// year ending 2025-06-30, one of August 2025 to the year ending
		// 2026-06-30, kept through 2033.
		{"06-30", "2025-03-01", "2033-01-02"},
		{"06-30", "2025-08-01", "2034-01-02"},
		// Feb 29 in a common year is Feb 28.
		{"02-29", "2025-02-28", "2033-01-02"},
		{"02-29", "2025-03-01", "2034-01-02"},
	}
	for _, tt := range tests {
		r := Retention{ArchiveYears: 7, FiscalYearEnd: tt.fyEnd}
		if got := r.ArchiveUntil(day(tt.received)); !got.Equal(day(tt.want)) {
			t.Errorf("fiscal year end %s, received %s: until %s, want %s", tt.fyEnd, tt.received, got.Format(time.DateOnly), tt.want)
		}
	}
}
