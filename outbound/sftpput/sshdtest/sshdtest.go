// Package sshdtest runs OpenSSH's sshd as a test peer: its own instance on
// loopback ports, with its own host key, a client key pair and a
// known_hosts file, so tests can push files to a real SFTP server (a bank's
// or a print house's stand-in). It skips the test, saying why, where sshd
// is not installed or cannot run.
package sshdtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Path is where Debian's openssh-server installs sshd.
const Path = "/usr/sbin/sshd"

// Server is a running sshd with one account, the user the test runs as.
type Server struct {
	Addr string // serves SFTP read-write
	// ReadOnlyAddr serves SFTP read only (internal-sftp -R): every write
	// is refused with "permission denied", as in a folder the account may
	// not write to (root could write into a chmod 555 folder).
	ReadOnlyAddr string
	User         string
	KeyFile      string // the client's private key (OpenSSH format)
	PublicKey    string // the client's public key, authorized_keys format
	KnownHosts   string // trusts HostKey for both addresses
	HostKey      ssh.PublicKey
	Dir          string // a folder for uploads, writable by the account
	logs         *Buffer
}

// Log is what sshd wrote so far.
func (s *Server) Log() string { return s.logs.String() }

// Buffer collects a server's log from its goroutines or process.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start starts sshd until the test ends, logging its output when the test
// failed.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		t.Skipf("OpenSSH server not installed (%s): install openssh-server to run the tests against a real sshd", Path)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privilege separation
		// directory, which the openssh-server service creates at boot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Skipf("cannot create sshd's privilege separation directory /run/sshd: %v", err)
		}
	}
	dir := t.TempDir()
	hostPriv, hostKey := NewKey(t, dir, "host_key")
	clientPriv, clientKey := NewKey(t, dir, "client_key")
	ak := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(ak, ssh.MarshalAuthorizedKey(clientKey), 0o644); err != nil {
		t.Fatal(err)
	}
	port, roPort := freePort(t), freePort(t)
	// A non-root sshd can only log in as its own user, which is the user
	// the test runs as; PermitRootLogin matters only when that is root.
	config := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
ListenAddress 127.0.0.1:%d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel VERBOSE
Subsystem sftp internal-sftp
Match LocalPort %d
	ForceCommand internal-sftp -R
`, port, roPort, hostPriv, filepath.Join(dir, "sshd.pid"), ak, roPort)
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), ReadOnlyAddr: fmt.Sprintf("127.0.0.1:%d", roPort),
		User: u.Username, KeyFile: clientPriv, PublicKey: string(ssh.MarshalAuthorizedKey(clientKey)),
		KnownHosts: filepath.Join(dir, "known_hosts"), HostKey: hostKey, Dir: filepath.Join(dir, "upload"), logs: &Buffer{}}
	cmd := exec.Command(Path, "-D", "-e", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.logs.String())
		}
	})
	s.waitListening(t, exited, s.Addr, s.ReadOnlyAddr)
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr), knownhosts.Normalize(s.ReadOnlyAddr)}, hostKey)
	if err := os.WriteFile(s.KnownHosts, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

// NewKey writes a new ed25519 key pair as dir/name (OpenSSH private key
// format, mode 0600) and dir/name.pub, and returns the private key's path
// and the public key.
func NewKey(t testing.TB, dir, name string) (string, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, sshPub
}

// freePort returns a loopback port that was free a moment ago. sshd must
// bind it itself, so the small race with other processes is accepted.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitListening waits until every addr accepts connections, or skips (sshd
// cannot run here) or fails the test with sshd's log.
func (s *Server) waitListening(t testing.TB, exited <-chan struct{}, addrs ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				t.Skipf("sshd exited at start; it cannot run here:\n%s", s.logs.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("sshd is not listening on %s after 10 s:\n%s", a, s.logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
