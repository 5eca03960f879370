package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/hooks"
	"github.com/multikanal/multikanal/gateway/store/postgres/pgtest"
)

// Two nodes of the real binary on one PostgreSQL run the schedules as one
// node does: the reminder the daily schedule decides for an unpaid,
// overdue invoice is made once (one reminder e-mail in the shared outbox),
// and every event of the tenant's log reaches its webhook once, not once
// per node. The invoice is delivered by node 1 alone first; then both
// nodes start with the tenant's reminders due at 00:00 (so the day's run
// is due at once) and its webhook on a test server that answers slowly,
// so that two nodes posting the same events would overlap. Then the
// leader is SIGKILLed: the other node leads, posts the next invoice's
// event and no earlier one again, and does not make the day's reminders
// a second time.
func TestClusterRemindsOnceAndPostsOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	root := t.TempDir()
	c := newCluster(t, root, dsn, 2, 0)
	defer c.keepLogsOnFailure()

	c.start(0)
	ocr := "2025600" + string(formats.LuhnDigit("2025600"))
	r := dropFile(t, c.nodes[0], "overdue.csv", overdueCSV(t, "2025-6001", ocr, 30))
	if len(r.Documents) != 1 || r.Documents[0].State != api.DocDelivered || r.Documents[0].Channel != "email" {
		t.Fatalf("the invoice: %+v", r.Documents)
	}
	c.nodes[0].stop()
	invoices := []string{r.Documents[0].ID}

	var mu sync.Mutex
	posts := map[string]int{} // Multikanal-Delivery -> posts
	types := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		id := req.Header.Get(hooks.HeaderDelivery)
		posts[id]++
		types[id] = req.Header.Get(hooks.HeaderEvent)
		mu.Unlock()
	}))
	defer srv.Close()
	secret := filepath.Join(root, "webhook.key")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	schedules := `
[tenant.reminders]
after = "10d"
max = 1
pay_within = "10d"
at = "00:00"

[tenant.webhook]
url = "` + srv.URL + `/events"
secret_file = "` + secret + `"
`
	for _, path := range c.cfgs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg := strings.Replace(string(b), "\n[channel.efaktura]", schedules+"\n[channel.efaktura]", 1)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.start(0)
	c.start(1)

	reminderMails := func() []string {
		var out []string
		for _, f := range outboxFiles(t, c.dirs[0], false)["email"] {
			if !slices.ContainsFunc(invoices, func(id string) bool { return strings.HasPrefix(f, id+".") }) {
				out = append(out, f)
			}
		}
		return out
	}
	waitFor(t, 2*time.Minute, "the reminder's e-mail", func() bool { return len(reminderMails()) > 0 })
	// The log: the invoice delivered, reminded, the reminder delivered.
	waitFor(t, 2*time.Minute, "three events posted", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(posts) >= 3
	})
	// Long enough for a second node's timer (run at its start) and webhook
	// (every second) to have done the same again, were they running.
	time.Sleep(15 * time.Second)

	leader := -1
	for i, d := range c.nodes {
		if strings.Contains(d.out.String(), "this node leads the cluster") {
			if leader >= 0 {
				t.Errorf("nodes %d and %d both led the cluster", leader+1, i+1)
			}
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no node led the cluster")
	}
	// The leader dies: the other leads, posts the events of an invoice it
	// delivers (and only those: the others were recorded), and does not
	// make the day's reminders again.
	c.nodes[leader].kill()
	other := 1 - leader
	waitFor(t, 2*time.Minute, "the other node to lead", func() bool {
		return strings.Contains(c.nodes[other].out.String(), "this node leads the cluster")
	})
	ocr2 := "2025700" + string(formats.LuhnDigit("2025700"))
	r = dropFile(t, c.nodes[other], "later.csv", overdueCSV(t, "2025-7001", ocr2, 1))
	if len(r.Documents) != 1 || r.Documents[0].State != api.DocDelivered {
		t.Fatalf("the second invoice: %+v", r.Documents)
	}
	invoices = append(invoices, r.Documents[0].ID)
	waitFor(t, 2*time.Minute, "the fourth event posted", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(posts) >= 4
	})
	time.Sleep(5 * time.Second)

	if m := reminderMails(); len(m) != 1 {
		t.Errorf("reminder e-mails: %v, want one", m)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	for id, n := range posts {
		seen[types[id]]++
		if n != 1 {
			t.Errorf("event %s (%s) was posted %d times", id, types[id], n)
		}
	}
	if seen["delivered"] != 3 || seen["reminded"] != 1 || len(posts) != 4 {
		t.Errorf("the events posted, by type: %v (want the invoice, its reminder and the second invoice delivered, one reminded)", seen)
	}
}
