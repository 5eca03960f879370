package sftpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Algorithms offered: no SHA-1, no CBC, no RC4, no finite-field groups.
// x/crypto adds curve25519-sha256@libssh.org with curve25519-sha256 and the
// strict key exchange marker (kex-strict-s-v00@openssh.com, Terrapin) on
// its own.
var (
	kexAlgos = []string{ssh.KeyExchangeMLKEM768X25519, ssh.KeyExchangeCurve25519,
		ssh.KeyExchangeECDHP256, ssh.KeyExchangeECDHP384, ssh.KeyExchangeECDHP521}
	cipherAlgos = []string{ssh.CipherAES128GCM, ssh.CipherAES256GCM, ssh.CipherChaCha20Poly1305,
		ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR}
	macAlgos = []string{ssh.HMACSHA256ETM, ssh.HMACSHA512ETM, ssh.HMACSHA256, ssh.HMACSHA512}
	// pubKeyAlgos leaves out ssh-rsa (SHA-1 signatures) and ssh-dss.
	pubKeyAlgos = []string{ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519, ssh.KeyAlgoECDSA256,
		ssh.KeyAlgoSKECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
)

const (
	// serverVersion names no version, to tell scanners nothing.
	serverVersion = "SSH-2.0-Multikanal"
	// maxSessionsPerConn matches OpenSSH's MaxSessions.
	maxSessionsPerConn = 10
	// Extension keys of ssh.Permissions set by the auth callbacks; the
	// tenant of a connection is read from them and nowhere else.
	extTenant = "tenant"
	extKeyFP  = "pubkey-fp"
	extMethod = "method"
)

// validID is what a tenant ID (an SFTP user name) may look like.
var validID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`)

// tenantEntry is a tenant with its cached authorized keys.
type tenantEntry struct {
	Tenant
	keys *keyFile
}

// Server is the SFTP inbox server. Create it with New; it is safe for
// concurrent use.
type Server struct {
	opt     Options
	log     *slog.Logger
	hostKey ssh.Signer
	def     *defender
	started time.Time
	// pw bounds concurrent password hashing (argon2id uses 19 MiB or more
	// each) to the cores, so a flood of password attempts cannot exhaust
	// memory or every core, and serves the waiting addresses in turn.
	pw       *hashGate
	startups *startups
	fds      *fdBudget
	disk     *diskGuard

	tenants    atomic.Pointer[map[string]*tenantEntry]
	sessions   atomic.Uint64 // numbers the SFTP sessions (Upload.Session)
	hashCopies atomic.Int64  // bytes of early packets held to hash uploads in order (maxHashCopies)

	mu        sync.Mutex
	addr      net.Addr
	perIP     map[netip.Addr]int
	perTenant map[string]int
	conns     map[net.Conn]struct{}
	closing   bool
}

// New returns a server for tenants with the host key from opt.HostKeyDir,
// creating the key on first start.
func New(opt Options, tenants []Tenant) (*Server, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	keyPath := filepath.Join(opt.HostKeyDir, HostKeyFile)
	signer, created, err := loadOrCreateKey(keyPath, "multikanal sftp host key")
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	s := &Server{
		opt:       opt,
		log:       opt.Logger,
		hostKey:   signer,
		def:       newDefender(opt.Defender, opt.Logger, opt.Observer),
		started:   time.Now(),
		pw:        newHashGate(runtime.NumCPU()),
		startups:  &startups{limit: opt.MaxStartups},
		fds:       &fdBudget{maxTenant: opt.MaxOpenFilesPerTenant, max: opt.MaxOpenFiles, perTenant: make(map[string]int)},
		disk:      &diskGuard{min: opt.MinFreeDisk, probe: opt.freeSpace, log: opt.Logger, pools: make(map[uint64]*diskPool)},
		perIP:     make(map[netip.Addr]int),
		perTenant: make(map[string]int),
		conns:     make(map[net.Conn]struct{}),
	}
	if err := s.SetTenants(tenants); err != nil {
		return nil, err
	}
	s.log.Info("sftp host key", "path", keyPath, "fingerprint", s.HostKeyFingerprint(), "created", created)
	return s, nil
}

// SetTenants replaces the tenants, for a configuration reload. Open
// sessions keep the tenant they logged in as; new logins see the new list.
// Missing inbox and receipts directories are created (0750).
func (s *Server) SetTenants(tenants []Tenant) error {
	next := make(map[string]*tenantEntry, len(tenants))
	for _, t := range tenants {
		if err := checkTenant(t); err != nil {
			return fmt.Errorf("sftpd: tenant %q: %w", t.ID, err)
		}
		if next[t.ID] != nil {
			return fmt.Errorf("sftpd: tenant %q is listed twice", t.ID)
		}
		e := &tenantEntry{Tenant: t}
		if t.AuthorizedKeysFile != "" {
			e.keys = &keyFile{path: t.AuthorizedKeysFile}
			if _, err := e.keys.load(); err != nil {
				return fmt.Errorf("sftpd: tenant %q: %w", t.ID, err)
			}
		}
		for _, dir := range []string{t.InboxDir, t.ReceiptsDir} {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("sftpd: tenant %q: %w", t.ID, err)
			}
		}
		if t.AuthorizedKeysFile == "" && t.PasswordHash == "" {
			s.log.Warn("sftp tenant cannot log in: it has neither authorized keys nor a password", "tenant", t.ID)
		}
		next[t.ID] = e
	}
	s.tenants.Store(&next)
	return nil
}

// checkTenant validates one tenant's settings.
func checkTenant(t Tenant) error {
	if !validID.MatchString(t.ID) {
		return errors.New("ID must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if !filepath.IsAbs(t.InboxDir) || !filepath.IsAbs(t.ReceiptsDir) {
		return errors.New("InboxDir and ReceiptsDir must be absolute paths")
	}
	if filepath.Clean(t.InboxDir) == filepath.Clean(t.ReceiptsDir) {
		return errors.New("InboxDir and ReceiptsDir must differ")
	}
	if err := checkPasswordHash(t.PasswordHash); err != nil {
		return err
	}
	return nil
}

func (s *Server) tenant(id string) *tenantEntry {
	return (*s.tenants.Load())[id]
}

// HostKeyFingerprint returns the SHA256 fingerprint of the host key, as
// OpenSSH shows it ("SHA256:...").
func (s *Server) HostKeyFingerprint() string {
	return ssh.FingerprintSHA256(s.hostKey.PublicKey())
}

// HostKey returns the public host key, for WriteKnownHosts.
func (s *Server) HostKey() ssh.PublicKey {
	return s.hostKey.PublicKey()
}

// Addr returns the address Serve listens on, or nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ListenAndServe listens on Options.Listen and serves until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opt.Listen)
	if err != nil {
		return fmt.Errorf("sftpd: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx is done, then closes ln and
// every connection (uploads in progress are discarded) and returns when
// all of them have ended. It returns nil after ctx is done, or the error
// that stopped accepting.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.addr = ln.Addr()
	s.closing = false
	s.mu.Unlock()
	s.log.Info("sftp listening", "addr", ln.Addr().String(), "fingerprint", s.HostKeyFingerprint())

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ctx.Done()
		ln.Close()
		s.closeAll()
	})
	wg.Go(func() { s.def.run(ctx) })
	defer wg.Wait()
	defer cancel()

	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors: wait instead of spinning.
				s.log.Error("sftp accept", "err", err)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			return fmt.Errorf("sftpd: accept: %w", err)
		}
		backoff = 5 * time.Millisecond
		wg.Go(func() { s.handleConn(ctx, c) })
	}
}

// track registers c for closing at shutdown; false when shutting down.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// closeAll closes every connection, which ends their goroutines.
func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for c := range s.conns {
		c.Close()
	}
}

// acquire counts one more connection in m[key] if that stays within
// limit.
func acquire[K comparable](s *Server, m map[K]int, key K, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m[key] >= limit {
		return false
	}
	m[key]++
	return true
}

func release[K comparable](s *Server, m map[K]int, key K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m[key]--; m[key] <= 0 {
		delete(m, key)
	}
}

// remoteIP is the client's address without port.
func remoteIP(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// handleConn runs one client connection from accept to close.
func (s *Server) handleConn(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	ip := remoteIP(nc.RemoteAddr())
	ipText := ip.String()
	log := s.log.With("ip", ipText)
	if s.def.banned(ipText) {
		log.Info("sftp refused", "what", "connection", "why", "address is banned after failed logins")
		return
	}
	ok, dropped := s.startups.admit()
	if !ok {
		if dropped > 0 {
			log.Warn("sftp refused", "what", "connection", "dropped", dropped,
				"why", fmt.Sprintf("too many connections not logged in yet (max_startups %s); %d dropped since the last line", s.opt.MaxStartups, dropped))
		}
		return
	}
	loggingIn := sync.OnceFunc(s.startups.done)
	defer loggingIn()
	if !acquire(s, s.perIP, ip, s.opt.MaxConnsPerIP) {
		log.Info("sftp refused", "what", "connection", "why", fmt.Sprintf("more than %d connections from this address", s.opt.MaxConnsPerIP))
		return
	}
	defer release(s, s.perIP, ip)
	if !s.track(nc) {
		return
	}
	defer s.untrack(nc)

	// Until the login succeeds the deadline is the login grace time; the
	// idle timeout takes over after.
	ic := &idleConn{Conn: nc, timeout: s.opt.IdleTimeout}
	begin := time.Now()
	nc.SetDeadline(begin.Add(s.opt.LoginGrace))
	a := &authState{srv: s, ctx: ctx, conn: nc, ip: ip, log: log, deadline: begin.Add(s.opt.LoginGrace)}
	sconn, chans, reqs, err := ssh.NewServerConn(ic, a.config())
	loggingIn()
	if err != nil {
		a.failed(err, errors.Is(err, os.ErrDeadlineExceeded) || time.Since(begin) >= s.opt.LoginGrace)
		return
	}
	defer sconn.Close()
	ic.start()

	// The identity comes only from the Permissions the library returned
	// for the authentication that succeeded (CVE-2024-45337): never from a
	// key that a callback saw offered.
	var id string
	if sconn.Permissions != nil {
		id = sconn.Permissions.Extensions[extTenant]
	}
	t := s.tenant(id)
	if id == "" || id != sconn.User() || t == nil {
		log.Warn("sftp refused", "what", "login", "user", sconn.User(), "why", "tenant was removed during login")
		return
	}
	log = log.With("tenant", id)
	if !acquire(s, s.perTenant, id, s.opt.MaxConnsPerTenant) {
		log.Info("sftp refused", "what", "connection", "why", fmt.Sprintf("more than %d connections of this tenant", s.opt.MaxConnsPerTenant))
		return
	}
	defer release(s, s.perTenant, id)
	if err := s.fds.take(id, 1); err != nil {
		log.Warn("sftp refused", "what", "connection", "why", err.Error())
		return
	}
	defer s.fds.give(id, 1)
	ext := sconn.Permissions.Extensions
	log.Info("sftp login", "method", ext[extMethod], "key_fp", ext[extKeyFP],
		"client", string(sconn.ClientVersion()))
	if o := s.opt.Observer; o != nil {
		o.Session(+1)
		defer o.Session(-1)
	}
	start := time.Now()

	var wg sync.WaitGroup
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	// sessions counts the sessions open at once, as OpenSSH's MaxSessions
	// does: a client that opens and closes one session after another
	// (a script reusing its connection) is not cut off after ten.
	var sessions atomic.Int32
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.Prohibited, "only sftp is offered")
			log.Info("sftp refused", "what", "channel", "why", "channel type "+nch.ChannelType()+" is not offered")
			continue
		}
		if sessions.Add(1) > maxSessionsPerConn {
			sessions.Add(-1)
			nch.Reject(ssh.ResourceShortage, "too many sessions")
			log.Info("sftp refused", "what", "channel", "why", fmt.Sprintf("more than %d sessions open on one connection", maxSessionsPerConn))
			continue
		}
		wg.Go(func() {
			defer sessions.Add(-1)
			s.serveSession(nch, t.Tenant, log)
		})
	}
	wg.Wait()
	why := "client closed"
	if err := sconn.Wait(); errors.Is(err, os.ErrDeadlineExceeded) {
		why = "idle timeout"
	} else if ctx.Err() != nil {
		why = "server shutting down"
	}
	log.Info("sftp logout", "seconds", time.Since(start).Seconds(), "why", why)
}

// serveSession serves one session channel: the sftp subsystem and nothing
// else.
func (s *Server) serveSession(nch ssh.NewChannel, t Tenant, log *slog.Logger) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	started := false
	for req := range reqs {
		if req.Type != "subsystem" || started || string(req.Payload) != "\x00\x00\x00\x04sftp" {
			if req.Type == "exec" || req.Type == "shell" || req.Type == "subsystem" {
				log.Info("sftp refused", "what", req.Type, "why", "only the sftp subsystem is offered")
			}
			req.Reply(false, nil)
			continue
		}
		// A session holds three descriptors: the inbox (as a root and as
		// a folder) and the receipts.
		if err := s.fds.take(t.ID, 3); err != nil {
			log.Warn("sftp refused", "what", "session", "why", err.Error())
			req.Reply(false, nil)
			continue
		}
		ss, err := newSession(s, t, log)
		if err != nil {
			s.fds.give(t.ID, 3)
			log.Error("sftp session", "err", err)
			req.Reply(false, nil)
			continue
		}
		started = true
		req.Reply(true, nil)
		wg.Go(func() {
			defer s.fds.give(t.ID, 3)
			defer ss.close()
			// The allocator reuses packet buffers instead of allocating
			// one per packet: ~30% less CPU per GiB uploaded. Its pages
			// are 256 KiB, one per request in flight, so the stream
			// bounds those (maxInFlight): ~4 MiB per session at most.
			rs := sftp.NewRequestServer(newStream(ch), ss.handlers(), sftp.WithStartDirectory(startDir), sftp.WithRSAllocator())
			rs.Serve()
			rs.Close()
			// Closing the channel ends reqs, so the loop above ends too.
			ch.Close()
		})
	}
}

// idleConn closes a connection from which nothing arrived for timeout,
// by moving its deadline forward on traffic. It moves the deadline at most
// every timeout/16, so the cost per packet stays one clock read. It does
// nothing before start, while the login grace deadline holds.
type idleConn struct {
	net.Conn
	timeout time.Duration
	active  atomic.Bool
	last    atomic.Int64 // unix nanoseconds of the last move
}

// start replaces the login grace deadline by the idle timeout.
func (c *idleConn) start() {
	c.active.Store(true)
	c.last.Store(0)
	c.extend()
}

func (c *idleConn) extend() {
	if !c.active.Load() {
		return
	}
	now := time.Now()
	if now.UnixNano()-c.last.Load() < int64(c.timeout/16) {
		return
	}
	c.last.Store(now.UnixNano())
	c.Conn.SetDeadline(now.Add(c.timeout))
}

func (c *idleConn) Read(b []byte) (int, error) {
	c.extend()
	return c.Conn.Read(b)
}

func (c *idleConn) Write(b []byte) (int, error) {
	c.extend()
	return c.Conn.Write(b)
}
