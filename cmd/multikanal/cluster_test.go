package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store/postgres"
	"github.com/multikanal/multikanal/gateway/store/postgres/pgtest"
)

// TestClusterSurvivesSIGKILL runs three nodes of the real binary on one
// PostgreSQL (started by the test, as an unprivileged user), drops the
// crash harness's invoice files into every node's inbox, and SIGKILLs one
// node while its files are being read and sent. The two survivors take
// its work over once its lease runs out, and in the end every invoice is
// delivered once (outputs counted by their idempotency keys, the print
// letters and AutoGiro withdrawals in exactly one batch file each), every
// receipt is final, and the receipts fetched over SFTP from a survivor say
// so. The nodes share one SSH host key and one outbox folder, as a
// deployment behind a TCP load balancer with a shared pickup folder does.
// At the end the killed node starts again and finds nothing left to do.
//
// With more kills, the rest of the files arrive in waves at random nodes,
// and random nodes are killed and started again, dead or alive, at random
// moments; at the end every node runs again.
//
//	MULTIKANAL_CLUSTER_INVOICES  invoices (default 600; make test-cluster runs more)
//	MULTIKANAL_CLUSTER_KILLS     SIGKILLs (default 1)
//	MULTIKANAL_CLUSTER_SEED      the random seed, to repeat a run
func TestClusterSurvivesSIGKILL(t *testing.T) {
	advice, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfiler_medgivandeavisering_sv.txt"))
	if err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	for _, tool := range []string{"sftp", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("OpenSSH's %s is not installed (apt-get install openssh-client)", tool)
		}
	}
	dsn := pgtest.DSN(t)
	n := envInt(t, "MULTIKANAL_CLUSTER_INVOICES", 600)
	kills := max(envInt(t, "MULTIKANAL_CLUSTER_KILLS", 1), 1)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MULTIKANAL_CLUSTER_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("MULTIKANAL_CLUSTER_SEED=%q: %v", s, err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x636c7573746572))
	t.Logf("cluster: %d invoices, %d kills, seed %d", n, kills, seed)
	start := time.Now()
	root := t.TempDir()
	c := newCluster(t, root, dsn, 3, 100)
	defer c.keepLogsOnFailure()

	// Start one node first: it migrates the empty database.
	c.start(0)
	c.start(1)
	c.start(2)
	var infos []api.Info
	for i := range c.nodes {
		infos = append(infos, c.info(i))
	}
	for i, info := range infos {
		if info.SFTPHostKey != infos[0].SFTPHostKey {
			t.Errorf("node %d's host key %s, node 1's %s: the nodes share one", i+1, info.SFTPHostKey, infos[0].SFTPHostKey)
		}
	}

	// The mandates first, so payer 101 is collectable when the invoices come.
	c.h(0).dropFile("medgivandeavisering.txt", advice)
	c.h(2).waitFinal([]string{"medgivandeavisering.txt"}, time.Minute)

	// The first wave: node 2 gets its largest files; the others the rest.
	b := newCrashBatch(n, 9*kills)
	first, later := b.files, []crashFile(nil)
	if kills > 1 {
		first, later = b.files[:len(b.files)/2], b.files[len(b.files)/2:]
	}
	victim := 1
	var onVictim []string
	for i, f := range first {
		k := []int{0, 2}[i%2]
		if i >= len(first)-4 {
			k = victim
			onVictim = append(onVictim, f.name)
		}
		c.h(k).dropFile(f.name, f.body)
	}
	all := b.names()
	for _, h := range c.harnesses() {
		h.dropped = all
	}
	// SIGKILL once the victim has stored what it claimed (its inbox and
	// spool are empty: the files are in PostgreSQL) while its work is not
	// done.
	waitFor(t, time.Minute, "node 2 to claim its files", func() bool {
		return emptyDir(c.h(victim).inbox()) && emptyDir(filepath.Join(c.dirs[victim], "spool"))
	})
	open := c.h(2).notFinal(onVictim)
	killed := time.Now()
	c.nodes[victim].kill()
	t.Logf("SIGKILL node 2 with %d of its %d files not final (%d of %d in all)", open, len(onVictim), c.h(2).notFinal(all), len(all))

	// A survivor takes the work over once the lease runs out.
	var took time.Duration
	waitFor(t, time.Minute, "a survivor to take node 2's work over", func() bool {
		for _, i := range []int{0, 2} {
			if strings.Contains(c.nodes[i].out.String(), "took over the work of a node") {
				took = time.Since(killed)
				return true
			}
		}
		return false
	})
	// More kills: waves of files at random nodes, random nodes killed and
	// started again.
	dead := map[int]bool{victim: true}
	perWave := 0
	if kills > 1 {
		perWave = (len(later) + kills - 2) / (kills - 1)
	}
	for k := 1; k < kills; k++ {
		wave := later[:min(len(later), perWave)]
		later = later[len(wave):]
		for _, f := range wave {
			c.h(rng.IntN(len(c.nodes))).dropFile(f.name, f.body)
		}
		time.Sleep(time.Duration(200+rng.IntN(2500)) * time.Millisecond)
		i := rng.IntN(len(c.nodes))
		if dead[i] {
			c.start(i)
			delete(dead, i)
			t.Logf("kill %d: node %d started again", k+1, i+1)
			continue
		}
		if len(dead) == len(c.nodes)-1 {
			continue // one node always runs
		}
		c.nodes[i].kill()
		dead[i] = true
		t.Logf("kill %d: SIGKILL node %d (%d of %d files not final)", k+1, i+1, c.h(2).notFinal(all), len(all))
	}
	// Every node runs again but, with one kill, the first victim: the
	// survivors alone finish its work. (A node dead at the end may hold
	// files dropped into its inbox meanwhile, which only it can claim.)
	for i := range c.nodes {
		if dead[i] && (i != victim || kills > 1) {
			c.start(i)
			delete(dead, i)
		}
	}
	limit := 2*time.Minute + time.Duration(n)*100*time.Millisecond
	c.h(2).waitFinal(all, limit)
	final := time.Since(killed)
	c.h(0).waitFinal(all, time.Minute) // every node writes every receipt

	// Every receipt, fetched over SFTP from a survivor, is final.
	fetched := c.fetchReceipts(0, c.info(0)) // a restart takes a new port
	for _, name := range append(all, "medgivandeavisering.txt") {
		r, ok := fetched[name]
		if !ok || !r.Final {
			t.Errorf("%s: receipt over SFTP from node 1: %v, final %v", name, ok, ok && r.Final)
		}
	}
	// The killed node comes back: its work was done elsewhere, so it
	// sends nothing again (the check below counts), and its start removes
	// the temporary file it may have left half written in the outbox.
	if dead[victim] {
		c.start(victim)
	}
	st := c.h(2).status()
	for _, d := range c.nodes {
		d.stop()
	}

	got := c.h(2).check(b, st)
	t.Logf("cluster: 3 nodes, node 2 SIGKILLed with %d of its files open; taken over %v after the kill, all final %v after it; "+
		"%d invoices in %d files: %d delivered (%v), %d collected, %d rejected; lost %d, duplicates %d; %v in all",
		open, took.Round(10*time.Millisecond), final.Round(10*time.Millisecond), n, len(b.files), got.delivered, got.byChannel,
		got.collected, got.rejected, got.lost, got.duplicates, time.Since(start).Round(time.Second))
}

// cluster is nodes of the real binary, each with its data directory and
// configuration, on one database.
type cluster struct {
	t     *testing.T
	root  string
	dirs  []string
	cfgs  []string
	nodes []*daemon
	key   string // the tenant's SFTP client key
}

// newCluster writes every node's configuration: one tenant (the crash
// batch's seller), spool transports into one shared outbox, the SMS
// channel paced to smsRate a second (0: not paced) so that sending takes
// a while, and a short lease. Without a dsn the one node runs on bbolt.
func newCluster(t *testing.T, root, dsn string, n int, smsRate int) *cluster {
	c := &cluster{t: t, root: root}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "pg.dsn"), []byte(dsn+"\n"), 0o600))
	must(os.WriteFile(filepath.Join(root, "seal"), []byte(ag.TestSealKey+"\n"), 0o600))
	c.key = filepath.Join(root, "client")
	hostKey := filepath.Join(root, "hostkey")
	for _, k := range []string{c.key, hostKey} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	hostKeyPEM, err := os.ReadFile(hostKey)
	must(err)
	outbox := filepath.Join(root, "outbox")
	must(os.MkdirAll(outbox, 0o750))
	for i := range n {
		data := filepath.Join(root, fmt.Sprintf("node%d", i+1))
		must(os.MkdirAll(filepath.Join(data, "hostkeys"), 0o700))
		must(os.WriteFile(filepath.Join(data, "hostkeys", "ssh_host_ed25519_key"), hostKeyPEM, 0o600))
		must(os.Symlink(outbox, filepath.Join(data, "outbox")))
		storeTable := fmt.Sprintf(`[store]
driver = "postgres"
dsn_file = %q
node = "node%d"
lease = "3s"
migrate = true
`, filepath.Join(root, "pg.dsn"), i+1)
		if dsn == "" {
			storeTable = ""
		}
		pace := fmt.Sprintf("rate_limit = %d\n", smsRate)
		if smsRate == 0 {
			pace = ""
		}
		cfg := fmt.Sprintf(`data_dir = %q

[sftp]
listen = "127.0.0.1:0"

[http]
listen = "127.0.0.1:0"

[public]
listen = "127.0.0.1:0"

%s
[[tenant]]
id = "demo"
name = "Multikanal Demo Energi AB"
orgnr = "556612-3450"
bankgiro = "991-2346"
priority = ["peppol", "efaktura", "kivra", "email", "sms", "print"]
sftp_authorized_keys = %q

[tenant.autogiro]
customer_number = "471117"
bankgiro = "991-2346"
seal_key_file = %q
test = true

[channel.efaktura]
transport = "spool"
cutoff = { end_of_file = true }

[channel.autogiro]
transport = "spool"
cutoff = { end_of_file = true }

[channel.print]
transport = "spool"
cutoff = { end_of_file = true }

[channel.sms]
transport = "spool"
%s`, data, storeTable, c.key+".pub", filepath.Join(root, "seal"), pace)
		path := filepath.Join(root, fmt.Sprintf("node%d.toml", i+1))
		must(os.WriteFile(path, []byte(cfg), 0o600))
		c.dirs, c.cfgs = append(c.dirs, data), append(c.cfgs, path)
	}
	c.nodes = make([]*daemon, n)
	return c
}

// start starts node i and waits until it is ready.
func (c *cluster) start(i int) {
	c.t.Helper()
	os.Remove(filepath.Join(c.dirs[i], "daemon.json"))
	d := &daemon{t: c.t, data: c.dirs[i], out: &syncBuffer{}}
	d.cmd = exec.Command(binary, "serve", "--config", c.cfgs[i], "--http", "127.0.0.1:0", "--sftp", "127.0.0.1:0", "--public", "127.0.0.1:0")
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(d.kill)
	c.nodes[i] = d
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(c.dirs[i], "daemon.json")); err == nil {
			return
		}
		if time.Now().After(deadline) || d.cmd.ProcessState != nil {
			c.t.Fatalf("node %d was not ready within a minute:\n%s", i+1, tail(d.out.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cluster) info(i int) api.Info {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dirs[i], "daemon.json"))
	if err != nil {
		c.t.Fatal(err)
	}
	var info api.Info
	if err := json.Unmarshal(b, &info); err != nil {
		c.t.Fatal(err)
	}
	return info
}

// h is a crash harness over node i's data directory: its inbox, its
// receipts folder, the shared outbox, its status.
func (c *cluster) h(i int) *harness { return &harness{t: c.t, data: c.dirs[i], runs: c.nodes} }

func (c *cluster) harnesses() []*harness {
	var out []*harness
	for i := range c.nodes {
		out = append(out, c.h(i))
	}
	return out
}

// fetchReceipts gets every receipt over SFTP from node i, with OpenSSH's
// client, checking the host key every node shares.
func (c *cluster) fetchReceipts(i int, info api.Info) map[string]*api.Receipt {
	c.t.Helper()
	dir := c.t.TempDir()
	host, port, _ := strings.Cut(info.SFTP, ":")
	knownHosts := filepath.Join(c.root, "known_hosts")
	pub, err := os.ReadFile(filepath.Join(c.root, "hostkey.pub"))
	if err != nil {
		c.t.Fatal(err)
	}
	os.WriteFile(knownHosts, []byte(fmt.Sprintf("[%s]:%s %s", host, port, pub)), 0o600)
	batch := filepath.Join(dir, "batch")
	os.WriteFile(batch, []byte("get /receipts/* "+dir+"/\n"), 0o600)
	out, err := exec.Command("sftp", "-b", batch, "-o", "BatchMode=yes", "-o", "UserKnownHostsFile="+knownHosts, "-o", "StrictHostKeyChecking=yes",
		"-i", c.key, "-P", port, "demo@"+host).CombinedOutput()
	if err != nil {
		c.t.Fatalf("sftp get /receipts/* from node %d: %v\n%s", i+1, err, out)
	}
	got := map[string]*api.Receipt{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".receipt.json")
		if !ok {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		var r api.Receipt
		if err := json.Unmarshal(b, &r); err != nil {
			c.t.Errorf("receipt %s over SFTP: %v", e.Name(), err)
			continue
		}
		got[name] = &r
	}
	return got
}

func (c *cluster) keepLogsOnFailure() {
	if !c.t.Failed() {
		return
	}
	for i, d := range c.nodes {
		if d == nil {
			continue
		}
		name := filepath.Join(os.TempDir(), fmt.Sprintf("multikanal-cluster-node%d.log", i+1))
		if err := os.WriteFile(name, []byte(d.out.String()), 0o644); err == nil {
			c.t.Logf("node %d's output (its last run) is in %s", i+1, name)
		}
	}
}

func emptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// `multikanal migrate` brings an empty database's schema up to date, says
// so, leaves an up-to-date one alone, and refuses a bbolt configuration;
// `check` says which store a configuration chose.
func TestMigrateCommand(t *testing.T) {
	dsn := pgtest.DSN(t)
	root := t.TempDir()
	c := newCluster(t, root, dsn, 1, 0)
	run := func(args ...string) (string, int) {
		out, err := exec.Command(binary, args...).CombinedOutput()
		return string(out), exitCode(err)
	}
	if out, code := run("check", "--config", c.cfgs[0]); code != 0 || !strings.Contains(out, "store    postgres (node node1, lease 3s") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	v := postgres.SchemaVersion()
	if out, code := run("migrate", "--config", c.cfgs[0]); code != 0 || !strings.Contains(out, "applied 0001_store.sql") ||
		!strings.Contains(out, "applied 0002_dunning_eventlog.sql") || !strings.Contains(out, fmt.Sprintf("the schema is at version %d", v)) {
		t.Errorf("first migrate: exit %d\n%s", code, out)
	}
	if out, code := run("migrate", "--config", c.cfgs[0]); code != 0 || !strings.Contains(out, fmt.Sprintf("the schema is up to date (version %d)", v)) {
		t.Errorf("second migrate: exit %d\n%s", code, out)
	}
	bolt := newCluster(t, t.TempDir(), "", 1, 0)
	if out, code := run("migrate", "--config", bolt.cfgs[0]); code != 1 || !strings.Contains(out, `driver is "bolt"`) {
		t.Errorf("migrate on bbolt: exit %d\n%s", code, out)
	}
}
