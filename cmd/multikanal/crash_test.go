package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound/paper"
)

// TestCrashHarness runs the real binary on a batch of invoices across every
// spool channel, kills it with SIGKILL at random moments while files arrive
// and are delivered, restarts it each time, and then checks that nothing was
// lost and nothing was sent twice. One stop in the middle is a SIGTERM,
// which must end in exit 0.
//
// The size is set from the environment, so `make crash` can run it larger
// than `make test` does:
//
//	MULTIKANAL_CRASH_INVOICES  invoices in the batch (default 400)
//	MULTIKANAL_CRASH_KILLS     SIGKILLs (default 8)
//	MULTIKANAL_CRASH_SEED      the random seed, to repeat a run (default: the clock)
//
// On failure the daemon's output of every run is kept in a file whose name
// the test prints.
func TestCrashHarness(t *testing.T) {
	advice, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	n := envInt(t, "MULTIKANAL_CRASH_INVOICES", 400)
	kills := envInt(t, "MULTIKANAL_CRASH_KILLS", 8)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MULTIKANAL_CRASH_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("MULTIKANAL_CRASH_SEED=%q: %v", s, err)
		}
	}
	t.Logf("crash harness: %d invoices, %d kills, seed %d (MULTIKANAL_CRASH_SEED=%d repeats the schedule)", n, kills, seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6d756c74696b616e))
	start := time.Now()

	b := newCrashBatch(n, 8)
	data := t.TempDir()
	h := &harness{t: t, data: data, seed: seed}
	defer h.keepLogsOnFailure()

	// The mandates first, so payer 101 is collectable when the invoices come.
	d := h.spawn()
	h.waitReady(d)
	h.dropFile("medgivandeavisering.txt", advice)
	h.waitFinal([]string{"medgivandeavisering.txt"}, time.Minute)
	if r, err := h.receipt("medgivandeavisering.txt"); err != nil || r.State != store.FileApplied {
		t.Fatalf("the mandate advice was not applied: %+v %v", r, err)
	}

	// Files arrive during the first half of the kills, some while the daemon
	// runs and some while it is down; a kill lands anywhere from start-up to
	// idle. The last two files are kept for the graceful stop.
	pending, last := b.files[:len(b.files)-2], b.files[len(b.files)-2:]
	perCycle := len(pending)
	if kills > 1 {
		perCycle = (len(pending) + kills/2 - 1) / (kills / 2)
	}
	killedBusy := 0
	for k := range kills {
		if k%2 == 0 {
			pending = h.dropSome(pending, perCycle)
		}
		delay := time.Duration(50+rng.IntN(2500)) * time.Millisecond
		time.Sleep(delay)
		open := h.notFinal(h.dropped)
		d.kill()
		if open > 0 {
			killedBusy++
		}
		t.Logf("kill %d after %v: %d of %d files dropped not final, outbox %v", k+1, delay, open, len(h.dropped), h.outboxCounts())
		if k%2 == 1 {
			pending = h.dropSome(pending, perCycle)
		}
		d = h.spawn()
	}
	h.dropSome(pending, len(pending))
	// A graceful stop in the middle of the work: exit 0, nothing lost.
	h.waitReady(d)
	h.dropSome(last, len(last))
	waitFor(t, time.Minute, "the last files to be claimed", func() bool {
		entries, _ := os.ReadDir(h.inbox())
		return len(entries) == 0
	})
	time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
	open := h.notFinal(h.dropped)
	termAt := time.Now()
	d.stop()
	t.Logf("SIGTERM with %d of %d files not final: exit 0 after %v", open, len(b.files), time.Since(termAt).Round(time.Millisecond))
	d = h.spawn()
	h.waitReady(d)
	limit := 2*time.Minute + time.Duration(n)*100*time.Millisecond
	h.waitFinal(b.names(), limit)
	st := h.status()
	d.stop()
	elapsed := time.Since(start)

	got := h.check(b, st)
	t.Logf("crash harness: %d invoices in %d files (+%d bad files), %d SIGKILLs survived (%d while work was open), "+
		"%d delivered (%v), %d collected by AutoGiro, %d rejected as invalid; lost %d, duplicates %d; %v",
		n, len(b.files)-len(b.bad), len(b.bad), kills, killedBusy, got.delivered, got.byChannel, got.collected, got.rejected,
		got.lost, got.duplicates, elapsed.Round(time.Second))
}

// autogiroExamples holds Bankgirot's example files; payer 101 has an active
// mandate after the mandate advice.
const autogiroExamples = "../../../shared/testdata/autogiro"

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		t.Fatalf("%s=%q: want a number >= 0", name, s)
	}
	return v
}

// crashBatch is the generated input: the invoice files, the bad files, and
// what is expected of every invoice.
type crashBatch struct {
	files []crashFile
	bad   map[string]bool
	want  map[string]wantInvoice // by invoice number
}

type crashFile struct {
	name string
	body []byte
}

type wantInvoice struct {
	channel string // "" when the invoice is invalid and must be rejected
	collect bool   // an AutoGiro withdrawal for payer 101
	ocr     string
}

func (b *crashBatch) names() []string {
	var out []string
	for _, f := range b.files {
		out = append(out, f.name)
	}
	return out
}

// newCrashBatch makes n invoices in the Multikanal CSV format, split over
// parts files (see fileOf), plus two files the gateway must reject whole. Invoice i goes
// to Peppol, e-mail, SMS or print by i%4; every 6th names AutoGiro payer 101;
// every 50th has a wrong OCR check digit and must be rejected on its own.
func newCrashBatch(n, parts int) *crashBatch {
	cols := strings.Split("type;invoice_number;issue_date;due_date;currency;seller_name;seller_orgnr;seller_vat_id;"+
		"seller_tax_registration;seller_street;seller_postal_code;seller_city;seller_bankgiro;ocr;buyer_customer_number;"+
		"buyer_name;buyer_orgnr;buyer_personnummer;buyer_peppol_id;buyer_email;buyer_mobile;buyer_street;buyer_postal_code;"+
		"buyer_city;autogiro_payer_number;preceding_invoice;buyer_reference;order_reference;note;payment_terms;channel;"+
		"line_description;line_quantity;line_unit;line_price;line_vat_rate;line_amount;total_excl_vat;total_vat;total_incl_vat", ";")
	b := &crashBatch{bad: map[string]bool{}, want: map[string]wantInvoice{}}
	bodies := make([]bytes.Buffer, parts)
	for i := range bodies {
		bodies[i].WriteString(strings.Join(cols, ";") + "\n")
	}
	kr := func(ore int) string { return fmt.Sprintf("%d,%02d", ore/100, ore%100) }
	for i := range n {
		number := fmt.Sprintf("2026-%06d", i)
		base := fmt.Sprintf("26%06d", i)
		base += strconv.Itoa((len(base) + 2) % 10)
		ocr := base + string(formats.LuhnDigit(base))
		w := wantInvoice{ocr: ocr}
		if i%50 == 49 {
			last := ocr[len(ocr)-1] - '0'
			ocr = ocr[:len(ocr)-1] + strconv.Itoa(int(last+1)%10)
		}
		net := (100 + i%900) * 100
		v := map[string]string{
			"type": "invoice", "invoice_number": number, "issue_date": "2026-11-20", "due_date": "2026-12-20", "currency": "SEK",
			"seller_name": "Multikanal Demo Energi AB", "seller_orgnr": "556612-3450", "seller_vat_id": "SE556612345001",
			"seller_tax_registration": "Godkänd för F-skatt", "seller_street": "Storgatan 12", "seller_postal_code": "111 22",
			"seller_city": "Stockholm", "seller_bankgiro": "991-2346", "ocr": ocr, "buyer_customer_number": strconv.Itoa(20000 + i),
			"buyer_name": fmt.Sprintf("Kund %d Åkesson", i), "payment_terms": "30 dagar netto",
			"line_description": "Elhandel november", "line_quantity": "1", "line_unit": "C62", "line_price": kr(net),
			"line_vat_rate": "25", "line_amount": kr(net), "total_excl_vat": kr(net), "total_vat": kr(net / 4), "total_incl_vat": kr(net + net/4),
		}
		switch i % 4 {
		case 0:
			w.channel = "peppol"
			v["buyer_name"] = "Byggbolaget i Norr AB"
			v["buyer_orgnr"], v["buyer_peppol_id"] = "556743-2108", "0007:5567432108"
			v["buyer_street"], v["buyer_postal_code"], v["buyer_city"] = "Industrivägen 4", "903 27", "Umeå"
			v["buyer_reference"], v["order_reference"] = "Anna Berg", fmt.Sprintf("PO-%d", i)
		case 1:
			w.channel = "email"
			v["buyer_email"] = fmt.Sprintf("kund%d@example.se", i)
		case 2:
			w.channel = "sms"
			v["buyer_mobile"] = fmt.Sprintf("070-%03d %02d %02d", i/10000%1000, i/100%100, i%100)
		case 3:
			w.channel = "print"
			v["buyer_street"], v["buyer_postal_code"], v["buyer_city"] = fmt.Sprintf("Björkvägen %d", 1+i%200), "753 20", "Uppsala"
		}
		if i%6 == 5 {
			w.collect = true
			v["autogiro_payer_number"] = "101"
		}
		if i%50 == 49 {
			w.channel, w.collect = "", false
		}
		b.want[number] = w
		row := make([]string, len(cols))
		for j, c := range cols {
			row[j] = v[c]
		}
		bodies[fileOf(i, n, parts)].WriteString(strings.Join(row, ";") + "\n")
	}
	for i := range bodies {
		b.files = append(b.files, crashFile{fmt.Sprintf("crash-%02d.csv", i+1), bodies[i].Bytes()})
	}
	bad := []crashFile{
		{"garbage.txt", []byte("this is not an invoice file\n")},
		{"broken-header.csv", []byte("type;invoice_numbr;issue_date\ninvoice;X-1;2026-11-20\n")},
	}
	for _, f := range bad {
		b.bad[f.name] = true
	}
	// The bad files go in among the good ones.
	var mixed []crashFile
	for i, f := range b.files {
		if i > 0 && i%(max(1, parts/len(bad))) == 0 && len(bad) > 0 {
			mixed, bad = append(mixed, bad[0]), bad[1:]
		}
		mixed = append(mixed, f)
	}
	b.files = append(mixed, bad...)
	return b
}

// fileOf puts invoice i of n into one of parts files, in runs of growing
// length (file k holds about k+1 shares), so every file mixes the channels
// and the largest files cross the ingest's chunk of 256 documents.
func fileOf(i, n, parts int) int {
	shares := parts * (parts + 1) / 2
	at := i * shares / max(n, 1)
	for k := range parts {
		if at < k+1 {
			return k
		}
		at -= k + 1
	}
	return parts - 1
}

// harness runs the binary on one data dir across many starts.
type harness struct {
	t    *testing.T
	data string
	seed uint64
	runs []*daemon
	// dropped names the files in the inbox so far.
	dropped []string
}

// spawn starts `multikanal serve` without waiting for it to be ready, so a
// kill may land in start-up too.
func (h *harness) spawn() *daemon {
	h.t.Helper()
	os.Remove(filepath.Join(h.data, "daemon.json"))
	d := &daemon{t: h.t, data: h.data, out: &syncBuffer{}}
	d.cmd = exec.Command(binary, "serve", "--data", h.data, "--http", "127.0.0.1:0", "--sftp", "127.0.0.1:0", "--public", "127.0.0.1:0")
	d.cmd.Stdout = d.out
	d.cmd.Stderr = d.out
	if err := d.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.runs = append(h.runs, d)
	h.t.Cleanup(d.kill)
	return d
}

func (h *harness) waitReady(d *daemon) {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(h.data, "daemon.json")); err == nil {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the daemon (run %d) was not ready within 60s:\n%s", len(h.runs), tail(d.out.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keepLogsOnFailure writes every run's output to a file the lead can read.
func (h *harness) keepLogsOnFailure() {
	if !h.t.Failed() {
		return
	}
	var all bytes.Buffer
	for i, d := range h.runs {
		fmt.Fprintf(&all, "===== run %d =====\n%s\n", i+1, d.out.String())
	}
	name := filepath.Join(os.TempDir(), fmt.Sprintf("multikanal-crash-%d.log", h.seed))
	if err := os.WriteFile(name, all.Bytes(), 0o644); err == nil {
		h.t.Logf("the daemon's output of all %d runs is in %s", len(h.runs), name)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func (h *harness) inbox() string { return filepath.Join(h.data, "tenants", "demo", "inbox") }

// dropFile writes a file into the inbox under a hidden name and renames it,
// as careful clients do. The inbox exists once the daemon has started.
func (h *harness) dropFile(name string, body []byte) {
	h.t.Helper()
	if err := os.MkdirAll(h.inbox(), 0o750); err != nil {
		h.t.Fatal(err)
	}
	tmp := filepath.Join(h.inbox(), "."+name)
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(h.inbox(), name)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) dropSome(files []crashFile, n int) []crashFile {
	n = min(n, len(files))
	for _, f := range files[:n] {
		h.dropFile(f.name, f.body)
		h.dropped = append(h.dropped, f.name)
	}
	return files[n:]
}

func (h *harness) receipt(name string) (*gateway.Receipt, error) {
	b, err := os.ReadFile(filepath.Join(h.data, "tenants", "demo", "receipts", name+".receipt.json"))
	if err != nil {
		return nil, err
	}
	var r gateway.Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("receipt %s is not valid JSON: %w", name, err)
	}
	return &r, nil
}

func (h *harness) notFinal(names []string) int {
	open := 0
	for _, name := range names {
		if r, err := h.receipt(name); err != nil || !r.Final {
			open++
		}
	}
	return open
}

func (h *harness) waitFinal(names []string, limit time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		open := h.notFinal(names)
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			var which []string
			for _, name := range names {
				if r, err := h.receipt(name); err != nil {
					which = append(which, name+": no receipt")
				} else if !r.Final {
					which = append(which, fmt.Sprintf("%s: %s %v", name, r.State, r.Summary))
				}
			}
			h.t.Fatalf("after %v, %d receipts are not final: %s\n%s", limit, open, strings.Join(which, "; "),
				tail(h.runs[len(h.runs)-1].out.String(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *harness) outboxCounts() map[string]int {
	out := map[string]int{}
	for ch, files := range outboxFiles(h.t, h.data, false) {
		out[ch] = len(files)
	}
	return out
}

func (h *harness) status() *gateway.Status {
	h.t.Helper()
	out, err := exec.Command(binary, "status", "--json", "--data", h.data).Output()
	if err != nil {
		h.t.Fatalf("status --json: %v", err)
	}
	var st gateway.Status
	if err := json.Unmarshal(out, &st); err != nil {
		h.t.Fatalf("status --json is not JSON: %v\n%s", err, out)
	}
	return &st
}

type crashResult struct {
	delivered, collected, rejected int
	byChannel                      map[string]int
	// lost counts invoices missing from the receipts or the outbox;
	// duplicates counts second appearances (receipts, letters, withdrawals).
	lost, duplicates int
}

// check is the verdict, after the daemon stopped cleanly: every file
// accounted for, every invoice in exactly one end state on the expected
// channel, every delivery in the outbox exactly once, no temporary files.
func (h *harness) check(b *crashBatch, st *gateway.Status) crashResult {
	t := h.t
	t.Helper()
	res := crashResult{byChannel: map[string]int{}}
	seen := map[string]string{} // invoice number -> file
	outputs := map[string]string{}
	collectRefs := map[string]bool{}
	for _, f := range b.files {
		r, err := h.receipt(f.name)
		if err != nil {
			t.Errorf("%s: no receipt: %v", f.name, err)
			continue
		}
		if !r.Final {
			t.Errorf("%s: receipt not final (%s)", f.name, r.State)
		}
		if b.bad[f.name] {
			if r.State != store.FileRejected || r.Reason == "" || len(r.Documents) != 0 {
				t.Errorf("%s: %s with %d documents (%q), want rejected whole with a reason", f.name, r.State, len(r.Documents), r.Reason)
			}
			continue
		}
		if r.State != store.FileParsed {
			t.Errorf("%s: %s (%s), want parsed", f.name, r.State, r.Reason)
		}
		for _, doc := range r.Documents {
			if prev, dup := seen[doc.Number]; dup {
				t.Errorf("invoice %s is in %s and again in %s (%s)", doc.Number, prev, f.name, doc.ID)
				res.duplicates++
				continue
			}
			seen[doc.Number] = f.name
			w, ok := b.want[doc.Number]
			switch {
			case !ok:
				t.Errorf("%s: invoice %q was never in the batch", f.name, doc.Number)
			case w.channel == "":
				if doc.State != store.DocRejected || doc.Reason == "" {
					t.Errorf("invoice %s has a wrong OCR: %s on %q, want rejected with a reason", doc.Number, doc.State, doc.Channel)
				}
				res.rejected++
			case doc.State != store.DocDelivered || doc.Channel != w.channel:
				t.Errorf("invoice %s: %s on %q (%s), want delivered on %s", doc.Number, doc.State, doc.Channel, doc.Reason, w.channel)
			default:
				res.delivered++
				res.byChannel[doc.Channel]++
				if doc.Channel != "print" {
					if other, dup := outputs[doc.Output]; dup || doc.Output == "" {
						t.Errorf("invoice %s: output %q, also the output of %s", doc.Number, doc.Output, other)
					}
					outputs[doc.Output] = doc.Number
				}
			}
			c := doc.Collection
			switch {
			case w.collect && (c == nil || c.State != store.PaymentScheduled || !c.AtBank):
				t.Errorf("invoice %s: collection %+v, want scheduled at the bank", doc.Number, c)
			case w.collect:
				res.collected++
				collectRefs["101/"+w.ocr] = true
			case c != nil && c.State == store.PaymentScheduled:
				t.Errorf("invoice %s is collected without a mandate: %+v", doc.Number, c)
			}
		}
	}
	if len(seen) != len(b.want) {
		t.Errorf("the receipts name %d invoices, want %d: %d lost", len(seen), len(b.want), len(b.want)-len(seen))
		res.lost += max(0, len(b.want)-len(seen))
	}
	if st.FilesOpen != 0 {
		t.Errorf("status: %d files not final", st.FilesOpen)
	}
	var total int64
	for state, k := range st.Documents {
		total += k
		if !state.End() {
			t.Errorf("status: %d documents %s", k, state)
		}
	}
	if total != int64(len(b.want)) || st.Documents[store.DocDelivered] != int64(res.delivered) {
		t.Errorf("status counts %d documents, %d delivered; the receipts %d and %d", total, st.Documents[store.DocDelivered], len(b.want), res.delivered)
	}

	// The outbox: one file per delivered document on the per-document
	// channels, each print letter in exactly one ZIP, each withdrawal in
	// exactly one payment file.
	files := outboxFiles(t, h.data, true)
	for _, ch := range []string{"peppol", "email", "sms"} {
		if got := len(files[ch]); got != res.byChannel[ch] {
			t.Errorf("outbox/%s holds %d files for %d invoices delivered there", ch, got, res.byChannel[ch])
			res.lost += max(0, res.byChannel[ch]-got)
		}
		for _, name := range files[ch] {
			// A receipt names the output by its base name, never the
			// daemon's path.
			if _, ok := outputs[name]; !ok {
				t.Errorf("outbox/%s/%s is no delivered invoice's output", ch, name)
				res.duplicates++
			}
		}
	}
	for _, ch := range []string{"efaktura", "kivra"} {
		if len(files[ch]) != 0 {
			t.Errorf("outbox/%s holds %d files; nothing was routed there", ch, len(files[ch]))
		}
	}
	letters := map[string]int{}
	for _, name := range files["print"] {
		m := readManifest(t, filepath.Join(h.data, "outbox", "print", name))
		for _, it := range m.Items {
			letters[it.Invoice]++
		}
	}
	for number, k := range letters {
		if k != 1 {
			t.Errorf("invoice %s is printed %d times", number, k)
			res.duplicates += k - 1
		}
		if w := b.want[number]; w.channel != "print" {
			t.Errorf("invoice %s is in a print batch; it is routed to %q", number, w.channel)
		}
	}
	if len(letters) != res.byChannel["print"] {
		t.Errorf("the print batches hold %d letters for %d invoices delivered on print", len(letters), res.byChannel["print"])
		res.lost += max(0, res.byChannel["print"]-len(letters))
	}
	withdrawals := map[string]int{}
	for _, name := range files["autogiro"] {
		body, err := os.ReadFile(filepath.Join(h.data, "outbox", "autogiro", name))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := ag.Parse(bytes.NewReader(body))
		if err != nil {
			t.Errorf("payment file %s does not parse: %v", name, err)
			continue
		}
		for _, rec := range parsed.Records {
			if p, ok := rec.(*ag.Payment); ok {
				withdrawals[p.PayerNumber+"/"+p.Reference]++
			}
		}
	}
	for key, k := range withdrawals {
		if k != 1 {
			t.Errorf("withdrawal %s is in %d payment files", key, k)
			res.duplicates += k - 1
		}
		if !collectRefs[key] {
			t.Errorf("withdrawal %s is no collected invoice's", key)
		}
	}
	if len(withdrawals) != res.collected {
		t.Errorf("the payment files (%d) hold %d withdrawals for %d invoices collected", len(files["autogiro"]), len(withdrawals), res.collected)
		res.lost += max(0, res.collected-len(withdrawals))
	}

	var valid int
	for _, w := range b.want {
		if w.channel != "" {
			valid++
		}
	}
	if res.delivered != valid {
		t.Errorf("%d invoices delivered, want every valid one: %d", res.delivered, valid)
	}
	h.checkNoTemporaryFiles()
	return res
}

func readManifest(t *testing.T, path string) paper.Manifest {
	t.Helper()
	var m paper.Manifest
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Errorf("print batch %s: %v", filepath.Base(path), err)
		return m
	}
	defer zr.Close()
	f, err := zr.Open("manifest.json")
	if err != nil {
		t.Errorf("print batch %s: %v", filepath.Base(path), err)
		return m
	}
	defer f.Close()
	body, _ := io.ReadAll(f)
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("print batch %s: manifest.json: %v", filepath.Base(path), err)
	}
	return m
}

// checkNoTemporaryFiles walks the data dir after the clean stop: hidden
// names are files half written when a kill came, and must be gone.
func (h *harness) checkNoTemporaryFiles() {
	var left []string
	filepath.WalkDir(h.data, func(path string, e fs.DirEntry, err error) error {
		if err == nil && path != h.data && strings.HasPrefix(e.Name(), ".") {
			rel, _ := filepath.Rel(h.data, path)
			left = append(left, rel)
		}
		return nil
	})
	entries, _ := os.ReadDir(h.inbox())
	for _, e := range entries {
		left = append(left, "inbox: "+e.Name())
	}
	sort.Strings(left)
	if len(left) > 0 {
		h.t.Errorf("%d temporary or unclaimed files left after the clean stop: %s", len(left), strings.Join(left, ", "))
	}
}

// A damaged store (a disk error, a bad restore) stops the daemon at start
// with a message naming the file and what to do, not a panic.
func TestCorruptStoreStopsWithMessage(t *testing.T) {
	src, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		// damage overwrites parts of the store of size bytes.
		damage func(f *os.File, size int64) error
	}{
		{"both meta pages overwritten", func(f *os.File, _ int64) error {
			_, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 8192), 0)
			return err
		}},
		{"every page header after the meta pages overwritten", func(f *os.File, size int64) error {
			for off := int64(8 << 10); off < size; off += 4 << 10 {
				if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 16), off); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := t.TempDir()
			d := startDaemon(t, data)
			os.WriteFile(filepath.Join(d.inbox(), "invoices.csv"), src, 0o644)
			waitFinal(t, data, "invoices.csv", 30*time.Second)
			d.stop()
			db := filepath.Join(data, "state.db")
			fi, err := os.Stat(db)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(db, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.damage(f, fi.Size()); err != nil {
				t.Fatal(err)
			}
			f.Close()
			out, err := exec.Command(binary, "serve", "--data", data, "--http", "127.0.0.1:0", "--sftp", "127.0.0.1:0", "--public", "127.0.0.1:0").CombinedOutput()
			if code := exitCode(err); code != 1 || !strings.Contains(string(out), "state.db") || strings.Contains(string(out), "goroutine ") {
				t.Errorf("serve on a damaged store: exit %d, output:\n%s\nwant exit 1 with a message naming state.db, no panic", code, tail(string(out), 1500))
			}
		})
	}
}
