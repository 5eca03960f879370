package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/multikanal/multikanal/outbound"
)

// HTTP is the transport to a 46elks-shaped SMS API: it posts a rendered
// message to {BaseURL}/a1/sms as it is.
type HTTP struct {
	url      string
	user     string
	password string
	client   *http.Client
}

// NewHTTP returns the transport for the API at o.BaseURL, authenticating with
// o.Username and o.Password.
func NewHTTP(o Options) *HTTP {
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: time.Minute}
	}
	return &HTTP{
		url:      strings.TrimRight(o.BaseURL, "/") + "/a1/sms",
		user:     o.Username,
		password: o.Password,
		client:   client,
	}
}

// Send posts the message. Sent.Ref is the gateway's message id, which its
// delivery report names again. A 429, a 5xx or a network failure is
// temporary (with the gateway's Retry-After); any other refusal is
// permanent and keeps the gateway's own words. Any 2xx counts as sent even
// when its body cannot be read, because a retry would text the person twice.
func (h *HTTP) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(m.Body))
	if err != nil {
		return outbound.Sent{}, outbound.Permanentf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(h.user, h.password)
	resp, err := h.client.Do(req)
	if err != nil {
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("sms: posting to %s: %w", h.url, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		var ok struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		json.Unmarshal(body, &ok)
		return outbound.Sent{Ref: ok.ID}, nil
	}
	if err != nil {
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("sms: reading the answer of %s: %w", h.url, err))
	}
	return outbound.Sent{}, refusal(resp, body, time.Now())
}

// refusal classifies a non-2xx answer.
func refusal(resp *http.Response, body []byte, now time.Time) error {
	text := strings.TrimSpace(string(body))
	if len(text) > 500 {
		text = text[:500] + "..."
	}
	err := fmt.Errorf("sms gateway answered %s: %s", resp.Status, text)
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code >= 500:
		return &outbound.Error{Class: outbound.ClassTemporary, RetryAfter: outbound.RetryAfter(resp.Header, now), Err: err}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return outbound.Permanent(fmt.Errorf("%w (check the channel's username and password_file)", err))
	}
	return outbound.Permanent(err)
}
