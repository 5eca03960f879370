package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
)

// reloadConfig is a configuration with one or two tenants on the spool
// transports, the data directory and HTTP address fixed.
func reloadConfig(data string, tenants ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir = %q\n\n[sftp]\nlisten = \"\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n", data)
	for _, t := range tenants {
		fmt.Fprintf(&b, "\n[[tenant]]\nid = %q\nname = \"Tenant %s AB\"\norgnr = \"556000-0001\"\nbankgiro = \"991-2346\"\npriority = [\"peppol\", \"email\", \"print\"]\n", t, t)
	}
	return b.String()
}

// SIGHUP with a changed configuration applies it without a restart (a new
// tenant's inbox is watched at once); SIGHUP with a broken one is refused,
// the running configuration stays, and status says why.
func TestSIGHUPReload(t *testing.T) {
	needShared(t, peppolExamples)
	base, err := os.ReadFile(filepath.Join(peppolExamples, "base-example.xml"))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "multikanal.toml")
	os.WriteFile(cfgPath, []byte(reloadConfig(data, "acme")), 0o644)
	cmd := exec.Command(binary, "serve", "--config", cfgPath)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitFor(t, 30*time.Second, "the daemon to be ready", func() bool {
		_, err := os.Stat(filepath.Join(data, "daemon.json"))
		return err == nil
	})
	status := func() api.Status {
		t.Helper()
		b, err := exec.Command(binary, "status", "--json", "--data", data).Output()
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		var st api.Status
		json.Unmarshal(b, &st)
		return st
	}
	deliver := func(tenant, name string) {
		t.Helper()
		inbox := filepath.Join(data, "tenants", tenant, "inbox")
		body := []byte(strings.Replace(string(base), "Snippet1", name, 1))
		os.WriteFile(filepath.Join(inbox, "."+name), body, 0o644)
		os.Rename(filepath.Join(inbox, "."+name), filepath.Join(inbox, name))
		receipt := filepath.Join(data, "tenants", tenant, "receipts", name+".receipt.json")
		waitFor(t, 20*time.Second, "a final receipt for "+tenant+"/"+name, func() bool {
			b, err := os.ReadFile(receipt)
			return err == nil && strings.Contains(string(b), `"final": true`)
		})
	}
	deliver("acme", "one.xml")

	// A second tenant, added by editing the file and sending SIGHUP.
	os.WriteFile(cfgPath, []byte(reloadConfig(data, "acme", "beta")), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 20*time.Second, "the reload", func() bool { r := status().LastReload; return r != nil && r.OK })
	deliver("beta", "two.xml")

	// A broken file is refused; the running configuration (both tenants) stays.
	os.WriteFile(cfgPath, []byte(reloadConfig(data, "acme", "beta")+"\nbogus_key = 1\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 20*time.Second, "the refused reload", func() bool { r := status().LastReload; return r != nil && !r.OK })
	if r := status().LastReload; !strings.Contains(r.Error, "bogus_key") {
		t.Errorf("the refused reload does not name the key: %q", r.Error)
	}
	deliver("beta", "three.xml")
	deliver("acme", "four.xml")
	if !strings.Contains(out.String(), "the new configuration is refused") {
		t.Errorf("the refusal is not logged:\n%s", out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// Socket activation: the SFTP socket comes from the service manager
// (FileDescriptorName=sftp), as multikanal-sftp.socket arranges for port 22.
func TestSocketActivatedSFTP(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate is not installed (package systemd); skipping the socket activation test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := t.TempDir()
	cmd := exec.Command(activate, "-l", addr, "--fdname=sftp", binary, "serve", "--data", data, "--http", "127.0.0.1:0", "--sftp", "127.0.0.1:0", "--public", "127.0.0.1:0")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// systemd-socket-activate starts the daemon at the first connection.
	var conn net.Conn
	waitFor(t, 20*time.Second, "the activation socket", func() bool {
		conn, err = net.DialTimeout("tcp", addr, time.Second)
		return err == nil
	})
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	banner := make([]byte, 64)
	n, err := conn.Read(banner)
	if err != nil || !strings.HasPrefix(string(banner[:n]), "SSH-2.0-") {
		t.Fatalf("no SSH banner on the activated socket: %q %v\n%s", banner[:n], err, out)
	}
	waitFor(t, 20*time.Second, "daemon.json", func() bool {
		_, err := os.Stat(filepath.Join(data, "daemon.json"))
		return err == nil
	})
	b, _ := os.ReadFile(filepath.Join(data, "daemon.json"))
	var info api.Info
	json.Unmarshal(b, &info)
	if info.SFTP != addr {
		t.Errorf("the daemon serves SFTP on %s, want the activated socket %s", info.SFTP, addr)
	}
}
