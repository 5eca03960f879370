package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/multikanal/multikanal/gateway/api"
)

// runReminders shows (--dry-run) or makes the day's reminders of a
// tenant; the daemon makes them itself each day at reminders.at.
func runReminders(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reminders", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: multikanal reminders [--dry-run] [--tenant ID] [--day YYYY-MM-DD]
Shows (--dry-run) or makes now the tenant's reminders of the day and hands to
debt collection the invoices its [tenant.reminders] says; the daemon does this
itself every day at reminders.at. Flags: --addr, --config or --data to find the
daemon; --json.`)
		fs.PrintDefaults()
	}
	df := addDaemonFlags(fs)
	dry := fs.Bool("dry-run", false, "show what would go today, change nothing")
	tenant := fs.String("tenant", "", "tenant whose reminders to make (default: the daemon's only tenant)")
	day := fs.String("day", "", "the day to make them for (default today)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	if !df.resolveTenant(tenant, "multikanal reminders", stderr) {
		return exitProblems
	}
	path := "/api/v1/tenants/" + url.PathEscape(*tenant) + "/reminders"
	if *day != "" {
		path += "?day=" + url.QueryEscape(*day)
	}
	method := "POST"
	if *dry {
		method = "GET"
	}
	var plan api.ReminderPlan
	body, err := df.call(method, path, nil, &plan)
	if err != nil {
		fmt.Fprintf(stderr, "multikanal reminders: %s\n", err)
		return exitProblems
	}
	if *df.asJSON {
		stdout.Write(body)
		return exitOK
	}
	what := "made"
	if plan.DryRun {
		what = "would be made (dry run: nothing changed)"
	}
	fmt.Fprintf(stdout, "Reminders of tenant %s on %s %s: %d\n", plan.Tenant, plan.Day, what, len(plan.Steps))
	if len(plan.Steps) == 0 {
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INVOICE\tNUMBER\tDUE\tACTION\tNO\tLEFT\tFEE\tINTEREST\tTOTAL\tCHANNEL\tREMINDER\tWHY")
	for _, s := range plan.Steps {
		n := ""
		if s.Sequence > 0 {
			n = strconv.Itoa(s.Sequence)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Invoice, s.Number, s.Due, s.Action, n, s.Outstanding, s.Fee, s.Interest,
			s.Total, orDash(s.Channel), orDash(s.Reminder), s.Reason)
	}
	tw.Flush()
	if plan.File != "" {
		fmt.Fprintf(stdout, "Their receipt is the one of file %s.\n", plan.File)
	}
	return exitOK
}

// runInkasso writes the tenant's invoices handed to debt collection as
// CSV: all of them, or with --new those no export listed before (and
// records that this one did).
func runInkasso(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inkasso", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	tenant := fs.String("tenant", "", "tenant whose export to write (default: the daemon's only tenant)")
	onlyNew := fs.Bool("new", false, "only the invoices no export listed before, and record that this one did")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	if !df.resolveTenant(tenant, "multikanal inkasso", stderr) {
		return exitProblems
	}
	method := "GET"
	if *onlyNew {
		method = "POST"
	}
	data, _, err := df.fetch(method, "/api/v1/tenants/"+url.PathEscape(*tenant)+"/inkasso", "application/json", bytes.NewReader([]byte("{}")))
	if err != nil {
		fmt.Fprintf(stderr, "multikanal inkasso: %s\n", err)
		return exitProblems
	}
	stdout.Write(data)
	return exitOK
}

// runEvents prints a tenant's event log, or with --replay has its webhook
// post again every event after --after.
func runEvents(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	tenant := fs.String("tenant", "", "tenant whose events to read (default: the daemon's only tenant)")
	after := fs.Uint64("after", 0, "the events after this seq")
	limit := fs.Int("limit", 100, "at most this many events")
	replay := fs.Bool("replay", false, "have the tenant's webhook post again every event after --after")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	if !df.resolveTenant(tenant, "multikanal events", stderr) {
		return exitProblems
	}
	base := "/api/v1/tenants/" + url.PathEscape(*tenant) + "/events"
	if *replay {
		req, _ := json.Marshal(api.ReplayRequest{After: *after})
		if _, err := df.call("POST", base+"/replay", bytes.NewReader(req), nil); err != nil {
			fmt.Fprintf(stderr, "multikanal events: %s\n", err)
			return exitProblems
		}
		fmt.Fprintf(stdout, "the webhook of tenant %s posts again every event after %d\n", *tenant, *after)
		return exitOK
	}
	var page api.EventPage
	body, err := df.call("GET", fmt.Sprintf("%s?after=%d&limit=%d", base, *after, *limit), nil, &page)
	if err != nil {
		fmt.Fprintf(stderr, "multikanal events: %s\n", err)
		return exitProblems
	}
	if *df.asJSON {
		stdout.Write(body)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tTYPE\tDOCUMENT\tNUMBER\tCHANNEL\tSTATE\tWEBHOOK")
	for _, e := range page.Events {
		hook := "-"
		if h := e.Hook; h != nil {
			hook = fmt.Sprintf("%d attempt(s), %d %s", h.Attempts, h.Status, h.Error)
			if !h.Delivered.IsZero() {
				hook = fmt.Sprintf("posted %s", h.Delivered.Format("2006-01-02 15:04:05"))
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Local().Format("2006-01-02 15:04:05"), e.Type, orDash(e.Doc), orDash(e.Number),
			orDash(e.Channel), orDash(e.State), hook)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "next: --after %d; the webhook is done up to %d\n", page.Next, page.Hook)
	return exitOK
}

// runOverview prints a tenant's distribution per month and channel.
func runOverview(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("overview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	tenant := fs.String("tenant", "", "tenant whose distribution to show (default: the daemon's only tenant)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	if !df.resolveTenant(tenant, "multikanal overview", stderr) {
		return exitProblems
	}
	data, _, err := df.fetch("GET", "/api/v1/tenants/"+url.PathEscape(*tenant)+"/overview?format=csv", "", nil)
	if err != nil {
		fmt.Fprintf(stderr, "multikanal overview: %s\n", err)
		return exitProblems
	}
	stdout.Write(data)
	return exitOK
}

// printLife prints an invoice's life after delivery under `docs show`:
// its life state, its reminders, debt collection, a credit note, a
// dispute; and on a reminder the invoice it is about.
func printLife(w io.Writer, doc *api.Doc) {
	if doc.Reminds != "" {
		fmt.Fprintf(w, "reminds   %s (the invoice this reminder is about)\n", doc.Reminds)
	}
	if doc.Life == "" || doc.Life == string(doc.State) {
		return
	}
	fmt.Fprintf(w, "life      %s\n", strings.ReplaceAll(doc.Life, "_", " "))
	if dn := doc.Dunning; dn != nil {
		for i, r := range dn.Reminders {
			fmt.Fprintf(w, "reminder  %d: %s (%s) %s, due %s, fee %s, interest %s (%s)\n", i+1, r.Number, r.Doc, r.At.Local().Format("2006-01-02"),
				r.Due, r.Fee, r.Interest, r.Source)
		}
		if !dn.Agency.IsZero() {
			fmt.Fprintf(w, "inkasso   handed to debt collection %s (multikanal inkasso)\n", dn.Agency.Local().Format("2006-01-02"))
		}
	}
	if doc.CreditedBy != "" {
		fmt.Fprintf(w, "credited  by %s\n", doc.CreditedBy)
	}
	if a := doc.Disputed; a != nil {
		fmt.Fprintf(w, "disputed  %s by %s: %s\n", a.At.Local().Format("2006-01-02 15:04"), a.By, a.Why)
	}
}
