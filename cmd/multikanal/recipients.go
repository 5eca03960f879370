package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/multikanal/multikanal/gateway/api"
)

func runRecipients(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, `Usage:
  multikanal recipients import [--tenant ID] FILE   apply a registration CSV (all rows or none)
  multikanal recipients show [--tenant ID] KEY       one payer's registrations, history included (KEY is TYPE:VALUE)
  multikanal recipients list [--tenant ID] [--all]  the tenant's active registrations (--all: with revoked)
Flags for all: --addr HOST:PORT, --config FILE or --data DIR to find the daemon; --json.`)
	}
	if len(args) == 0 {
		usage()
		return exitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("recipients "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	tenant := fs.String("tenant", "", "tenant whose registry to use (default: the daemon's only tenant)")
	all := fs.Bool("all", false, "list: include revoked registrations")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if !df.resolveTenant(tenant, "multikanal recipients "+sub, stderr) {
		return exitProblems
	}
	path := "/api/v1/tenants/" + url.PathEscape(*tenant) + "/recipients"
	var body []byte
	var err error
	switch {
	case sub == "import" && fs.NArg() == 1:
		f, ferr := os.Open(fs.Arg(0))
		if ferr != nil {
			fmt.Fprintln(stderr, "multikanal recipients import:", ferr)
			return exitUsage
		}
		defer f.Close()
		body, err = df.send("POST", path+"?name="+url.QueryEscape(filepath.Base(fs.Arg(0))), "text/csv", f, nil)
	case sub == "show" && fs.NArg() == 1:
		body, err = df.call("GET", path+"?key="+url.QueryEscape(fs.Arg(0)), nil, nil)
	case sub == "list" && fs.NArg() == 0:
		q := ""
		if *all {
			q = "?all=1"
		}
		body, err = df.list(path+q, 0)
	default:
		usage()
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "multikanal recipients %s: %s\n", sub, strings.ReplaceAll(err.Error(), "; line", "\n  line"))
		return exitProblems
	}
	if *df.asJSON {
		stdout.Write(body)
		return exitOK
	}
	switch sub {
	case "import":
		var n map[string]int
		json.Unmarshal(body, &n)
		fmt.Fprintf(stdout, "%s: %d registrations added, %d revoked\n", fs.Arg(0), n["added"], n["revoked"])
	case "show":
		var rc api.Recipient
		json.Unmarshal(body, &rc)
		fmt.Fprintf(stdout, "%s:\n", rc.Key)
		printRegistrations(stdout, rc.Registrations)
	case "list":
		var regs []*api.Registration
		json.Unmarshal(body, &regs)
		printRegistrations(stdout, regs)
	}
	return exitOK
}

func printRegistrations(w io.Writer, regs []*api.Registration) {
	if len(regs) == 0 {
		fmt.Fprintln(w, "  (none)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tKEYS\tCHANNEL\tADDRESS\tVALID FROM\tREVOKED\tSOURCE")
	for _, r := range regs {
		keys := make([]string, len(r.Keys))
		for i, k := range r.Keys {
			keys[i] = k.Type + ":" + k.Value
		}
		revoked := "-"
		if !r.RevokedAt.IsZero() {
			revoked = r.RevokedAt.Format("2006-01-02") + " by " + r.RevokedBy
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, strings.Join(keys, ","), r.Channel, orDash(r.Address), r.ValidFrom.Format("2006-01-02"), revoked, r.Source)
	}
	tw.Flush()
}
