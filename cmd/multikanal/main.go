// Command multikanal is the gateway's one binary: the daemon (serve) and the
// commands an operator or integrator runs beside it. It only parses flags
// and wires packages together; the work is in gateway, formats and outbound.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

// Exit codes, as PRODUCT.md and common CLI habit have them.
const (
	exitOK       = 0
	exitProblems = 1 // some input rejected, a config invalid, a command failed
	exitUsage    = 2 // unreadable input or a usage error
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the daemon (embedded default when no --config)", runServe},
		{"check", "validate a configuration file", runCheck},
		{"convert", "offline: detect, parse, validate and route input files", runConvert},
		{"status", "what the running daemon holds", runStatus},
		{"login", "print a one-time link that logs a browser in to the status page", runLogin},
		{"docs", "inspect and act on documents: list, show ID, retry ID", runDocs},
		{"backup", "write a consistent copy of the store (online when the daemon runs)", runBackup},
		{"recipients", "the recipient channel registry: import FILE, show KEY, list", runRecipients},
		{"mandates", "AutoGiro mandate orders to Bankgirot: list, approve, reject, new, cancel, change", runMandates},
		{"reminders", "the day's reminders and hand-offs to debt collection: --dry-run shows them, without it they are made now", runReminders},
		{"inkasso", "the invoices handed to debt collection, as CSV for the agency (--new: those not exported before)", runInkasso},
		{"events", "a tenant's event log (what the webhook posts); --replay posts it again", runEvents},
		{"overview", "a tenant's distribution per month and channel, digital share and cost, as CSV", runOverview},
		{"erase", "erase a person's data (GDPR), within what Bokföringslagen keeps; dry run unless --yes", runErase},
		{"compact", "give the store's free space back to the disk, online", runCompact},
		{"migrate", "bring the PostgreSQL store's schema up to date ([store] driver = \"postgres\")", runMigrate},
		{"version", "version and build info", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "multikanal: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: multikanal COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'multikanal COMMAND --help' for a command's flags.")
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, versionString())
	return exitOK
}

func versionString() string {
	parts := []string{"multikanal " + version}
	if bi, ok := debug.ReadBuildInfo(); ok {
		parts = append(parts, bi.GoVersion)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if len(s.Value) > 12 {
					s.Value = s.Value[:12]
				}
				parts = append(parts, "commit "+s.Value)
			case "vcs.modified":
				if s.Value == "true" {
					parts = append(parts, "modified")
				}
			}
		}
	}
	return strings.Join(parts, " ")
}
