package gateway

import (
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/smtp/smtptest"
)

// emailBatch is a CSV of n invoices for consumers with only an e-mail address.
func emailBatch(t testing.TB, n int) []byte {
	src, err := os.ReadFile("../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	var rows []string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "invoice;2025-1002;") {
			rows = append(rows, l)
		}
	}
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for i := range n {
		for _, r := range rows {
			r = strings.Replace(r, "2025-1002", fmt.Sprintf("2025-9%03d", i), 1)
			r = strings.Replace(r, "lisa.andersson@example.se", fmt.Sprintf("kund%d@example.se", i), 1)
			b.WriteString(r + "\n")
		}
	}
	return b.Bytes()
}

// The mail relay refuses with 451 for a while, then accepts: every invoice
// is delivered over real SMTP, and none twice.
func TestSMTPOutageThenRecovery(t *testing.T) {
	const n = 20
	var mu sync.Mutex
	refusals := 0
	srv := smtptest.NewServer(t, smtptest.Config{TLS: "none", Rcpt: func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if refusals < 30 {
			refusals++
			return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	}})
	d := startTestDaemon(t, func(c *config.Config) {
		setTransport(c, "email", "smtp", outbound.Settings{"addr": srv.Addr, "tls": "none", "from": "faktura@demo.example"})
		c.Delivery.MaxAttempts = 50
	}, nil)
	drop(t, d, "mail.csv", emailBatch(t, n))
	var r *api.Receipt
	waitUntil(t, func() bool {
		var err error
		r, err = receipts.Build(d.store, "F0000001")
		return err == nil && r.Final
	})
	if r.Summary[string(store.DocDelivered)] != n {
		t.Fatalf("summary %v, want %d delivered", r.Summary, n)
	}
	ids := map[string]int{}
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		ids[msg.Header.Get("Message-Id")]++
	}
	if len(ids) != n || len(srv.Messages()) != n {
		t.Errorf("the relay got %d messages with %d distinct Message-IDs, want %d each (nothing twice)", len(srv.Messages()), len(ids), n)
	}
	t.Logf("%d refusals (451) before the relay recovered; %d invoices delivered once each", refusals, n)
}
