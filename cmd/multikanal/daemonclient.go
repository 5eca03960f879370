package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/outbound/channels"
)

// daemonFlags are the flags every command that talks to the running daemon
// takes to find it. With none, it is the daemon of ./var, reached through
// its socket, which needs no token.
type daemonFlags struct {
	cfgPath, dataDir, addr, tokenFile *string
	asJSON                            *bool
}

func addDaemonFlags(fs *flag.FlagSet) daemonFlags {
	return daemonFlags{
		cfgPath:   fs.String("config", "", "configuration file of the daemon (to find its data directory and address)"),
		dataDir:   fs.String("data", "", "data directory of the daemon (default ./var)"),
		addr:      fs.String("addr", "", "the daemon's HTTP address, host:port or https://host:port (needs the token)"),
		tokenFile: fs.String("token-file", "", "file holding the daemon's HTTP token (default: http.token_file, or http.token in the data directory)"),
		asJSON:    fs.Bool("json", false, "print JSON"),
	}
}

// daemonConn is the way to one running daemon.
type daemonConn struct {
	base   string // http://localhost through the socket, or the TCP listener's URL
	token  string // "" through the socket
	client *http.Client
}

// connect finds the daemon: through the socket its daemon.json names,
// which authenticates a user who may open it (the data directory's
// group), or else over TCP with the bearer token from the token file.
func (f daemonFlags) connect() (*daemonConn, error) {
	dataDir, cfg := *f.dataDir, (*config.Config)(nil)
	if *f.cfgPath != "" {
		if dataDir != "" {
			return nil, errors.New("give --config or --data, not both")
		}
		var err error
		if cfg, err = config.Load(*f.cfgPath, channels.All()); err != nil {
			return nil, err
		}
		dataDir = cfg.DataDir
	}
	if dataDir == "" {
		dataDir = "var"
	}
	tokenPath := *f.tokenFile
	if tokenPath == "" {
		if cfg != nil {
			tokenPath = cfg.TokenPath()
		} else {
			tokenPath = filepath.Join(dataDir, config.TokenName)
		}
	}
	if *f.addr != "" {
		return tcpConn(*f.addr, false, tokenPath)
	}
	var info api.Info
	data, err := os.ReadFile(filepath.Join(dataDir, "daemon.json"))
	if err == nil {
		err = json.Unmarshal(data, &info)
	}
	switch {
	case err == nil && info.Socket != "":
		if c, err := net.Dial("unix", info.Socket); err == nil {
			c.Close()
			return socketConn(info.Socket), nil
		}
		// No access to the socket (another group): TCP and the token.
		if info.HTTP == "" {
			return nil, fmt.Errorf("cannot open the daemon's socket %s (are you in the data directory's group?), and it has no TCP listener", info.Socket)
		}
		return tcpConn(info.HTTP, info.HTTPS, tokenPath)
	case err == nil && info.HTTP != "":
		return tcpConn(info.HTTP, info.HTTPS, tokenPath)
	case err == nil:
		return nil, fmt.Errorf("%s/daemon.json names no socket and no HTTP address", dataDir)
	case cfg != nil && cfg.HTTP.Listen != "":
		return tcpConn(cfg.HTTP.Listen, cfg.HTTP.TLSCertFile != "", tokenPath)
	}
	return nil, fmt.Errorf("no running daemon found in %s (start one with 'make run', or give --addr or --config)", dataDir)
}

func socketConn(path string) *daemonConn {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}
	return &daemonConn{base: "http://localhost", client: &http.Client{Transport: &http.Transport{DialContext: dial}}}
}

// tcpConn reaches addr (host:port or a URL) with the token in tokenPath.
func tcpConn(addr string, https bool, tokenPath string) (*daemonConn, error) {
	base := addr
	if !strings.Contains(addr, "://") {
		scheme := "http"
		if https {
			scheme = "https"
		}
		base = scheme + "://" + addr
	}
	token, err := config.ReadSecret(tokenPath)
	if err != nil {
		return nil, fmt.Errorf("the daemon at %s needs its HTTP token: %w (give --token-file, or run as a user in the data directory's group)", base, err)
	}
	return &daemonConn{base: strings.TrimSuffix(base, "/"), token: string(token), client: &http.Client{}}, nil
}

// do sends one request; a body is sent as contentType.
func (c *daemonConn) do(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the daemon at %s does not answer: %w", c.base, err)
	}
	return resp, nil
}

// call sends one request to the daemon's API, a body as JSON (a POST with
// none sends {}), and decodes a JSON answer into out; an error answer
// becomes an error carrying the daemon's message.
func (f daemonFlags) call(method, path string, body io.Reader, out any) ([]byte, error) {
	if body == nil && method != http.MethodGet {
		body = strings.NewReader("{}")
	}
	return f.send(method, path, "application/json", body, out)
}

// send is call with the body's content type.
func (f daemonFlags) send(method, path, contentType string, body io.Reader, out any) ([]byte, error) {
	data, _, err := f.fetch(method, path, contentType, body)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("unexpected answer from the daemon: %w", err)
		}
	}
	return data, nil
}

func (f daemonFlags) fetch(method, path, contentType string, body io.Reader) ([]byte, http.Header, error) {
	c, err := f.connect()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resp, err := c.do(ctx, method, path, contentType, body)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return nil, nil, fmt.Errorf("%s", e.Error)
		}
		return nil, nil, fmt.Errorf("%s: %s", resp.Status, data)
	}
	return data, resp.Header, nil
}

// maxPage is the most items the daemon answers in one page of a list.
const maxPage = 1000

var nextLink = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// list reads a listing of the API page by page, following each page's
// Link header, until it has want items (0: all of them), and returns them
// as one JSON array.
func (f daemonFlags) list(path string, want int) ([]byte, error) {
	var all []json.RawMessage
	u, err := url.Parse(path)
	if err != nil {
		return nil, err
	}
	for {
		q := u.Query()
		n := maxPage
		if want > 0 {
			n = min(maxPage, want-len(all))
		}
		q.Set("limit", strconv.Itoa(n))
		u.RawQuery = q.Encode()
		data, header, err := f.fetch(http.MethodGet, u.String(), "", nil)
		if err != nil {
			return nil, err
		}
		var page []json.RawMessage
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, fmt.Errorf("unexpected answer from the daemon: %w", err)
		}
		all = append(all, page...)
		m := nextLink.FindStringSubmatch(header.Get("Link"))
		if m == nil || want > 0 && len(all) >= want {
			break
		}
		if u, err = url.Parse(m[1]); err != nil {
			return nil, err
		}
	}
	if all == nil {
		all = []json.RawMessage{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	err = enc.Encode(all)
	return b.Bytes(), err
}

// tenant is the tenant a command acts for: the --tenant flag, or, without
// it, the daemon's only tenant. A daemon with several tenants needs the
// flag: guessing one (the embedded default's demo, say) would act for the
// wrong biller.
func (f daemonFlags) tenant(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	var st api.Status
	if _, err := f.call(http.MethodGet, "/api/v1/status", nil, &st); err != nil {
		return "", fmt.Errorf("give --tenant (the daemon's tenants could not be listed: %w)", err)
	}
	ids := slices.Sorted(maps.Keys(st.Info.Inboxes))
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
		return "", errors.New("the daemon serves no tenant")
	}
	return "", fmt.Errorf("give --tenant: the daemon serves %d tenants (%s)", len(ids), strings.Join(ids, ", "))
}

// resolveTenant sets *tenant to the tenant the command cmd acts for
// (tenant), or says on stderr why there is none.
func (f daemonFlags) resolveTenant(tenant *string, cmd string, stderr io.Writer) bool {
	t, err := f.tenant(*tenant)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", cmd, err)
		return false
	}
	*tenant = t
	return true
}
