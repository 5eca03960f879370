package gateway

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/multikanal/multikanal/outbound"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// A print batch closes at max_count; what is left waits for the next
// cut-off instead of going out at the end of the file.
func TestCutoffMaxCount(t *testing.T) {
	print := &fakeTransport{}
	d := startTestDaemon(t, func(c *config.Config) {
		c.ChannelConfig("print").Cutoff = config.Cutoff{MaxCount: 2}
	}, map[string]*fakeTransport{"print": print})
	body := emailBatch(t, 5)
	body = setColumn(t, body, "buyer_email", "")
	body = setColumn(t, body, "buyer_street", "Storgatan 1")
	body = setColumn(t, body, "buyer_postal_code", "111 22")
	body = setColumn(t, body, "buyer_city", "Stockholm")
	drop(t, d, "paper.csv", body)
	waitUntil(t, func() bool { return print.count() == 2 })
	time.Sleep(300 * time.Millisecond)
	if n := print.count(); n != 2 {
		t.Fatalf("%d print batches, want 2 (of 2 letters each)", n)
	}
	r, err := receipts.Build(d.store, "F0000001")
	if err != nil {
		t.Fatal(err)
	}
	if r.Final || r.Summary[string(store.DocDelivered)] != 4 || r.Summary[string(store.DocQueued)] != 1 {
		t.Errorf("receipt: final %v, summary %v; want 4 delivered and 1 waiting for the next cut-off", r.Final, r.Summary)
	}
}

// A channel's rate limit spaces its sends, across all its workers.
func TestRateLimit(t *testing.T) {
	email := &timedTransport{}
	d := startTestDaemon(t, func(c *config.Config) {
		c.ChannelConfig("email").RateLimit = 20 // a send every 50 ms
		c.ChannelConfig("email").Workers = 4
	}, nil)
	p := *d.lanes["email"].Get()
	p.Transport = email
	d.lanes["email"].Set(&p)
	drop(t, d, "mail.csv", emailBatch(t, 6))
	waitUntil(t, func() bool { return email.count() == 6 })
	// The limiter hands out slots 50 ms apart from the first send on; a
	// loaded machine may record one send late and the next on time, so
	// two neighbours can look close, but the sends cannot come earlier
	// than their slots: the span of six sends is at least five gaps, less
	// one gap for the first send being recorded late.
	times := email.times()
	if span := times[len(times)-1].Sub(times[0]); span < 4*50*time.Millisecond {
		t.Errorf("6 sends at 20/s took only %v", span)
	}
}

// timedTransport records when each send happened.
type timedTransport struct {
	mu sync.Mutex
	at []time.Time
}

func (tt *timedTransport) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.at = append(tt.at, time.Now())
	return outbound.Sent{Ref: m.Name}, nil
}

func (tt *timedTransport) count() int { tt.mu.Lock(); defer tt.mu.Unlock(); return len(tt.at) }

func (tt *timedTransport) times() []time.Time {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	out := append([]time.Time(nil), tt.at...)
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}
