package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The OpenSSH pieces the comparison runs.
const (
	sshdPath       = "/usr/sbin/sshd"
	sftpServerPath = "/usr/lib/openssh/sftp-server"
	benchUser      = "mkbench"
)

// sftpConfig sizes the SFTP comparison.
type sftpConfig struct {
	bin      string // daemon binary
	work     string
	size     int64 // the large file
	files    int   // the small files
	fileSize int   // each small file
	rounds   int
	ciphers  []string
	fsync    bool // upload with put -f: each file synced before the client's OK
}

// sftpRun is one `sftp -b` session against one server.
type sftpRun struct {
	Server  string  `json:"server"` // multikanal or openssh
	Test    string  `json:"test"`   // large or small
	Cipher  string  `json:"cipher"`
	Round   int     `json:"round"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate"` // MB/s (large) or files/s (small)
	Load1   float64 `json:"load1"`
}

// sftpSummary compares the servers on one test and cipher: medians over the
// rounds, and their ratio.
type sftpSummary struct {
	Test    string  `json:"test"`
	Cipher  string  `json:"cipher"`
	Unit    string  `json:"unit"`
	Ours    float64 `json:"multikanal"`
	OpenSSH float64 `json:"openssh"`
	Ratio   float64 `json:"ratio"`
	Goal    float64 `json:"goal"`
}

// sftpResult is the whole comparison, or why it was skipped.
type sftpResult struct {
	Skipped  string        `json:"skipped,omitempty"`
	Size     int64         `json:"large_file_bytes"`
	Files    int           `json:"small_files"`
	FileSize int           `json:"small_file_bytes"`
	Rounds   int           `json:"rounds"`
	Fsync    bool          `json:"fsync"` // uploads used put -f (fsync@openssh.com)
	Runs     []sftpRun     `json:"runs"`
	Summary  []sftpSummary `json:"summary"`
	Errors   []string      `json:"errors,omitempty"` // runs that failed, left out of the medians
	// OursCPU is the daemon's CPU time per GiB of large uploads, its claims
	// and hashing included. OpenSSH's is not measured: its session
	// processes' times do not reliably reach the listening sshd.
	OursCPU float64 `json:"multikanal_cpu_seconds_per_gib"`
}

// sftpMissing says what the comparison lacks on this machine, or "".
func sftpMissing() string {
	if os.Geteuid() != 0 {
		return "not root: running a second sshd and creating its user need root"
	}
	for _, p := range []string{sshdPath, sftpServerPath} {
		if _, err := os.Stat(p); err != nil {
			return p + " is missing (apt-get install openssh-server)"
		}
	}
	for _, p := range []string{"sftp", "ssh-keygen"} {
		if _, err := exec.LookPath(p); err != nil {
			return p + " is missing (apt-get install openssh-client)"
		}
	}
	return ""
}

// server is one SFTP server under test: how to log in and where to put.
type server struct {
	name   string
	argv   []string // the sftp command up to the destination, which is last
	target string   // remote directory for uploads
	settle func() error
	cpu    func() time.Duration // the server's CPU time so far; nil when it cannot be read
	log    string               // the server's log file
}

// runSFTP compares our SFTP server with OpenSSH's sftp-server.
func runSFTP(cfg sftpConfig, say func(string, ...any)) (*sftpResult, error) {
	res := &sftpResult{Size: cfg.size, Files: cfg.files, FileSize: cfg.fileSize, Rounds: cfg.rounds, Fsync: cfg.fsync, Runs: []sftpRun{}, Summary: []sftpSummary{}}
	if why := sftpMissing(); why != "" {
		res.Skipped = why
		say("SFTP comparison skipped: %s", why)
		return res, nil
	}
	dir := filepath.Join(cfg.work, "sftp")
	big := filepath.Join(dir, "large.bin")
	small := filepath.Join(dir, "small")
	say("SFTP: writing a %s file and %d files of %s", binSize(cfg.size), cfg.files, binSize(int64(cfg.fileSize)))
	// Every round and cipher uploads its own small files, new names and new
	// bytes, as an ERP sends new invoices each time: the same files again
	// would be duplicates to the gateway (refused, their receipts
	// replaced), which an ERP's real traffic is not.
	var sets []string
	for round := 1; round <= cfg.rounds; round++ {
		for _, cipher := range cfg.ciphers {
			sets = append(sets, smallSet(small, round, cipher))
		}
	}
	if err := writeTestFiles(big, sets, cfg.size, cfg.files, cfg.fileSize); err != nil {
		return nil, err
	}

	d, err := startDaemon(cfg.bin, filepath.Join(dir, "data"), "", false)
	if err != nil {
		return nil, err
	}
	defer d.close()
	ours, err := oursServer(d)
	if err != nil {
		return nil, err
	}
	theirs, err := startSSHD(say)
	if err != nil {
		return nil, err
	}

	var cpuLarge = map[string]time.Duration{}
	var bytesLarge = map[string]int64{}
	for round := 1; round <= cfg.rounds; round++ {
		order := []*server{ours, theirs}
		if round%2 == 0 {
			order = []*server{theirs, ours}
		}
		for _, cipher := range cfg.ciphers {
			for _, test := range []string{"large", "small"} {
				for _, s := range order {
					put := "put "
					if cfg.fsync {
						put = "put -f "
					}
					if test == "large" {
						put += fmt.Sprintf("%s %s/large-%d-%s.bin", big, s.target, round, strings.SplitN(cipher, "-", 2)[0])
					} else {
						put += fmt.Sprintf("%s/* %s/", smallSet(small, round, cipher), s.target)
					}
					var cpu0 time.Duration
					if s.cpu != nil {
						cpu0 = s.cpu()
					}
					secs, err := sftpBatch(s, cipher, put, filepath.Join(dir, "batch"))
					if serr := s.settle(); serr != nil {
						return nil, serr
					}
					if err != nil {
						// One failed session is a finding, not the end of the
						// comparison: it is reported and left out of the medians.
						msg := fmt.Sprintf("round %d %s %s %s: %v", round, test, cipher, s.name, err)
						if s.log != "" {
							msg += "\n" + s.name + " log (end):\n" + tail(s.log)
						}
						res.Errors = append(res.Errors, msg)
						say("  %s", msg)
						continue
					}
					r := sftpRun{Server: s.name, Test: test, Cipher: cipher, Round: round, Seconds: secs, Load1: loadAvg()}
					if test == "large" {
						r.Rate = float64(cfg.size) / 1e6 / secs
						if s.cpu != nil {
							cpuLarge[s.name] += s.cpu() - cpu0
							bytesLarge[s.name] += cfg.size
						}
					} else {
						r.Rate = float64(cfg.files) / secs
					}
					res.Runs = append(res.Runs, r)
					say("  round %d %-5s %-29s %-10s %6.2fs %8.1f %s (load %.2f)", round, test, cipher, s.name, secs, r.Rate,
						map[string]string{"large": "MB/s", "small": "files/s"}[test], r.Load1)
				}
			}
		}
	}
	for _, test := range []string{"large", "small"} {
		for _, cipher := range cfg.ciphers {
			sum := sftpSummary{Test: test, Cipher: cipher, Unit: "MB/s", Goal: 0.9}
			if test == "small" {
				sum.Unit, sum.Goal = "files/s", 1.0
			}
			sum.Ours = median(res.Runs, ours.name, test, cipher)
			sum.OpenSSH = median(res.Runs, theirs.name, test, cipher)
			if sum.OpenSSH > 0 {
				sum.Ratio = sum.Ours / sum.OpenSSH
			}
			res.Summary = append(res.Summary, sum)
		}
	}
	perGiB := func(name string) float64 {
		if bytesLarge[name] == 0 {
			return 0
		}
		return cpuLarge[name].Seconds() / (float64(bytesLarge[name]) / (1 << 30))
	}
	res.OursCPU = perGiB(ours.name)
	return res, nil
}

// median is the median rate of the runs of one server, test and cipher.
func median(runs []sftpRun, srv, test, cipher string) float64 {
	var v []float64
	for _, r := range runs {
		if r.Server == srv && r.Test == test && r.Cipher == cipher {
			v = append(v, r.Rate)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// sftpBatch runs one sftp session with the given cipher and batch command
// and returns the seconds from the client's start to its exit.
func sftpBatch(s *server, cipher, command, batchFile string) (float64, error) {
	if err := os.WriteFile(batchFile, []byte(command+"\n"), 0o644); err != nil {
		return 0, err
	}
	argv := slices.Clone(s.argv)
	dest := argv[len(argv)-1]
	argv = append(append(argv[:len(argv)-1:len(argv)-1], "-b", batchFile, "-c", cipher), dest)
	cmd := exec.Command(argv[0], argv[1:]...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	secs := time.Since(start).Seconds()
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %v\n%s", s.name, strings.Join(argv, " "), err, out)
	}
	return secs, nil
}

// smallSet is the folder of the small files one round uploads with one
// cipher; the file names carry the round and cipher too.
func smallSet(small string, round int, cipher string) string {
	return filepath.Join(small, fmt.Sprintf("r%d-%s", round, strings.SplitN(cipher, "-", 2)[0]))
}

// writeTestFiles writes the large file and a set of small files into each
// of sets, random bytes (nothing for compression or deduplication to win
// on).
func writeTestFiles(big string, sets []string, size int64, files, fileSize int) error {
	if err := os.MkdirAll(filepath.Dir(big), 0o755); err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{'m', 'k'})
	if _, err := writeFile(big, func(w io.Writer) error {
		buf := make([]byte, 1<<20)
		for left := size; left > 0; left -= int64(len(buf)) {
			rng.Read(buf)
			if _, err := w.Write(buf[:min(left, int64(len(buf)))]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	buf := make([]byte, fileSize)
	for _, set := range sets {
		if err := os.MkdirAll(set, 0o755); err != nil {
			return err
		}
		for i := range files {
			rng.Read(buf)
			if err := os.WriteFile(filepath.Join(set, fmt.Sprintf("small-%s-%05d.bin", filepath.Base(set), i)), buf, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// oursServer is the daemon's SFTP server, logged into with the command the
// daemon prints for the demo tenant.
func oursServer(d *daemon) (*server, error) {
	line := d.info.SFTPCommands["demo"]
	if line == "" {
		return nil, errors.New("daemon.json has no sftp_commands.demo; is the daemon on its embedded default?")
	}
	argv, err := shellWords(line)
	if err != nil {
		return nil, fmt.Errorf("sftp command %q: %w", line, err)
	}
	argv = append([]string{argv[0], "-F", "/dev/null", "-o", "BatchMode=yes"}, argv[1:]...)
	return &server{
		name: "multikanal", argv: argv, target: "/inbox",
		// The daemon claims every upload and writes its receipt; the next
		// run starts when the inbox is empty and the daemon is idle, so it
		// does not compete with the work of this one.
		settle: func() error {
			for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
				entries, err := os.ReadDir(d.inbox())
				if err != nil {
					return err
				}
				if len(entries) == 0 {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the daemon has not claimed the uploads in %s after 2 minutes", d.inbox())
				}
			}
			waitIdle(d.cpu, 10*time.Second)
			return nil
		},
		cpu: d.cpu,
		log: d.log.Name(),
	}, nil
}

// waitIdle returns once a process uses under 5% of a core over 200 ms
// (its receipts written, its timers quiet), or after limit.
func waitIdle(cpu func() time.Duration, limit time.Duration) {
	const window = 200 * time.Millisecond
	prev := cpu()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		time.Sleep(window)
		now := cpu()
		if now-prev < window/20 {
			return
		}
		prev = now
	}
}

// startSSHD runs OpenSSH's sshd as its own instance on a loopback port, with
// its own host key, PidFile and authorized_keys, for the user mkbench
// (created when missing: OpenSSH runs sftp-server through the user's shell,
// and root's shell start-up files cost ~0.5 s a login here).
func startSSHD(say func(string, ...any)) (*server, error) {
	u, err := user.Lookup(benchUser)
	if err != nil {
		say("creating the system user %s (shell /bin/sh) for the OpenSSH runs", benchUser)
		// "*" rather than useradd's locked "!": sshd without PAM refuses
		// public-key logins to a locked account.
		if out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", "-p", "*", benchUser).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("useradd %s: %v\n%s", benchUser, err, out)
		}
		if u, err = user.Lookup(benchUser); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// sshd reads authorized_keys as the user, so this directory is outside
	// the 0700 work directory and readable; the upload directory in it is
	// the user's.
	dir, err := os.MkdirTemp("", "multikanal-bench-sshd-")
	if err != nil {
		return nil, err
	}
	atExit(func() { os.RemoveAll(dir) })
	remote := filepath.Join(dir, "up")
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(remote, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chown(remote, uid, gid); err != nil {
		return nil, err
	}
	for _, k := range []string{"host_ed25519", "client_ed25519"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "client_ed25519.pub"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o644); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(strings.Join([]string{
		"ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(dir, "host_ed25519"),
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"AllowUsers " + benchUser,
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PrintMotd no",
		"Subsystem sftp " + sftpServerPath,
	}, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	// sshd insists on its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "sshd.log"))
	if err != nil {
		return nil, err
	}
	atExit(func() { log.Close() })
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", conf, "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = log, log
	if _, err := startGroup(cmd); err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := waitPort(addr, 10*time.Second); err != nil {
		return nil, fmt.Errorf("sshd: %w\n%s", err, tail(log.Name()))
	}
	pid := cmd.Process.Pid
	say("OpenSSH sshd pid %d on %s for user %s", pid, addr, benchUser)
	return &server{
		name: "openssh",
		argv: []string{"sftp", "-F", "/dev/null", "-o", "BatchMode=yes", "-i", filepath.Join(dir, "client_ed25519"), "-P", strconv.Itoa(port),
			"-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
			benchUser + "@127.0.0.1"},
		target: remote,
		// Large uploads are removed between runs, so the disk holds one at
		// a time; small ones stay until the end, as the gateway keeps its
		// own (claimed into its spool): removing a thousand files just
		// before a run would slow the file creations of that run (on ext4,
		// a new inode skips over recently freed ones), whichever server it
		// is. The session's processes are waited for first, so that the
		// next run starts on an idle server.
		settle: func() error {
			children := fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if b, err := os.ReadFile(children); err != nil || len(strings.TrimSpace(string(b))) == 0 {
					break
				}
			}
			entries, err := os.ReadDir(remote)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), "large-") {
					continue
				}
				if err := os.Remove(filepath.Join(remote, e.Name())); err != nil {
					return err
				}
			}
			return nil
		},
		log: log.Name(),
	}, nil
}

// shellWords splits a command line as a POSIX shell would, for the quoting
// the daemon's printed command uses: single quotes and plain words.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '"' || r == '\\' || r == '$' || r == '`':
			return nil, fmt.Errorf("unexpected %q: only single quotes are understood", r)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
