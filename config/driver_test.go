package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The store is bbolt unless the configuration chooses PostgreSQL, which
// needs its connection string in a file (or a systemd credential); check
// names the key of every problem.
func TestStoreDriver(t *testing.T) {
	c, err := Parse([]byte(validDoc), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Driver != DriverBolt || c.Store.Postgres() {
		t.Errorf("default driver %q", c.Store.Driver)
	}
	if d := Default(t.TempDir(), registered); d.Store.Driver != DriverBolt {
		t.Errorf("the embedded default's driver %q", d.Store.Driver)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pg.dsn"), []byte("host=db.example.se dbname=multikanal user=mk password=s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pg, err := Parse([]byte(validDoc+"[store]\ndriver = \"postgres\"\ndsn_file = \"pg.dsn\"\nnode = \"gw-2\"\nmigrate = true\n"), "m.toml", dir, registered)
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := pg.Store.DSN()
	if !pg.Store.Postgres() || pg.Store.Node != "gw-2" || pg.Store.Lease != Duration(15*time.Second) || !pg.Store.Migrate ||
		err != nil || dsn != "host=db.example.se dbname=multikanal user=mk password=s3cret" {
		t.Errorf("[store] %+v, dsn %q (%v)", pg.Store, dsn, err)
	}
	// The DSN as a systemd credential.
	cred := t.TempDir()
	if err := os.WriteFile(filepath.Join(cred, "multikanal-db"), []byte("dbname=cred"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", cred)
	pc, err := Parse([]byte(validDoc+"[store]\ndriver = \"postgres\"\ndsn_file = \"multikanal-db\"\n"), "m.toml", t.TempDir(), registered)
	if err != nil {
		t.Fatal(err)
	}
	if dsn, err := pc.Store.DSN(); dsn != "dbname=cred" || err != nil {
		t.Errorf("dsn from a credential %q (%v)", dsn, err)
	}
	if host, _ := os.Hostname(); pc.Store.Node != host {
		t.Errorf("node %q, want the host name %q", pc.Store.Node, host)
	}

	for doc, want := range map[string]string{
		"[store]\ndriver = \"mysql\"\n":                                           `store.driver: "mysql": use "bolt"`,
		"[store]\ndriver = \"postgres\"\n":                                        "store.dsn_file: required with driver = \"postgres\"",
		"[store]\ndriver = \"postgres\"\ndsn_file = \"/nonexistent/dsn\"\n":       "store.dsn_file: /nonexistent/dsn: no such file",
		"[store]\ndriver = \"postgres\"\ndsn_file = \"pg.dsn\"\nnode = \"a b\"\n": `store.node: "a b": a node's name`,
		"[store]\ndriver = \"postgres\"\ndsn_file = \"pg.dsn\"\nlease = \"1s\"\n": `store.lease: 1s: use at least "3s"`,
		"[store]\nnode = \"gw-1\"\n":                                              `store.node: is used by driver = "postgres" only`,
	} {
		_, err := Parse([]byte(validDoc+doc), "m.toml", dir, registered)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", doc, err, want)
		}
	}
}
