package peppol

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/multikanal/multikanal/outbound"
)

// AccessPoint hands Standard Business Documents to a Peppol access point
// the way phase4's standalone sender takes them: POST {BaseURL}/sendsbdh
// with the SBD as the body and an X-Token header. The access point looks up
// the receiver in the SMP and sends over AS4.
type AccessPoint struct {
	BaseURL string
	Token   string
	Client  *http.Client
}

// Send posts the SBD. 2xx is delivered to the access point; 429 and 5xx are
// temporary (Retry-After honoured); other 4xx are permanent, with the access
// point's answer kept (an unknown receiver, a document it refuses).
func (ap *AccessPoint) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	client := ap.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(ap.BaseURL, "/")+"/sendsbdh", bytes.NewReader(m.Body))
	if err != nil {
		return outbound.Sent{}, outbound.Permanent(fmt.Errorf("peppol access point: %w", err))
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("X-Token", ap.Token)
	resp, err := client.Do(req)
	if err != nil {
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("peppol access point: %w", err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	answer := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return outbound.Sent{Ref: "peppol:" + m.Key}, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return outbound.Sent{}, &outbound.Error{Class: outbound.ClassTemporary, RetryAfter: outbound.RetryAfter(resp.Header, time.Now()),
			Err: fmt.Errorf("peppol access point answered %s: %s", resp.Status, answer)}
	}
	return outbound.Sent{}, outbound.Permanentf("peppol access point answered %s: %s", resp.Status, answer)
}
