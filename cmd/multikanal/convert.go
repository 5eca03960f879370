package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/convert"
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
	var renderer *convert.Renderer
	if *outDir != "" {
		if renderer, err = convert.NewRenderer(cfg, *tenantID, *outDir); err != nil {
			fmt.Fprintln(stderr, "multikanal convert:", err)
			return exitUsage
		}
	}
	if *asJSON && fs.NArg() > 1 {
		io.WriteString(stdout, "[")
	}
	for i, path := range fs.Args() {
		// Every document is printed (and rendered) as it is read and then
		// dropped: memory stays flat however large the file.
		progress := newProgress(stderr, path)
		var view converted
		if *asJSON {
			if i > 0 {
				io.WriteString(stdout, ",")
			}
			view = newJSONView(stdout)
		} else {
			view = newTableView(stdout, path)
		}
		written := 0
		c, err := convert.Convert(cfg, *tenantID, path, func(d convert.ConvertedDoc) error {
			progress.count(d)
			if renderer != nil {
				w, skipped, err := renderer.Render(path, d)
				if err != nil {
					return err
				}
				written += len(w)
				for _, s := range skipped {
					fmt.Fprintf(stderr, "%s: not rendered on %s\n", path, s)
				}
			}
			return view.doc(d)
		})
		progress.done()
		if err != nil && !errors.Is(err, convert.ErrUnreadable) {
			fmt.Fprintln(stderr, "multikanal convert:", err)
			return exitUsage
		}
		view.end(c)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "%s: %s\n", path, c.Error)
			code = exitUsage
		case c.Rejected > 0 && code == exitOK:
			code = exitProblems
		}
		if renderer != nil && err == nil {
			fmt.Fprintf(stderr, "%s: wrote %d renderings under %s\n", path, written, *outDir)
		}
	}
	if *asJSON && fs.NArg() > 1 {
		io.WriteString(stdout, "]")
	}
	if *asJSON {
		io.WriteString(stdout, "\n")
	}
	return code
}

// converted shows a file's documents as they are read.
type converted interface {
	doc(convert.ConvertedDoc) error
	end(*convert.Converted)
}

// jsonView writes {"documents":[...], "file":..., ...}: the documents
// stream first, the file's summary follows when it is known.
type jsonView struct {
	w     io.Writer
	first bool
}

func newJSONView(w io.Writer) *jsonView {
	io.WriteString(w, `{"documents":[`)
	return &jsonView{w: w, first: true}
}

func (v *jsonView) doc(d convert.ConvertedDoc) error {
	b, err := json.MarshalIndent(d, "  ", "  ")
	if err != nil {
		return err
	}
	if !v.first {
		io.WriteString(v.w, ",")
	}
	v.first = false
	io.WriteString(v.w, "\n  ")
	_, err = v.w.Write(b)
	return err
}

func (v *jsonView) end(c *convert.Converted) {
	if c == nil {
		c = &convert.Converted{}
	}
	b, _ := json.Marshal(c)
	io.WriteString(v.w, "],")
	v.w.Write(b[1:])
}

// tableView prints a readable table, flushed every few hundred rows so it
// does not hold the file in memory.
type tableView struct {
	w    io.Writer
	tw   *tabwriter.Writer
	path string
	rows int
}

func newTableView(w io.Writer, path string) *tableView {
	return &tableView{w: w, path: path}
}

func (v *tableView) doc(d convert.ConvertedDoc) error {
	if v.tw == nil {
		v.tw = tabwriter.NewWriter(v.w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(v.tw, "  #\tNUMBER\tBUYER\tAMOUNT\tDUE\tPAY REF\tPAYMENT\tROUTE\tPROBLEMS")
	}
	number, buyer, amount, due, ref, payment := "-", "-", "-", "-", "-", "-"
	if inv := d.Invoice; inv != nil {
		number, buyer = orDash(inv.Number), orDash(inv.Buyer.DisplayName())
		amount = inv.Totals.Payable.String() + " " + inv.Currency
		due, ref = orDash(inv.DueDate.String()), orDash(inv.PaymentReference())
		if inv.Payment != nil {
			// Offline there is no registry, so this is never a direct debit;
			// the JSON output's payment.reason says so.
			payment = string(inv.Payment.Method)
		}
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
	fmt.Fprintf(v.tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Index+1, number, buyer, amount, due, ref, payment, route, orDash(problems))
	if v.rows++; v.rows%256 == 0 {
		v.tw.Flush()
	}
	return nil
}

func (v *tableView) end(c *convert.Converted) {
	if v.tw != nil {
		v.tw.Flush()
	}
	if c == nil {
		return
	}
	fmt.Fprintf(v.w, "%s (%s): %d valid, %d rejected\n", v.path, orDash(c.Format), c.Valid, c.Rejected)
	if c.Error != "" {
		fmt.Fprintf(v.w, "  error: %s\n", c.Error)
	}
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

// progress shows, on a terminal and for a large file, how far convert has
// come: a line on stderr rewritten a few times a second.
type progress struct {
	n    atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup
}

// progressMinSize is the file size from which a progress line is worth it.
const progressMinSize = 4 << 20

func newProgress(w io.Writer, path string) *progress {
	p := &progress{stop: make(chan struct{})}
	f, ok := w.(*os.File)
	fi, err := os.Stat(path)
	if !ok || err != nil || fi.Size() < progressMinSize {
		return p
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return p
	}
	start := time.Now()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				fmt.Fprintf(w, "\r\033[K")
				return
			case <-t.C:
				n := p.n.Load()
				secs := time.Since(start).Seconds()
				fmt.Fprintf(w, "\r\033[K%s: %d invoices read (%.0f/s)", path, n, float64(n)/secs)
			}
		}
	}()
	return p
}

func (p *progress) count(convert.ConvertedDoc) { p.n.Add(1) }

func (p *progress) done() {
	close(p.stop)
	p.wg.Wait()
}
