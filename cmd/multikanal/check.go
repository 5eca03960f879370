package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/outbound/channels"
)

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file to check (required)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *path == "" {
		fmt.Fprintln(stderr, "multikanal check: --config FILE is required")
		return exitUsage
	}
	cfg, err := config.Load(*path, channels.All())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitProblems
	}
	fmt.Fprintf(stdout, "%s: ok\n%s", *path, cfg.Summary())
	return exitOK
}
