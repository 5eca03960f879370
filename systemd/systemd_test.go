package systemd

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/outbound/channels"
)

// maxExposure is the highest `systemd-analyze security` score the unit may
// have; the unit's comment and docs/operations.md quote the measured one.
const maxExposure = 1.1

// installedBinary is the path the unit files name for the binary.
const installedBinary = "/usr/local/bin/multikanal"

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s is not installed: skipping", tool)
	}
	return p
}

func run(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var exposureRE = regexp.MustCompile(`Overall exposure level for multikanal\.service: (\d+\.\d+)`)

func TestExposure(t *testing.T) {
	tool := need(t, "systemd-analyze")
	out, err := run(t, ".", tool, "security", "--offline=yes", "--no-pager", "multikanal.service")
	m := exposureRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure in the output (%v):\n%s", err, out)
	}
	score, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("overall exposure %.1f", score)
	// What the unit and the operations guide say must be what is measured.
	for _, doc := range []struct{ path, re string }{
		{"multikanal.service", `overall exposure (\d+\.\d+)`},
		{"../docs/operations.md", `overall exposure of (\d+\.\d+)`},
	} {
		b, err := os.ReadFile(doc.path)
		if err != nil {
			t.Fatal(err)
		}
		said := regexp.MustCompile(doc.re).FindSubmatch(b)
		if said == nil || string(said[1]) != m[1] {
			t.Errorf("%s quotes an exposure of %q; measured %s", doc.path, said, m[1])
		}
	}
	if score > maxExposure {
		var open []string
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "✗") {
				open = append(open, strings.TrimSpace(line))
			}
		}
		t.Errorf("exposure %.1f > %.1f; settings still open:\n%s", score, maxExposure, strings.Join(open, "\n"))
	}
}

// TestResourceLimits checks that the unit bounds the daemon's memory and
// tasks, with MemoryHigh (reclaim and slow down) below MemoryMax (the hard
// stop), as systemd reads them.
func TestResourceLimits(t *testing.T) {
	b, err := os.ReadFile("multikanal.service")
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			set[k] = v
		}
	}
	size := func(key string) int64 {
		v, mult := set[key], int64(1)
		if i := len(v) - 1; i > 0 && strings.IndexByte("KMG", v[i]) >= 0 {
			mult, v = map[byte]int64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}[v[i]], v[:i]
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%s: not a size", key, set[key])
		}
		return n * mult
	}
	for _, key := range []string{"MemoryHigh", "MemoryMax", "TasksMax"} {
		if set[key] == "" || set[key] == "infinity" {
			t.Fatalf("%s is not set: the daemon's resources are not bounded", key)
		}
	}
	high, hard := size("MemoryHigh"), size("MemoryMax")
	// The daemon's peak RSS was 273 MB (docs/performance.md): leave room.
	if high < 512<<20 || high >= hard {
		t.Errorf("MemoryHigh %d, MemoryMax %d: want 512 MiB <= MemoryHigh < MemoryMax", high, hard)
	}
	if n, err := strconv.Atoi(set["TasksMax"]); err != nil || n < 64 {
		t.Errorf("TasksMax=%s: want a number of at least 64", set["TasksMax"])
	}
	// systemd reads them as written (no "unknown key" or bad value).
	tool := need(t, "systemd-analyze")
	self, _ := os.Executable()
	dir := t.TempDir()
	unit := strings.ReplaceAll(string(b), installedBinary, self)
	if err := os.WriteFile(filepath.Join(dir, "multikanal.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, dir, tool, "verify", "--no-pager", "./multikanal.service")
	for _, key := range []string{"MemoryHigh", "MemoryMax", "TasksMax"} {
		if strings.Contains(out, key) {
			t.Errorf("systemd-analyze verify complains about %s:\n%s", key, out)
		}
	}
}

// TestVerify runs `systemd-analyze verify` on copies of the units whose
// binary path names an executable that exists (this test binary): verify
// checks that ExecStart's program exists, and the real one is installed
// only by `make install`.
func TestVerify(t *testing.T) {
	tool := need(t, "systemd-analyze")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	units := []string{"multikanal.service", "multikanal-sftp.socket"}
	for _, name := range units {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), installedBinary, self)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"verify", "--no-pager"}
	for _, u := range units {
		args = append(args, "./"+u)
	}
	out, err := run(t, dir, tool, args...)
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// verify exits 0 on some warnings (an unknown key, say): any line about
	// our units is a finding.
	for _, u := range units {
		if strings.Contains(out, u) {
			t.Errorf("systemd-analyze verify complains about %s:\n%s", u, out)
		}
	}
}

// TestSysusersAndTmpfiles applies the snippets to an empty root, as a
// package install would, and checks the configuration folder they make.
func TestSysusersAndTmpfiles(t *testing.T) {
	sysusers, tmpfiles := need(t, "systemd-sysusers"), need(t, "systemd-tmpfiles")
	if os.Geteuid() != 0 {
		t.Skip("systemd-tmpfiles sets owners only as root: skipping")
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	abs := func(name string) string { p, _ := filepath.Abs(name); return p }
	if out, err := run(t, ".", sysusers, "--root="+root, abs("multikanal.sysusers")); err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}
	if out, err := run(t, ".", tmpfiles, "--root="+root, "--create", abs("multikanal.tmpfiles")); err != nil {
		t.Fatalf("systemd-tmpfiles: %v\n%s", err, out)
	}
	gid := groupID(t, filepath.Join(root, "etc", "group"), "multikanal")
	fi, err := os.Stat(filepath.Join(root, "etc", "multikanal"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o750 {
		t.Errorf("/etc/multikanal mode %v, want 0750", fi.Mode().Perm())
	}
	if g := fi.Sys().(*syscall.Stat_t).Gid; g != gid {
		t.Errorf("/etc/multikanal group %d, want multikanal (%d)", g, gid)
	}
}

func groupID(t *testing.T, path, name string) uint32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 && fields[0] == name {
			n, err := strconv.ParseUint(fields[2], 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			return uint32(n)
		}
	}
	t.Fatalf("no group %s in %s", name, path)
	return 0
}

// daemonOwnFiles is what LimitNOFILE leaves the daemon beyond the SFTP
// server's share: store, inbox watches, claims, readers, receipts,
// outbound and HTTP connections.
const daemonOwnFiles = 1024

// The unit's LimitNOFILE covers the SFTP server's descriptor limits at
// their defaults, as its comment says.
func TestLimitNOFILEFollowsTheSFTPLimits(t *testing.T) {
	unit, err := os.ReadFile("multikanal.service")
	if err != nil {
		t.Fatal(err)
	}
	limit := 0
	for line := range strings.Lines(string(unit)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "LimitNOFILE="); ok {
			if limit, err = strconv.Atoi(v); err != nil {
				t.Fatalf("LimitNOFILE=%s: %v", v, err)
			}
		}
	}
	s := config.Default(t.TempDir(), channels.All()).SFTP
	_, _, full := s.Startups()
	if need := s.MaxOpenFiles + full + daemonOwnFiles; limit < need {
		t.Errorf("LimitNOFILE=%d, want at least sftp.max_open_files %d + max_startups full %d + %d for the rest of the daemon = %d",
			limit, s.MaxOpenFiles, full, daemonOwnFiles, need)
	}
}
