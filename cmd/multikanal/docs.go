package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"github.com/multikanal/multikanal/gateway/api"
)

func runDocs(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, `Usage:
  multikanal docs list [--state S] [--channel C] [--tenant T] [--file F] [--limit N]
  multikanal docs show ID     the document with its whole event history
  multikanal docs retry ID    try a retrying document now, or route a failed/dead one again
  multikanal docs ack --why TEXT [--by NAME] ID
                              acknowledge a dead document: it no longer needs attention
  multikanal docs dispute --why TEXT [--by NAME] [--clear] ID
                              the customer disputes the invoice: no reminder goes out
  multikanal docs resend --reason TEXT [--by NAME] ID
                              send a delivered (or dead) document again on purpose, on new
                              delivery ids; who and why go into its history
Flags for all: --addr, --config or --data to find the daemon; --json.`)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub := args[0]
	fs := flag.NewFlagSet("docs "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	state := fs.String("state", "", "list: only this state (queued, delivered, retrying, failed, dead, rejected, held)")
	channel := fs.String("channel", "", "list: only this channel")
	tenant := fs.String("tenant", "", "list: only this tenant")
	file := fs.String("file", "", "list: only this file id, in file order")
	limit := fs.Int("limit", 100, "list: at most this many, newest first (with --file: the first of the file)")
	why := fs.String("why", "", "ack: why the dead document needs nothing more (kept in its history)")
	reason := fs.String("reason", "", "resend: why the document is sent again (required), like \"the buyer says it never arrived\"")
	by := fs.String("by", currentUser(), "ack, resend, dispute: who acknowledges or asks (kept in the history)")
	clear := fs.Bool("clear", false, "dispute: the dispute is over, reminders may go out again")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "multikanal docs %s: %v\n", sub, err)
		return exitProblems
	}
	switch {
	case sub == "list" && fs.NArg() == 0:
		q := url.Values{"state": {*state}, "channel": {*channel}, "tenant": {*tenant}, "file": {*file}}
		if *limit < 1 {
			return fail(fmt.Errorf("--limit %d: list at least one", *limit))
		}
		var docs []*api.Doc
		raw, err := df.list("/api/v1/docs?"+q.Encode(), *limit)
		if err == nil {
			err = json.Unmarshal(raw, &docs)
		}
		if err != nil {
			return fail(err)
		}
		if *df.asJSON {
			stdout.Write(raw)
			return exitOK
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTENANT\tNUMBER\tSTATE\tCHANNEL\tAMOUNT\tREASON")
		for _, d := range docs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s %s\t%s\n", d.ID, d.Tenant, orDash(d.Number), d.State, orDash(d.Channel), d.Amount, d.Currency, shorten(d.Reason, 100))
		}
		tw.Flush()
	case sub == "show" && fs.NArg() == 1:
		var detail api.DocDetail
		raw, err := df.call("GET", "/api/v1/docs/"+url.PathEscape(fs.Arg(0)), nil, &detail)
		if err != nil {
			return fail(err)
		}
		if *df.asJSON {
			stdout.Write(raw)
			return exitOK
		}
		printDocDetail(stdout, &detail)
	case sub == "retry" && fs.NArg() == 1:
		var doc api.Doc
		if _, err := df.call("POST", "/api/v1/docs/"+url.PathEscape(fs.Arg(0))+"/retry", nil, &doc); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s: %s %s: %s\n", doc.ID, doc.State, doc.Channel, doc.Reason)
	case sub == "ack" && fs.NArg() == 1:
		if *why == "" {
			fmt.Fprintln(stderr, "multikanal docs ack: say why with --why TEXT; it is kept in the document's history")
			return exitUsage
		}
		var doc api.Doc
		body, err := jsonRequest(api.AckRequest{By: *by, Why: *why})
		if err != nil {
			return fail(err)
		}
		if _, err := df.call("POST", "/api/v1/docs/"+url.PathEscape(fs.Arg(0))+"/ack", body, &doc); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s: %s, acknowledged by %s: %s\n", doc.ID, doc.State, doc.Ack.By, doc.Ack.Why)
	case sub == "dispute" && fs.NArg() == 1:
		if *why == "" && !*clear {
			fmt.Fprintln(stderr, "multikanal docs dispute: say why with --why TEXT (or --clear); it stops the invoice's reminders")
			return exitUsage
		}
		body, err := jsonRequest(api.DisputeRequest{By: *by, Why: *why, Clear: *clear})
		if err != nil {
			return fail(err)
		}
		var doc api.Doc
		if _, err := df.call("POST", "/api/v1/docs/"+url.PathEscape(fs.Arg(0))+"/dispute", body, &doc); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s: %s\n", doc.ID, doc.Life)
	case sub == "resend" && fs.NArg() == 1:
		if *reason == "" {
			fmt.Fprintln(stderr, "multikanal docs resend: --reason is required: say why the document is sent again; it is kept in the document's history")
			return exitUsage
		}
		body, err := jsonRequest(api.ResendRequest{By: *by, Reason: *reason})
		if err != nil {
			return fail(err)
		}
		var doc api.Doc
		raw, err := df.call("POST", "/api/v1/docs/"+url.PathEscape(fs.Arg(0))+"/resend", body, &doc)
		if err != nil {
			return fail(err)
		}
		if *df.asJSON {
			stdout.Write(raw)
			return exitOK
		}
		fmt.Fprintf(stdout, "%s: resend %d %s %s: %s\n", doc.ID, doc.Resends, doc.State, orDash(doc.Channel), doc.Reason)
	default:
		usage()
		return exitUsage
	}
	return exitOK
}

// currentUser names who runs the command, for the history of what it does.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func printDocDetail(w io.Writer, d *api.DocDetail) {
	doc := d.Doc
	fmt.Fprintf(w, "%s  %s %s  tenant %s\n", doc.ID, doc.Kind, orDash(doc.Number), doc.Tenant)
	fmt.Fprintf(w, "file      %s (%s, %s)\n", d.File.Name, d.File.ID, orDash(doc.Source))
	fmt.Fprintf(w, "buyer     %s\n", orDash(doc.Buyer))
	fmt.Fprintf(w, "amount    %s %s, due %s\n", doc.Amount, doc.Currency, orDash(doc.DueDate.String()))
	fmt.Fprintf(w, "state     %s on %s\n", doc.State, orDash(doc.Channel))
	fmt.Fprintf(w, "reason    %s\n", orDash(doc.Reason))
	if !doc.Opened.IsZero() {
		fmt.Fprintf(w, "opened    %s (the recipient opened the invoice page)\n", doc.Opened.Local().Format("2006-01-02 15:04:05"))
	}
	if c := doc.Payment; c != nil {
		fmt.Fprintf(w, "payment   %s (%s)", strings.ReplaceAll(string(c.State), "_", " "), paymentOf(c))
		if c.Reason != "" {
			fmt.Fprintf(w, ": %s", c.Reason)
		}
		fmt.Fprintln(w)
	}
	printLife(w, doc)
	if len(doc.Route) > 0 {
		fmt.Fprintln(w, "\nroute:")
		for _, s := range doc.Route {
			mark := "-"
			if s.Eligible {
				mark = "+"
			}
			fmt.Fprintf(w, "  %s %-9s %s\n", mark, s.Channel, s.Reason)
		}
	}
	fmt.Fprintln(w, "\nhistory:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range d.Events {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.At.Format("2006-01-02 15:04:05.000"), e.State, orDash(e.Channel), e.Reason)
	}
	tw.Flush()
	if len(d.Deliveries) > 0 {
		fmt.Fprintln(w, "\ndeliveries:")
		for _, dl := range d.Deliveries {
			fmt.Fprintf(w, "  %s  %s to %s, %d attempts, %s %s\n", dl.ID, dl.State, orDash(dl.To), dl.Attempts, orDash(dl.Ref), dl.LastError)
			switch {
			case !dl.Opened.IsZero():
				fmt.Fprintf(w, "      opened %s\n", dl.Opened.Local().Format("2006-01-02 15:04:05"))
			case !dl.OpenBy.IsZero():
				fmt.Fprintf(w, "      not opened yet; falls back at %s unless opened\n", dl.OpenBy.Local().Format("2006-01-02 15:04:05"))
			}
		}
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// paymentOf says how an invoice is paid: "autogiro payer 101, paid 125.00".
func paymentOf(c *api.Collection) string {
	how := c.Method
	if c.Payer != "" {
		how += " payer " + c.Payer
	}
	if c.Paid != 0 {
		how += ", paid " + c.Paid.String()
	}
	return how
}
