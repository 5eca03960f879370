package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/multikanal/multikanal/gateway/store"
)

// runBackup writes a consistent copy of the store. With a daemon running it
// asks the daemon (which holds the store's lock) to write it online;
// otherwise it opens the store itself.
func runBackup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: multikanal backup [--data DIR | --config FILE | --addr HOST:PORT] FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	dst, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "multikanal backup:", err)
		return exitUsage
	}
	var res struct {
		Bytes   int64
		Seconds float64
	}
	_, err = df.call("POST", "/api/v1/backup?path="+urlQuery(dst), nil, &res)
	if err == nil {
		fmt.Fprintf(stdout, "%s: %d bytes, written online by the running daemon in %.2fs\n", dst, res.Bytes, res.Seconds)
		return exitOK
	}
	dataDir := *df.dataDir
	if dataDir == "" && *df.cfgPath == "" && *df.addr == "" {
		dataDir = "var"
	}
	if dataDir == "" {
		fmt.Fprintln(stderr, "multikanal backup:", err)
		return exitProblems
	}
	s, oerr := store.Open(filepath.Join(dataDir, "state.db"))
	if oerr != nil {
		if errors.Is(oerr, store.ErrLocked) {
			fmt.Fprintf(stderr, "multikanal backup: the daemon holds the store but did not answer (%v)\n", err)
		} else {
			fmt.Fprintln(stderr, "multikanal backup:", oerr)
		}
		return exitProblems
	}
	defer s.Close()
	if err := s.Backup(dst); err != nil {
		fmt.Fprintln(stderr, "multikanal backup:", err)
		return exitProblems
	}
	fmt.Fprintf(stdout, "%s: written from %s (no daemon running)\n", dst, filepath.Join(dataDir, "state.db"))
	return exitOK
}
