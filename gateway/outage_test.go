package gateway

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/multikanal/multikanal/config"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/gateway/sftpd/sftpdtest"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/paper"
)

// These tests take a receiver away for a while, or make it refuse, and
// check that every invoice is delivered exactly once when it is back.

// exampleBatch is a CSV of n copies of one invoice of examples/invoices.csv,
// each with its own number 2025-8000, 2025-8001, ...
func exampleBatch(t *testing.T, number string, n int) []byte {
	t.Helper()
	src, err := os.ReadFile("../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	var rows []string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "invoice;"+number+";") {
			rows = append(rows, l)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("examples/invoices.csv has no invoice %s", number)
	}
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for i := range n {
		for _, r := range rows {
			b.WriteString(strings.Replace(r, number, batchNumber(i), 1) + "\n")
		}
	}
	return b.Bytes()
}

func batchNumber(i int) string { return fmt.Sprintf("2025-8%03d", i) }

// waitFinalReceipt waits up to limit for the file's receipt to be final.
func waitFinalReceipt(t *testing.T, d *Daemon, fileID string, limit time.Duration) *api.Receipt {
	t.Helper()
	var r *api.Receipt
	deadline := time.Now().Add(limit)
	for {
		var err error
		r, err = receipts.Build(d.store, fileID)
		if err == nil && r.Final {
			return r
		}
		if time.Now().After(deadline) {
			if r != nil {
				t.Fatalf("receipt of %s not final after %v: %s %v", fileID, limit, r.State, r.Summary)
			}
			t.Fatalf("no receipt of %s after %v: %v", fileID, limit, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// allDelivered fails unless every document of the receipt is delivered on
// the channel.
func allDelivered(t *testing.T, r *api.Receipt, n int, channel string) {
	t.Helper()
	if len(r.Documents) != n || r.Summary[string(store.DocDelivered)] != n {
		t.Fatalf("receipt: %d documents, summary %v; want %d delivered", len(r.Documents), r.Summary, n)
	}
	for _, doc := range r.Documents {
		if doc.Channel != channel {
			t.Errorf("%s delivered on %s, want %s (%s)", doc.Number, doc.Channel, channel, doc.Reason)
		}
	}
}

// kivraFake is just enough of Kivra's sender API: the token endpoint, the
// content endpoint and usermatch. Content requests are answered from a
// script of statuses (429 with Retry-After: 1, then 500s), then accepted.
type kivraFake struct {
	t      *testing.T
	tenant string
	mu     sync.Mutex
	script []int
	// tries is every content request by subject, in order.
	tries    map[string][]kivraTry
	accepted map[string]int
	tokens   int
}

type kivraTry struct {
	at     time.Time
	status int
}

func (k *kivraFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/auth":
		id, secret, ok := r.BasicAuth()
		if !ok || id != "multikanal-test" || secret != "s3cret" || r.FormValue("grant_type") != "client_credentials" {
			http.Error(w, `{"code": 40100, "short_message": "Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		k.mu.Lock()
		k.tokens++
		k.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token": "token-1", "expires_in": 3600, "token_type": "bearer"}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v2/tenant/"+k.tenant+"/usermatch/ssn":
		var in struct {
			List []string `json:"list"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(in)
	case r.Method == http.MethodPost && r.URL.Path == "/v2/tenant/"+k.tenant+"/content":
		if r.Header.Get("Authorization") != "Bearer token-1" {
			http.Error(w, `{"code": 40100, "short_message": "Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var c struct {
			SSN     string `json:"ssn"`
			Subject string `json:"subject"`
			Type    string `json:"type"`
			Parts   []struct {
				Data string `json:"data"`
			} `json:"parts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.SSN == "" || c.Subject == "" || len(c.Parts) != 1 || c.Type != "invoice" {
			k.t.Errorf("Kivra got a content request it would refuse: %+v (%v)", c, err)
			http.Error(w, `{"code": 40000, "short_message": "Bad Request"}`, http.StatusBadRequest)
			return
		}
		k.mu.Lock()
		status := http.StatusCreated
		if len(k.script) > 0 {
			status, k.script = k.script[0], k.script[1:]
		}
		k.tries[c.Subject] = append(k.tries[c.Subject], kivraTry{time.Now(), status})
		if status == http.StatusCreated {
			k.accepted[c.Subject]++
		}
		n := len(k.tries[c.Subject])
		k.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch status {
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			io.WriteString(w, `{"code": 42900, "short_message": "Too Many Requests", "long_message": "Please try again later"}`)
		case http.StatusCreated:
			w.Header().Set("kivra-objkey", fmt.Sprintf("%x%02d", len(c.Subject), n))
			w.WriteHeader(status)
		default:
			w.WriteHeader(status)
			io.WriteString(w, `{"code": 50000, "short_message": "Internal Server Error"}`)
		}
	default:
		http.NotFound(w, r)
	}
}

// Kivra answers 429 with Retry-After, then 500s, then accepts: every
// invoice is delivered once, and the invoice that got the 429 is not tried
// again before the second Kivra asked for.
func TestKivraRateLimitedThenErrorsThenRecovers(t *testing.T) {
	const n = 8
	fake := &kivraFake{t: t, tenant: "tenant-1",
		script: []int{429, 500, 500, 500, 500, 500}, tries: map[string][]kivraTry{}, accepted: map[string]int{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	secret := filepath.Join(t.TempDir(), "kivra-secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startTestDaemon(t, func(c *config.Config) {
		setTransport(c, "kivra", "api", outbound.Settings{"base_url": srv.URL, "client_id": "multikanal-test", "client_secret_file": secret, "tenant_key": "tenant-1"})
		c.Delivery.MaxAttempts = 50
	}, nil)
	rows, err := recipients.Parse(strings.NewReader("key;channel\npnr:198112189876;kivra\n"), time.Now(), registry.RecipientChannels(d.live.Load()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.registry.Import("demo", "outage test", rows); err != nil {
		t.Fatal(err)
	}
	drop(t, d, "kivra.csv", exampleBatch(t, "2025-1004", n))
	r := waitFinalReceipt(t, d, "F0000001", 20*time.Second)
	allDelivered(t, r, n, "kivra")

	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.script) != 0 {
		t.Errorf("%d scripted refusals were never asked for", len(fake.script))
	}
	refused := 0
	for i := range n {
		subject := "Faktura " + batchNumber(i)
		if got := fake.accepted[subject]; got != 1 {
			t.Errorf("%s: Kivra accepted it %d times, want once", subject, got)
		}
		tries := fake.tries[subject]
		for j, try := range tries {
			if try.status == http.StatusCreated {
				if j != len(tries)-1 {
					t.Errorf("%s: tried again after Kivra accepted it: %+v", subject, tries)
				}
				continue
			}
			refused++
			if j+1 >= len(tries) {
				t.Errorf("%s: never tried again after %d", subject, try.status)
				continue
			}
			gap := tries[j+1].at.Sub(try.at)
			if try.status == http.StatusTooManyRequests {
				if gap < time.Second {
					t.Errorf("%s: tried again %v after a 429 with Retry-After: 1", subject, gap)
				}
				t.Logf("%s: 429 with Retry-After: 1, next attempt %v later", subject, gap.Round(time.Millisecond))
			}
		}
	}
	if refused != 6 || fake.tokens != 1 {
		t.Errorf("%d refused content requests (want 6), %d token requests (want 1)", refused, fake.tokens)
	}
}

// The print house's SFTP server refuses our key for a while (its
// authorized_keys lacks it), then is fixed: the batch is retried and lands
// exactly once.
func TestBankSFTPRefusesLoginsThenAccepts(t *testing.T) {
	const n = 6
	dir := t.TempDir()
	keyPath, line, err := sftpd.EnsureClientKey(filepath.Join(dir, "keys"), "multikanal")
	if err != nil {
		t.Fatal(err)
	}
	_, otherLine, err := sftpd.EnsureClientKey(filepath.Join(dir, "other"), "someone-else")
	if err != nil {
		t.Fatal(err)
	}
	wrong, right := filepath.Join(dir, "wrong_keys"), filepath.Join(dir, "authorized_keys")
	os.WriteFile(wrong, []byte(otherLine+"\n"), 0o644)
	os.WriteFile(right, []byte(line+"\n"), 0o644)
	tenant := sftpd.Tenant{ID: "printhouse", InboxDir: filepath.Join(dir, "incoming"), ReceiptsDir: filepath.Join(dir, "receipts"),
		AuthorizedKeysFile: wrong}
	os.MkdirAll(tenant.InboxDir, 0o755)
	os.MkdirAll(tenant.ReceiptsDir, 0o755)
	srv, addr := sftpdtest.Start(t, sftpd.Options{HostKeyDir: filepath.Join(dir, "hostkeys"), MinFreeDisk: -1}, tenant)
	knownHosts := filepath.Join(dir, "known_hosts")
	if err := sftpd.WriteKnownHosts(knownHosts, addr, srv.HostKey()); err != nil {
		t.Fatal(err)
	}
	d := startTestDaemon(t, func(c *config.Config) {
		setTransport(c, "print", "sftp", outbound.Settings{"addr": addr, "username": "printhouse", "key_file": keyPath, "known_hosts": knownHosts, "remote_dir": "/inbox"})
		c.Delivery.MaxAttempts = 1000
		c.Delivery.BackoffMin = config.Duration(20 * time.Millisecond)
		c.Delivery.BackoffMax = config.Duration(100 * time.Millisecond)
	}, nil)
	drop(t, d, "print.csv", exampleBatch(t, "2025-1008", n))

	// Refused for a second at least, and until the batch has been tried a
	// few times.
	start := time.Now()
	var b *store.Batch
	waitUntil(t, func() bool {
		d.store.View(func(tx store.Tx) error {
			return tx.ForEachBatch(func(x *store.Batch) error { b = x; return nil })
		})
		return b != nil && b.Attempts >= 5 && time.Since(start) > time.Second
	})
	if b.State != store.DeliveryRetrying || !strings.Contains(b.LastError, "login refused") {
		t.Fatalf("batch after %d refused logins: %s (%s), want retrying after a login refusal", b.Attempts, b.State, b.LastError)
	}
	if r, _ := receipts.Build(d.store, "F0000001"); r.Final || r.Summary[string(store.DocRetrying)] != n {
		t.Fatalf("while refused: receipt final %v, summary %v; want %d retrying", r.Final, r.Summary, n)
	}
	tenant.AuthorizedKeysFile = right
	if err := srv.SetTenants([]sftpd.Tenant{tenant}); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(start)
	r := waitFinalReceipt(t, d, "F0000001", 20*time.Second)
	allDelivered(t, r, n, "print")

	entries, err := os.ReadDir(tenant.InboxDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".zip") {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("the print house holds %q, want one ZIP", names)
	}
	m := zipManifest(t, filepath.Join(tenant.InboxDir, entries[0].Name()))
	letters := map[string]int{}
	for _, it := range m.Items {
		letters[it.Invoice]++
	}
	for i := range n {
		if letters[batchNumber(i)] != 1 {
			t.Errorf("%s is in the print batch %d times, want once", batchNumber(i), letters[batchNumber(i)])
		}
	}
	d.store.View(func(tx store.Tx) (err error) { b, err = tx.Batch(b.ID); return })
	t.Logf("print batch %s: refused for %v, delivered on attempt %d; %d letters, each once", b.ID, outage.Round(time.Millisecond), b.Attempts, len(m.Items))
}

func zipManifest(t *testing.T, path string) paper.Manifest {
	t.Helper()
	var m paper.Manifest
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := json.NewDecoder(f).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The Peppol access point's drop folder is on a disk that fills up: sends
// fail with ENOSPC and are retried, nothing is lost; when the disk grows
// every invoice is delivered once. It needs root to mount a tmpfs.
func TestDiskFullThenGrows(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("disk full needs root to mount a small tmpfs; skipped as a non-root user")
	}
	const n = 40
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a 2 MiB tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	// Fill the disk but for room for a few invoices.
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, max(0, free-48<<10)), 0o600); err != nil {
		t.Fatalf("filling the tmpfs: %v", err)
	}
	out := filepath.Join(dir, "ap")
	d := startTestDaemon(t, func(c *config.Config) {
		setTransport(c, "peppol", "folder", outbound.Settings{"dir": out})
		c.Delivery.MaxAttempts = 100000
		c.Delivery.BackoffMin = config.Duration(20 * time.Millisecond)
		c.Delivery.BackoffMax = config.Duration(100 * time.Millisecond)
	}, nil)
	drop(t, d, "peppol.csv", exampleBatch(t, "2025-1001", n))

	start := time.Now()
	var r *api.Receipt
	waitUntil(t, func() bool {
		r, _ = receipts.Build(d.store, "F0000001")
		return r != nil && r.Summary[string(store.DocRetrying)] > 0 && r.Summary[string(store.DocQueued)] == 0 &&
			r.Summary[string(store.DocRetrying)]+r.Summary[string(store.DocDelivered)] == n
	})
	full := 0
	for _, doc := range r.Documents {
		if doc.State == api.DocRetrying {
			full++
			if !strings.Contains(doc.Reason, "no space left on device") {
				t.Errorf("%s retrying for another reason: %s", doc.Number, doc.Reason)
			}
		}
	}
	before := r.Summary[string(store.DocDelivered)]
	time.Sleep(300 * time.Millisecond) // a few more failed rounds
	if r, _ := receipts.Build(d.store, "F0000001"); r.Summary[string(store.DocDelivered)] != before || r.Summary[string(store.DocFailed)] != 0 {
		t.Fatalf("while the disk is full: %v", r.Summary)
	}
	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount bigger: %v: %s", err, out)
	}
	outage := time.Since(start)
	r = waitFinalReceipt(t, d, "F0000001", 20*time.Second)
	allDelivered(t, r, n, "peppol")
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left in the drop folder: %s", e.Name())
		}
	}
	if len(entries) != n {
		t.Errorf("the drop folder holds %d files for %d invoices: %q", len(entries), n, names)
	}
	t.Logf("disk full for %v: %d of %d invoices delivered before, %d retrying; all %d delivered once after the remount",
		outage.Round(time.Millisecond), before, n, full, n)
}

// Two AutoGiro batches cut close together must reach the bank as two
// files. Bankgirot's dataset name has a resolution of one second
// (BFEP.IAGAG.K0<customer>.D<date>.T<time>); two batches of one tenant cut
// in the same second used to get the same name, and the second overwrote the
// first: its withdrawals were lost while the receipts said "submitted".
func TestAutoGiroPaymentFilesCutInOneSecond(t *testing.T) {
	advice, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	d := startTestDaemon(t, nil, nil)
	drop(t, d, "medav.txt", advice)
	waitFinalReceipt(t, d, "F0000001", 20*time.Second)
	// Invoice 2025-1005 names its payer number; payer 101 has a mandate.
	body := strings.ReplaceAll(string(exampleBatch(t, "2025-1005", 1)), ";10053;", ";101;")
	drop(t, d, "ag-1.csv", []byte(body))
	drop(t, d, "ag-2.csv", []byte(strings.Replace(body, batchNumber(0), batchNumber(1), 1)))
	for _, id := range []string{"F0000002", "F0000003"} {
		r := waitFinalReceipt(t, d, id, 20*time.Second)
		if c := r.Documents[0].Collection; c == nil || c.State != api.PaymentScheduled || !c.AtBank {
			t.Fatalf("%s: collection %+v, want submitted", id, c)
		}
	}
	var created []time.Time
	d.store.View(func(tx store.Tx) error {
		return tx.ForEachBatch(func(b *store.Batch) error {
			if b.Channel == "autogiro" {
				created = append(created, b.Created)
			}
			return nil
		})
	})
	if len(created) != 2 {
		t.Fatalf("%d AutoGiro batches, want 2 (one per input file)", len(created))
	}
	files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "autogiro", "BFEP.*"))
	payments := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := ag.Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		for _, rec := range parsed.Records {
			if _, ok := rec.(*ag.Payment); ok {
				payments++
			}
		}
	}
	if len(files) != 2 || payments != 2 {
		t.Errorf("two AutoGiro batches (cut %v and %v) left %d payment file(s) with %d withdrawals, want 2 and 2: %q",
			created[0], created[1], len(files), payments, files)
	}
}
