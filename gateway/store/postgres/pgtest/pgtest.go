// Package pgtest starts a real PostgreSQL server for tests: Debian's
// binaries (package postgresql, under /usr/lib/postgresql/<version>/bin),
// a cluster made by initdb in a temporary folder, listening on a Unix
// socket in that folder only, run by an unprivileged user (PostgreSQL
// refuses to run as root; as root the tests run it as nobody). Each test
// gets a database of its own. Tests that need it are skipped, saying why,
// where the binaries are missing.
//
// The server is a child of the test process that dies with it
// (Pdeathsig), so a test killed half way leaves no server behind; Main
// stops it at the end of a package's tests.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL.
type Server struct {
	dir  string // holds data/ and the socket
	cmd  *exec.Cmd
	done chan struct{}
	// Version is the server's major version.
	Version string
	// Bin is the folder of its binaries.
	Bin string
}

var (
	once    sync.Once
	shared  *Server
	initErr error
	dbs     atomic.Int64
)

// Options for the shared server. Durable keeps fsync on, for measurements;
// tests run without it, which PostgreSQL's own docs allow where the data
// need not survive a crash of the machine (a kill -9 of a node it
// survives either way: the server keeps running).
var Durable = os.Getenv("MULTIKANAL_PG_DURABLE") != ""

// Bin finds the newest installed PostgreSQL's binaries, or says why not.
func Bin() (string, error) {
	if b := os.Getenv("MULTIKANAL_PG_BIN"); b != "" {
		return b, nil
	}
	vers, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(vers) == 0 {
		return "", fmt.Errorf("PostgreSQL is not installed (Debian package postgresql: apt-get install postgresql)")
	}
	sort.Slice(vers, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(vers[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(vers[j]))))
		return vi > vj
	})
	return filepath.Dir(vers[0]), nil
}

// Shared starts (once per test process) and returns the server, or skips
// the test when PostgreSQL is not installed here.
func Shared(t testing.TB) *Server {
	t.Helper()
	once.Do(func() { shared, initErr = start() })
	if initErr != nil {
		if strings.Contains(initErr.Error(), "not installed") {
			t.Skipf("skipped: %v", initErr)
		}
		t.Fatalf("starting PostgreSQL: %v", initErr)
	}
	return shared
}

// Main runs a package's tests and stops the server they started.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the shared server, if a test started it; a package with a
// TestMain of its own calls it after m.Run.
func Stop() {
	if shared != nil {
		shared.Stop()
	}
}

// DSN is a new, empty database's connection string; it is dropped when
// the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbs.Add(1))
	if err := s.exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	return s.DSNFor(name)
}

// DSNFor is the connection string of a database of the server.
func (s *Server) DSNFor(db string) string {
	return fmt.Sprintf("host=%s user=multikanal dbname=%s sslmode=disable", s.dir, db)
}

func (s *Server) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, s.DSNFor("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// start makes a cluster in a new temporary folder and runs it.
func start() (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "multikanal-pg-")
	if err != nil {
		return nil, err
	}
	// The server's user must reach the folder and own its data.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "multikanal", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	args := []string{"-D", data, "-k", dir, "-c", "listen_addresses=", "-c", "max_connections=200",
		"-c", "shared_buffers=128MB", "-c", "log_min_messages=fatal"}
	if !Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	cmd.Dir = dir
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Server{dir: dir, cmd: cmd, done: make(chan struct{}), Bin: bin, Version: filepath.Base(filepath.Dir(bin))}
	go func() { cmd.Wait(); logf.Close(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := s.exec("SELECT 1"); err == nil {
			return s, nil
		} else if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("postgres did not answer within a minute: %v", err)
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("postgres stopped at start: %s", log)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runAs is the user the server runs as: none to change to when the tests
// do not run as root, else nobody.
func runAs() (*syscall.Credential, error) {
	if os.Getuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running PostgreSQL as root is refused, and there is no user nobody to run it as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Stop stops the server (a fast shutdown) and removes its folder.
func (s *Server) Stop() {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}
