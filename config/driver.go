package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// The store drivers: bbolt, one file in the data directory, for one node
// (the default); PostgreSQL, shared by several nodes (docs/scale-out.md).
const (
	DriverBolt     = "bolt"
	DriverPostgres = "postgres"
)

// The keys of the [store] table that choose the store:
//
//   - driver: "bolt" (default) or "postgres".
//   - dsn_file: the file holding PostgreSQL's connection string (libpq
//     keywords or a postgres:// URL, with the password): a path, or the
//     name of a systemd credential (LoadCredential=). Required with
//     driver = "postgres".
//   - node: this node's name among the nodes sharing the database;
//     default the host name. Two nodes that run at once must not share one.
//   - lease: how long a node's work stays its own without a sign of life;
//     another node takes it over then. Default 15s.
//   - migrate: the daemon brings the database's schema up to date at
//     start; without it the daemon refuses an older schema and `multikanal
//     migrate` does it. Default false.

const defaultLease = 15 * time.Second

// Postgres reports whether the store is PostgreSQL.
func (d Store) Postgres() bool { return d.Driver == DriverPostgres }

// DSN reads the connection string from its file.
func (d Store) DSN() (string, error) {
	b, err := ReadSecret(d.DSNFile)
	if err != nil {
		return "", fmt.Errorf("store.dsn_file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *Config) applyDriverDefaults() {
	d := &c.Store
	setString(&d.Driver, DriverBolt)
	setDuration(&d.Lease, defaultLease)
	if d.Node == "" && d.Postgres() {
		d.Node, _ = os.Hostname()
	}
}

var nodeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func (c *Config) validateDriver(ps *problems) {
	d := c.Store
	switch d.Driver {
	case DriverBolt:
		for key, set := range map[string]bool{"dsn_file": d.DSNFile != "", "node": d.Node != "", "migrate": d.Migrate} {
			if set {
				ps.add("store."+key, `is used by driver = "postgres" only; remove it, or set driver = "postgres"`)
			}
		}
	case DriverPostgres:
		if d.DSNFile == "" {
			ps.add("store.dsn_file", `required with driver = "postgres": a file (or systemd credential) holding the connection string, like "host=db.example.se dbname=multikanal user=multikanal password=..."`)
		} else {
			c.checkFile(ps, "store.dsn_file", d.DSNFile)
		}
		if !nodeName.MatchString(d.Node) {
			ps.add("store.node", "%q: a node's name is letters, digits, '.', '_' and '-', up to 63, and unique among the nodes", d.Node)
		}
		if d.Lease < Duration(3*time.Second) {
			ps.add("store.lease", "%s: use at least \"3s\"; a node renews its lease every third of it", d.Lease)
		}
	default:
		ps.add("store.driver", `%q: use "bolt" (one node, the default) or "postgres" (several nodes on one PostgreSQL)`, d.Driver)
	}
}

// Describe says which store the configuration chooses, for `multikanal
// check`.
func (d Store) Describe() string {
	if !d.Postgres() {
		return "bolt (state.db in data_dir; one node)"
	}
	migrate := "schema migrated by `multikanal migrate`"
	if d.Migrate {
		migrate = "schema migrated at start"
	}
	return fmt.Sprintf("postgres (node %s, lease %s, connection string in %s; %s)", d.Node, d.Lease, d.DSNFile, migrate)
}
