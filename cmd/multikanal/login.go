package main

import (
	"flag"
	"fmt"
	"io"
	"os/exec"
	"time"
)

// runLogin asks the running daemon for a one-time link that opens a status
// page session, prints it, and with --open hands it to the desktop's
// browser. The link works once, within two minutes.
func runLogin(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	open := fs.Bool("open", false, "open the link in the browser (xdg-open)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: multikanal login [--open] [--data DIR | --config FILE | --addr HOST:PORT --token-file FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	var link struct {
		URL     string    `json:"url"`
		Expires time.Time `json:"expires"`
	}
	body, err := df.call("POST", "/api/v1/login", nil, &link)
	if err != nil {
		fmt.Fprintln(stderr, "multikanal login:", err)
		return exitProblems
	}
	if *df.asJSON {
		stdout.Write(body)
		return exitOK
	}
	fmt.Fprintf(stdout, "Open this link within %s; it works once:\n\n    %s\n\n", time.Until(link.Expires).Round(time.Second), link.URL)
	if *open {
		if err := exec.Command("xdg-open", link.URL).Start(); err != nil {
			fmt.Fprintln(stderr, "multikanal login: cannot open a browser:", err)
			return exitProblems
		}
	}
	return exitOK
}
