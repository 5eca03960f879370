package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/gateway/api"
)

// The CLI of a user who may read the data directory needs no flag: run
// from the directory that holds var/, it reaches the daemon through the
// socket in var/, or, without the socket, over TCP with the token in
// var/http.token. Anyone else gets 401 from the TCP listener.
func TestCLIWithoutFlags(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "var")
	startDaemon(t, data)
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), exitCode(err)
	}
	var info api.Info
	b, err := os.ReadFile(filepath.Join(data, "daemon.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &info)
	if info.Socket == "" || info.HTTP == "" || info.Public == "" {
		t.Fatalf("daemon.json: socket %q, http %q, public %q", info.Socket, info.HTTP, info.Public)
	}
	if out, code := run("status"); code != 0 || !strings.Contains(out, "ready") {
		t.Fatalf("status through the socket: exit %d\n%s", code, out)
	}

	// login prints a link that opens the status page in a session.
	out, code := run("login")
	link := regexp.MustCompile(`http://\S+/login\?code=\S+`).FindString(out)
	if code != 0 || link == "" {
		t.Fatalf("login: exit %d\n%s", code, out)
	}
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("Multikanal status")) {
		t.Errorf("the login link: %s %.300s", resp.Status, page)
	}

	// Nobody else: the TCP listener asks for the token.
	for _, path := range []string{"/api/v1/status", "/api/v1/backup", "/metrics", "/"} {
		resp, err := http.Get("http://" + info.HTTP + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %s", path, resp.Status)
		}
	}

	// Without the socket, TCP and the token file, still with no flag.
	if err := os.Remove(info.Socket); err != nil {
		t.Fatal(err)
	}
	if out, code := run("status"); code != 0 || !strings.Contains(out, "ready") {
		t.Errorf("status over TCP with the token file: exit %d\n%s", code, out)
	}
	if out, code := run("docs", "list", "--limit", "3"); code != 0 || !strings.Contains(out, "ID") {
		t.Errorf("docs list over TCP: exit %d\n%s", code, out)
	}
	token := filepath.Join(data, "http.token")
	if err := os.Rename(token, token+".away"); err != nil {
		t.Fatal(err)
	}
	if out, code := run("status"); code != 1 || !strings.Contains(out, "token") {
		t.Errorf("status with neither socket nor token: exit %d\n%s", code, out)
	}
	if out, code := run("status", "--token-file", filepath.Join("var", "http.token.away")); code != 0 {
		t.Errorf("status --token-file: exit %d\n%s", code, out)
	}
}

// check refuses an operators' listener on the network without TLS and a
// token, naming the keys; serve refuses --http doing the same.
func TestCheckRefusesExposedHTTP(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "m.toml")
	os.WriteFile(cfg, []byte("data_dir = \""+dir+"\"\n\n[http]\nlisten = \"0.0.0.0:8080\"\n\n[[tenant]]\nid = \"acme\"\nname = \"Acme AB\"\norgnr = \"556000-0001\"\npriority = [\"email\"]\n"), 0o644)
	out, err := exec.Command(binary, "check", "--config", cfg).CombinedOutput()
	if code := exitCode(err); code != 1 {
		t.Errorf("check: exit %d, want 1\n%s", code, out)
	}
	for _, key := range []string{"http.tls_cert_file", "http.token_file", "http.hostnames"} {
		if !strings.Contains(string(out), key) {
			t.Errorf("check does not name %s:\n%s", key, out)
		}
	}
	out, err = exec.Command(binary, "serve", "--data", t.TempDir(), "--http", "0.0.0.0:0", "--sftp", "", "--public", "127.0.0.1:0").CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "http.tls_cert_file") {
		t.Errorf("serve --http 0.0.0.0:0: exit %d\n%s", code, out)
	}
}
