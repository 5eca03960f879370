package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// daemonFlags are the flags every command that talks to the running daemon
// takes to find it.
type daemonFlags struct {
	cfgPath, dataDir, addr *string
	asJSON                 *bool
}

func addDaemonFlags(fs *flag.FlagSet) daemonFlags {
	return daemonFlags{
		cfgPath: fs.String("config", "", "configuration file of the daemon (to find its HTTP address)"),
		dataDir: fs.String("data", "", "data directory of the daemon (default ./var)"),
		addr:    fs.String("addr", "", "the daemon's HTTP address, host:port"),
		asJSON:  fs.Bool("json", false, "print JSON"),
	}
}

// call sends one request to the daemon's API and decodes a JSON answer into
// out; an error answer becomes an error carrying the daemon's message.
func (f daemonFlags) call(method, path string, body io.Reader, out any) ([]byte, error) {
	base, err := daemonAddr(*f.addr, *f.cfgPath, *f.dataDir)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, "http://"+base+path, body)
	if err != nil {
		return nil, err
	}
	if _, ok := body.(jsonBody); ok {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("the daemon at %s does not answer: %w", base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s", e.Error)
		}
		return nil, fmt.Errorf("%s: %s", resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("unexpected answer from the daemon: %w", err)
		}
	}
	return data, nil
}
