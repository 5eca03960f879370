package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway"
	"github.com/multikanal/multikanal/outbound/channels"
)

func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file whose [store] names the PostgreSQL (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: multikanal migrate --config FILE

Brings the schema of the PostgreSQL that [store] dsn_file names up to the
version this multikanal needs, applying the migrations it lacks in one
transaction (all or none). Nodes may keep running an older version while
it runs only if the migration's notes say so; otherwise stop them first
(docs/operations.md). Safe to run again: a database that is up to date is
left alone. Only driver = "postgres" has a schema; bbolt needs none.

Flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *path == "" || fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := config.Load(*path, channels.All())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitProblems
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	applied, v, err := gateway.Migrate(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "multikanal migrate:", err)
		return exitProblems
	}
	for _, m := range applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "the schema is up to date (version %d)\n", v)
	} else {
		fmt.Fprintf(stdout, "the schema is at version %d\n", v)
	}
	return exitOK
}
