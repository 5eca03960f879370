package kivra

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/multikanal/multikanal/outbound"
)

// tokenPath is the OAuth2 token endpoint (the API description's tokenUrl),
// the same for every API version and environment.
const tokenPath = "/v1/auth"

// Client talks to Kivra's sender API for one tenant. It is the Kivra
// channel's transport (Send) and answers usermatch for the registry. It is
// safe for concurrent use; all callers share one access token.
type Client struct {
	base, tenant string
	id, secret   string
	http         *http.Client
	now          func() time.Time
	mu           sync.Mutex // guards token and expires, and serialises token requests
	token        string
	expires      time.Time
}

// NewClient returns a client for o.TenantKey at o.BaseURL.
func NewClient(o Options) *Client {
	h := o.HTTP
	if h == nil {
		h = &http.Client{Timeout: time.Minute}
	}
	return &Client{
		base:   strings.TrimRight(o.BaseURL, "/"),
		tenant: url.PathEscape(o.TenantKey),
		id:     o.ClientID,
		secret: o.ClientSecret,
		http:   h,
		now:    o.now,
	}
}

// Send posts a rendered content to POST /v2/tenant/{tenantKey}/content.
// Sent.Ref is the content key Kivra returns (the kivra-objkey header). A
// 429, a 5xx or a network failure is temporary, with Kivra's Retry-After; a
// 401 gets one new token and one more try; any other refusal is permanent
// and keeps Kivra's code and messages.
func (c *Client) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	a, err := c.call(ctx, "/v2/tenant/"+c.tenant+"/content", m.Body)
	if err != nil {
		return outbound.Sent{}, err
	}
	ref := a.header.Get("kivra-objkey")
	if ref == "" {
		if loc := a.header.Get("Location"); loc != "" {
			ref = path.Base(loc)
		}
	}
	return outbound.Sent{Ref: ref}, nil
}

// UserMatch asks which of the personnummer (12 digits, YYYYMMDDnnnn) can
// receive content from the tenant: Kivra users who have not opted out of
// it. Errors are classified as Send's are.
func (c *Client) UserMatch(ctx context.Context, personnummers []string) ([]string, error) {
	if len(personnummers) == 0 {
		return nil, nil
	}
	type list struct {
		List []string `json:"list"`
	}
	body, err := json.Marshal(list{personnummers})
	if err != nil {
		return nil, fmt.Errorf("kivra usermatch: %w", err)
	}
	a, err := c.call(ctx, "/v2/tenant/"+c.tenant+"/usermatch/ssn", body)
	if err != nil {
		return nil, err
	}
	var out list
	if err := json.Unmarshal(a.body, &out); err != nil {
		return nil, outbound.Temporary(fmt.Errorf("kivra usermatch: reading the answer: %w", err))
	}
	if out.List == nil {
		out.List = []string{}
	}
	return out.List, nil
}

// answer is an HTTP response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// call posts a JSON body with the access token. Kivra answers 401 when a
// token expired or was revoked before the time it announced, so a 401 drops
// the token and the call is made once more with a new one.
func (c *Client) call(ctx context.Context, p string, body []byte) (answer, error) {
	for try := 1; ; try++ {
		token, err := c.accessToken(ctx)
		if err != nil {
			return answer{}, err
		}
		a, err := c.post(ctx, p, "application/json", body, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
		})
		if err != nil {
			return answer{}, err
		}
		switch {
		case a.status/100 == 2:
			return a, nil
		case a.status == http.StatusUnauthorized && try == 1:
			c.forget(token)
			continue
		}
		return answer{}, refusal("kivra "+p, a, c.now())
	}
}

// accessToken returns the cached token or fetches one with the client
// credentials: POST /v1/auth, grant_type=client_credentials, the id and
// secret as HTTP basic auth. The lock is held while fetching, so callers
// that find no token wait for one request instead of each making their own.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	a, err := c.post(ctx, tokenPath, "application/x-www-form-urlencoded", []byte(form.Encode()), func(r *http.Request) {
		r.SetBasicAuth(c.id, c.secret)
	})
	if err != nil {
		return "", err
	}
	if a.status != http.StatusOK {
		err := refusal("kivra token", a, c.now())
		if outbound.ClassOf(err) == outbound.ClassPermanent {
			err = outbound.Permanent(fmt.Errorf("%w (check the channel's client_id and client_secret_file)", err))
		}
		return "", err
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(a.body, &t); err != nil || t.AccessToken == "" {
		return "", outbound.Temporaryf("kivra token: answer without access_token: %.200s", a.body)
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return "", outbound.Permanentf("kivra token: token_type %q, only bearer tokens are understood", t.TokenType)
	}
	life := time.Duration(t.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Minute // no lifetime given: use it briefly, not forever
	}
	// Renew a little early, so a token does not expire between this check
	// and Kivra reading the request.
	c.token, c.expires = t.AccessToken, c.now().Add(life-min(life/10, 5*time.Minute))
	return c.token, nil
}

// forget drops token unless another caller has already replaced it.
func (c *Client) forget(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}

// post makes one request; a network failure is temporary.
func (c *Client) post(ctx context.Context, p, contentType string, body []byte, auth func(*http.Request)) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+p, bytes.NewReader(body))
	if err != nil {
		return answer{}, outbound.Permanent(fmt.Errorf("kivra: %w", err))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, outbound.Temporary(fmt.Errorf("kivra: posting to %s: %w", c.base+p, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, outbound.Temporary(fmt.Errorf("kivra: reading the answer of %s: %w", c.base+p, err))
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// refusal classifies a refused request and keeps what Kivra said: its
// error body (code, short_message, long_message) and the correlation id
// Kivra's support asks for.
func refusal(what string, a answer, now time.Time) error {
	var e struct {
		Code  json.RawMessage `json:"code"`
		Short string          `json:"short_message"`
		Long  string          `json:"long_message"`
	}
	var text string
	if json.Unmarshal(a.body, &e) == nil && (e.Short != "" || e.Long != "") {
		code := strings.Trim(string(e.Code), `"`)
		if code == "" {
			code = a.header.Get("x-error-code")
		}
		text = strings.TrimSpace(code + " " + e.Short)
		if e.Long != "" {
			text += ": " + e.Long
		}
	} else {
		text = strings.TrimSpace(string(a.body))
		if len(text) > 500 {
			text = text[:500] + "..."
		}
	}
	if id := a.header.Get("x-correlation-id"); id != "" {
		text += " (x-correlation-id " + id + ")"
	}
	err := fmt.Errorf("%s: %d %s: %s", what, a.status, http.StatusText(a.status), text)
	if a.status == http.StatusTooManyRequests || a.status >= 500 {
		return &outbound.Error{Class: outbound.ClassTemporary, RetryAfter: outbound.RetryAfter(a.header, now), Err: err}
	}
	return outbound.Permanent(err)
}

var _ outbound.Transport = (*Client)(nil)
