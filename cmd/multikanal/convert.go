package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway"
)

func runConvert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print every invoice in full as JSON")
	outDir := fs.String("out", "", "write every channel's rendering of every valid invoice into DIR/<channel>/")
	cfgPath := fs.String("config", "", "configuration whose tenant rules apply (default: the embedded default)")
	tenantID := fs.String("tenant", "", "tenant whose priority and rules apply (default: the first)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: multikanal convert [--json] [--out DIR] [--config FILE] [--tenant ID] FILE...")
		fmt.Fprintln(stderr, "Exit status: 0 all valid, 1 some rejected, 2 unreadable input or usage error.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := loadConfig(*cfgPath, "")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if *tenantID == "" {
		*tenantID = cfg.Tenants[0].ID
	}
	code := exitOK
	var results []*gateway.Converted
	for _, path := range fs.Args() {
		c, err := gateway.Convert(cfg, *tenantID, path, nil)
		if err != nil && !errors.Is(err, gateway.ErrUnreadable) {
			fmt.Fprintln(stderr, "multikanal convert:", err)
			return exitUsage
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", path, c.Error)
			code = exitUsage
		} else {
			for _, d := range c.Documents {
				if !d.Valid && code == exitOK {
					code = exitProblems
				}
			}
		}
		results = append(results, c)
		if *outDir != "" && err == nil {
			written, skipped, err := gateway.RenderAll(cfg, *tenantID, c, *outDir)
			if err != nil {
				fmt.Fprintf(stderr, "%s: rendering: %v\n", path, err)
				code = exitProblems
			}
			for _, s := range skipped {
				fmt.Fprintf(stderr, "%s: not rendered on %s\n", path, s)
			}
			fmt.Fprintf(stderr, "%s: wrote %d renderings under %s\n", path, len(written), *outDir)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(results) == 1 {
			enc.Encode(results[0])
		} else {
			enc.Encode(results)
		}
		return code
	}
	for _, c := range results {
		printConverted(stdout, c)
	}
	return code
}

func printConverted(w io.Writer, c *gateway.Converted) {
	fmt.Fprintf(w, "%s (%s): %d documents\n", c.File, orDash(c.Format), len(c.Documents))
	if c.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", c.Error)
	}
	if len(c.Documents) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tNUMBER\tBUYER\tAMOUNT\tDUE\tPAY REF\tROUTE\tPROBLEMS")
	for _, d := range c.Documents {
		number, buyer, amount, due, ref := "-", "-", "-", "-", "-"
		if inv := d.Invoice; inv != nil {
			number, buyer = orDash(inv.Number), orDash(inv.Buyer.DisplayName())
			amount = inv.Totals.Payable.String() + " " + inv.Currency
			due, ref = orDash(inv.DueDate.String()), orDash(inv.PaymentReference())
		}
		route := "rejected"
		if d.Valid {
			route = orDash(d.Channel)
			if d.Channel == "" {
				route = "no channel"
			}
		}
		problems := d.Error
		if problems == "" {
			problems = warnings(d.Problems)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Index+1, number, buyer, amount, due, ref, route, orDash(problems))
	}
	tw.Flush()
}

func warnings(ps []formats.Problem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Error())
	}
	return strings.Join(s, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
