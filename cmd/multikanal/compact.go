package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/multikanal/multikanal/gateway/api"
)

func runCompact(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: multikanal compact

Copies the running daemon's store into a new file without its free space
and swaps it in: bbolt reuses the space retention frees but never gives it
back to the disk. Reads go on meanwhile; writes wait for the copy (its
figures are printed). It needs free disk for the live data.

Flags:`)
		fs.PrintDefaults()
	}
	df := addDaemonFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	var rep api.CompactReport
	raw, err := df.call("POST", "/api/v1/store/compact", nil, &rep)
	if err != nil {
		fmt.Fprintln(stderr, "multikanal compact:", err)
		return exitProblems
	}
	if *df.asJSON {
		stdout.Write(raw)
		return exitOK
	}
	fmt.Fprintf(stdout, "state.db %.1f MB → %.1f MB in %.2f s; writes waited %.2f s\n", rep.MBBefore, rep.MBAfter, rep.Seconds, rep.WritesPaused)
	return exitOK
}
