package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound/paper"
)

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
func (h *harness) check(b *crashBatch, st *api.Status) crashResult {
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
			if r.State != api.FileRejected || r.Reason == "" || len(r.Documents) != 0 {
				t.Errorf("%s: %s with %d documents (%q), want rejected whole with a reason", f.name, r.State, len(r.Documents), r.Reason)
			}
			continue
		}
		if r.State != api.FileParsed {
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
				if doc.State != api.DocRejected || doc.Reason == "" {
					t.Errorf("invoice %s has a wrong OCR: %s on %q, want rejected with a reason", doc.Number, doc.State, doc.Channel)
				}
				res.rejected++
			case doc.State != api.DocDelivered || doc.Channel != w.channel:
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
			case w.collect && (c == nil || c.State != api.PaymentScheduled || !c.AtBank):
				t.Errorf("invoice %s: collection %+v, want scheduled at the bank", doc.Number, c)
			case w.collect:
				res.collected++
				collectRefs["101/"+w.ocr] = true
			case c != nil && c.State == api.PaymentScheduled:
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
		if !store.DocState(state).End() {
			t.Errorf("status: %d documents %s", k, state)
		}
	}
	if total != int64(len(b.want)) || st.Documents[api.DocDelivered] != int64(res.delivered) {
		t.Errorf("status counts %d documents, %d delivered; the receipts %d and %d", total, st.Documents[api.DocDelivered], len(b.want), res.delivered)
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
