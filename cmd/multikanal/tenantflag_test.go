package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The commands that act for a tenant (recipients, mandates, reminders,
// inkasso, events, overview) take the daemon's only tenant without
// --tenant, and with several ask for it, naming them: they never assume
// the embedded default's demo. On the old code, `recipients list` on a
// daemon serving acme alone asked for tenant demo and failed.
func TestTenantCommandsNeverAssumeDemo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tenants []string
	}{{"one tenant", []string{"acme"}}, {"two tenants", []string{"acme", "beta"}}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "var")
			cfgPath := filepath.Join(dir, "multikanal.toml")
			os.WriteFile(cfgPath, []byte(reloadConfig(data, tc.tenants...)), 0o644)
			startDaemonWith(t, data, "--config", cfgPath)
			for _, args := range [][]string{
				{"recipients", "list"}, {"reminders", "--dry-run"}, {"events"}, {"overview"}, {"inkasso"},
			} {
				cmd := exec.Command(binary, append(args, "--config", cfgPath)...)
				out, err := cmd.CombinedOutput()
				code := exitCode(err)
				// acted for the tenant: done, or refused for that tenant's
				// own reason (reminders: it has no [tenant.reminders]).
				actedFor := func(code int, out []byte, tenant string) bool {
					return (code == 0 || strings.Contains(string(out), "tenant "+tenant+":")) && !strings.Contains(string(out), "demo")
				}
				if len(tc.tenants) == 1 {
					if !actedFor(code, out, "acme") {
						t.Errorf("%v on a daemon serving acme alone: exit %d\n%s", args, code, out)
					}
					continue
				}
				if code != 1 || !strings.Contains(string(out), "give --tenant: the daemon serves 2 tenants (acme, beta)") {
					t.Errorf("%v on a daemon serving acme and beta: exit %d\n%s", args, code, out)
				}
				cmd = exec.Command(binary, append(args, "--config", cfgPath, "--tenant", "beta")...)
				if out, err := cmd.CombinedOutput(); !actedFor(exitCode(err), out, "beta") {
					t.Errorf("%v --tenant beta: exit %d\n%s", args, exitCode(err), out)
				}
			}
		})
	}
}
