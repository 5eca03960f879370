package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/multikanal/multikanal/gateway/api"
)

func runMandates(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, `Usage:
  multikanal mandates list [--tenant ID]                               orders sent and waiting, and internet-bank mandates awaiting an answer
  multikanal mandates approve [--tenant ID] PAYER...                   yes to mandates payers signed in their internet bank (TK04)
  multikanal mandates reject [--tenant ID] PAYER...                    no to them (TK04 AV)
  multikanal mandates new [--tenant ID] --account A --id PNR PAYER     a new mandate on a bank account (TK04); without --account and --id on the payer's bankgiro
  multikanal mandates cancel [--tenant ID] PAYER...                    end mandates (TK03)
  multikanal mandates change [--tenant ID] --to NEW PAYER              a new payer number (TK05)
Orders go to Bankgirot as one sealed mandate file at the AutoGiro cut-off; the
registry changes when Bankgirot's mandate advice comes back.
Flags for all: --addr HOST:PORT, --config FILE or --data DIR to find the daemon; --json.`)
	}
	if len(args) == 0 {
		usage()
		return exitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("mandates "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	tenant := fs.String("tenant", "", "tenant whose mandates to manage (default: the daemon's only tenant)")
	account := fs.String("account", "", "new: the payer's clearing and account number, like 3300-1212121212")
	id := fs.String("id", "", "new: the payer's personnummer or organisationsnummer")
	to := fs.String("to", "", "change: the new payer number")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if !df.resolveTenant(tenant, "multikanal mandates "+sub, stderr) {
		return exitProblems
	}
	path := "/api/v1/tenants/" + url.PathEscape(*tenant) + "/autogiro/mandates"
	var orders []api.MandateOrderRequest
	switch {
	case sub == "list" && fs.NArg() == 0:
	case (sub == "approve" || sub == "reject" || sub == "cancel") && fs.NArg() > 0:
		for _, p := range fs.Args() {
			orders = append(orders, api.MandateOrderRequest{Action: sub, Payer: p})
		}
	case sub == "new" && fs.NArg() == 1:
		orders = append(orders, api.MandateOrderRequest{Action: sub, Payer: fs.Arg(0), Account: *account, PersonalID: *id})
	case sub == "change" && fs.NArg() == 1 && *to != "":
		orders = append(orders, api.MandateOrderRequest{Action: sub, Payer: fs.Arg(0), NewPayer: *to})
	default:
		usage()
		return exitUsage
	}
	var body []byte
	var err error
	if sub == "list" {
		body, err = df.call("GET", path+"?limit=1000", nil, nil)
	} else {
		req, _ := json.Marshal(map[string]any{"orders": orders})
		body, err = df.call("POST", path, bytes.NewReader(req), nil)
	}
	if err != nil {
		fmt.Fprintf(stderr, "multikanal mandates %s: %s\n", sub, err)
		return exitProblems
	}
	if *df.asJSON {
		stdout.Write(body)
		return exitOK
	}
	var list api.MandateOrders
	if err := json.Unmarshal(body, &list); err != nil {
		fmt.Fprintf(stderr, "multikanal mandates %s: unreadable answer: %v\n", sub, err)
		return exitProblems
	}
	if sub != "list" {
		for _, o := range list.Orders {
			fmt.Fprintf(stdout, "%s: %s payer %s %s\n", o.ID, o.Action, o.Payer, o.State)
		}
		return exitOK
	}
	fmt.Fprintln(stdout, "Internet-bank mandates awaiting an answer (multikanal mandates approve|reject PAYER):")
	if len(list.AwaitingApproval) == 0 {
		fmt.Fprintln(stdout, "  (none)")
	} else {
		printRegistrations(stdout, list.AwaitingApproval)
	}
	if len(list.UnderEnquiry) > 0 {
		fmt.Fprintln(stdout, "Mandates under enquiry at the payer's bank (nothing to answer; Bankgirot's mandate advice follows):")
		printRegistrations(stdout, list.UnderEnquiry)
	}
	fmt.Fprintln(stdout, "Mandate orders, newest first:")
	if len(list.Orders) == 0 {
		fmt.Fprintln(stdout, "  (none)")
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tACTION\tPAYER\tSTATE\tCREATED\tSOURCE\tWHAT HAPPENED")
	for _, o := range list.Orders {
		what := o.Action
		switch {
		case o.Action == api.MandateActionNew && o.Account != "":
			what = "account " + o.Account + ", " + o.PersonalID
		case o.Action == api.MandateActionChange:
			what = "to " + o.NewPayer
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.Action, o.Payer, o.State, o.Created.Format("2006-01-02 15:04"), o.Source,
			strings.TrimPrefix(what+"; "+orDash(o.Reason), o.Action+"; "))
	}
	tw.Flush()
	return exitOK
}
