package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
)

func runErase(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: multikanal erase --tenant T --key TYPE:VALUE [--dry-run | --yes]

Erases a person's data (GDPR art. 17) within one tenant: the payloads of
their final documents, the name, address and keys in the summaries, their
registry entries and the personal fields of sent mandate orders. What the
law requires the biller to keep stays, and is listed. Without --yes it only
shows what it would remove (a dry run). Every run leaves a line in
<data>/audit.log holding no personal data. TYPE is pnr, customer, orgnr,
peppol, email, mobile (phone) or kid.

Flags:`)
		fs.PrintDefaults()
	}
	df := addDaemonFlags(fs)
	tenant := fs.String("tenant", "", "the tenant whose data it is (required)")
	key := fs.String("key", "", "the person's key, like pnr:19121212-1212 or email:anna@example.se (required)")
	dry := fs.Bool("dry-run", false, "only show what would be removed (the default without --yes)")
	yes := fs.Bool("yes", false, "remove it")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *tenant == "" || *key == "" || fs.NArg() > 0 || *dry && *yes {
		fs.Usage()
		return exitUsage
	}
	req := api.EraseRequest{Key: *key, DryRun: !*yes, By: whoAmI()}
	body, _ := json.Marshal(req)
	var rep api.EraseReport
	raw, err := df.call("POST", "/api/v1/tenants/"+url.PathEscape(*tenant)+"/erase", bytes.NewReader(body), &rep)
	if err != nil {
		fmt.Fprintln(stderr, "multikanal erase:", err)
		return exitProblems
	}
	if *df.asJSON {
		stdout.Write(raw)
		return exitOK
	}
	printErase(stdout, &rep)
	return exitOK
}

// whoAmI names the operator for the audit line: user, uid and host.
func whoAmI() string {
	name := "uid " + fmt.Sprint(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username + " (" + name + ")"
	}
	if h, err := os.Hostname(); err == nil {
		name += " on " + h
	}
	return name
}

func printErase(w io.Writer, r *api.EraseReport) {
	verb := "removed"
	if r.DryRun {
		verb = "would remove"
		fmt.Fprintf(w, "DRY RUN: nothing is changed; run again with --yes to erase.\n\n")
	}
	fmt.Fprintf(w, "tenant %s, %s\n", r.Tenant, r.Key)
	fmt.Fprintf(w, "%s the personal data of %d documents:\n", verb, len(r.Documents))
	for _, d := range r.Documents {
		fmt.Fprintf(w, "  %s  %-10s %-9s %s\n", d.ID, d.State, d.Channel, d.Number)
	}
	fmt.Fprintf(w, "%s: %d bodies, %d history events, %d delivery records, %d outbox files, %d input files, %d registry entries, %d mandate orders' personal fields\n",
		verb, r.Store.Bodies, r.Store.Events, r.Store.Deliveries, r.OutboxFiles, r.InputFiles, r.Registrations, r.MandateOrders)
	if !r.DryRun && r.Receipts > 0 {
		fmt.Fprintf(w, "rewritten without the person: %d receipts\n", r.Receipts)
	}
	if len(r.Kept) > 0 {
		fmt.Fprintln(w, "kept:")
		for _, k := range r.Kept {
			until := ""
			if !k.Until.IsZero() {
				until = " (until " + k.Until.Format(time.DateOnly) + ")"
			}
			fmt.Fprintf(w, "  %s%s: %s\n", k.What, until, strings.TrimSpace(k.Why))
		}
	}
}
