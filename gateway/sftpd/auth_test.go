package sftpd

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestPasswordUntilBanned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Defender = DefenderOptions{Enabled: true, Threshold: 4, ScoreLoginFailed: 1, ScoreNoSuchUser: 2,
			Window: time.Minute, BanTime: time.Minute}
	})
	c, err := e.dial("bob", ssh.Password(testPassword))
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	c.Close()
	e.waitLog("sftp login", "tenant", "bob", "method", "password", "key_fp", "")

	// Two wrong passwords on one connection, then one per connection, then
	// an unknown user: 1+1+1+2 reaches the threshold of 4.
	tries := 0
	_, err = e.dial("bob", ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
		tries++
		return "guess", nil
	}), 2))
	if err == nil || tries != 2 {
		t.Fatalf("wrong passwords: err %v after %d tries", err, tries)
	}
	if _, err := e.dial("bob", ssh.Password("guess")); err == nil {
		t.Fatal("wrong password logged in")
	}
	if _, err := e.dial("mallory", ssh.Password("guess")); err == nil {
		t.Fatal("unknown user logged in")
	}
	e.waitLog("sftp login failed", "user", "bob", "ip", "127.0.0.1", "methods", "password", "why", "wrong password")
	e.waitLog("sftp login failed", "user", "mallory", "why", "no such user")
	e.waitLog("sftp ban", "ip", "127.0.0.1", "score", "5", "threshold", "4")

	// Banned: even the right password and the right key are refused at
	// accept.
	if _, err := e.dial("bob", ssh.Password(testPassword)); err == nil {
		t.Fatal("banned address logged in")
	}
	if out, err := e.sftp("alice", "ls\n"); !isExit(err) {
		t.Fatalf("banned address logged in with sftp:\n%s", out)
	}
	e.waitLog("sftp refused", "ip", "127.0.0.1", "what", "connection", "why", "~banned")
	if n := e.countLog("sftp login"); n != 1 {
		t.Errorf("%d logins, want only the first", n)
	}
}

// unprovenSigner offers a public key but cannot sign with it, as a client
// that only claims a key it does not hold.
type unprovenSigner struct{ ssh.Signer }

func (u unprovenSigner) Sign(io.Reader, []byte) (*ssh.Signature, error) {
	return nil, errors.New("no private key")
}

// TestIdentityFromProvenKeyOnly is the CVE-2024-45337 case: a client
// offers alice's authorized key without proving it, then logs in by
// password; the session must carry the password login, not the key.
func TestIdentityFromProvenKeyOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, err := e.dial("alice", ssh.PublicKeys(unprovenSigner{e.signer("alice")}), ssh.Password(alicePassword))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	c.Close()
	r := e.waitLog("sftp login", "tenant", "alice", "method", "password")
	if r["key_fp"] != "" {
		t.Errorf("login took the unproven key %v", r["key_fp"])
	}
	// Offering bob's key (unproven) and logging in as bob with alice's
	// password fails: the identity is the user of the proven method.
	if _, err := e.dial("bob", ssh.PublicKeys(unprovenSigner{e.signer("bob")}), ssh.Password(alicePassword)); err == nil {
		t.Fatal("logged in as bob with alice's password")
	}
	e.waitLog("sftp login failed", "user", "bob", "methods", "password", "key_fp", "")
}

func TestConnectionLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.MaxConnsPerIP = 3
		o.MaxConnsPerTenant = 1
	})
	// Per tenant: a second session of alice is closed; bob may log in.
	c1, err := e.dial("alice", ssh.PublicKeys(e.signer("alice")))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	// The client hears of its login before the server counts it.
	waitFor(t, func() bool {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return e.srv.perTenant["alice"] == 1
	})
	if c2, err := e.dial("alice", ssh.PublicKeys(e.signer("alice"))); err == nil {
		closed := make(chan error, 1)
		go func() { closed <- c2.Wait() }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			c2.Close()
			t.Fatal("second session of alice not closed")
		}
	}
	e.waitLog("sftp refused", "tenant", "alice", "what", "connection", "why", "more than 1 connections of this tenant")
	c3, err := e.dial("bob", ssh.PublicKeys(e.signer("bob")))
	if err != nil {
		t.Fatalf("bob refused while alice is at her limit: %v", err)
	}
	defer c3.Close()

	// Per address: 3 allowed; the fourth is closed at accept.
	held, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", e.port))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	waitFor(t, func() bool {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return e.srv.perIP[netip.MustParseAddr("127.0.0.1")] == 3
	})
	if _, err := e.dial("bob", ssh.PublicKeys(e.signer("bob"))); err == nil {
		t.Fatal("fourth connection from one address accepted")
	}
	e.waitLog("sftp refused", "ip", "127.0.0.1", "what", "connection", "why", "more than 3 connections from this address")
}

func TestLoginGraceAndIdleTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.LoginGrace = 2 * time.Second // room for a login on a busy machine
		o.IdleTimeout = time.Second
	})
	// A client that says nothing is closed after the login grace time.
	raw, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", e.port))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 256)
	for err == nil {
		_, err = raw.Read(buf)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("silent client not closed after the login grace time")
	}
	e.waitLog("sftp refused", "ip", "127.0.0.1", "what", "login", "why", "not logged in within 2s")

	// A logged-in client that stays silent is closed after the idle time.
	c, err := e.dial("alice", ssh.PublicKeys(e.signer("alice")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("idle connection not closed")
	}
	e.waitLog("sftp logout", "tenant", "alice", "why", "idle timeout")
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
	}
}

func TestMatchFrom(t *testing.T) {
	for _, tc := range []struct {
		patterns string
		ip       string
		want     bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false},
		{"10.0.0.0/8", "10.1.2.3", true},
		{"10.0.0.0/8", "11.1.2.3", false},
		{"10.0.0.0/8,!10.0.0.5", "10.0.0.5", false},
		{"!10.0.0.5,10.0.0.0/8", "10.0.0.6", true},
		{"192.168.1.*", "192.168.1.77", true},
		{"192.168.1.?", "192.168.1.77", false},
		{"192.168.1.??", "192.168.1.77", true},
		{"*", "::1", true},
		{"2001:db8::/32", "2001:db8::1", true},
		{"127.0.0.0/8", "::ffff:127.0.0.1", true},
		{"erp.example.com", "192.0.2.1", false}, // host names never match: no DNS trust
		{"!10.0.0.1", "10.0.0.2", false},        // only negative patterns allow nothing
	} {
		got := matchFrom(strings.Split(tc.patterns, ","), netip.MustParseAddr(tc.ip))
		if got != tc.want {
			t.Errorf("from=%q for %s: %v, want %v", tc.patterns, tc.ip, got, tc.want)
		}
	}
}

func TestParseAuthorizedKeys(t *testing.T) {
	_, line, err := EnsureClientKey(t.TempDir(), "k")
	if err != nil {
		t.Fatal(err)
	}
	good := "# ERP keys\n\n" + line + "\n" +
		`from="10.0.0.0/8,192.168.*",no-pty,restrict ` + line + "\n" +
		`expiry-time="20000101" ` + line + "\n" +
		`command="internal-sftp",no-port-forwarding ` + line + " with a comment\n"
	keys, err := parseAuthorizedKeys([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 || len(keys[1].from) != 2 || keys[2].expires.IsZero() {
		t.Fatalf("parsed %+v", keys)
	}
	if keys[2].allows(netip.MustParseAddr("10.0.0.1"), time.Now()) {
		t.Error("expired key allowed")
	}
	for _, bad := range []string{
		"ssh-ed25519 not-base64!\n",
		`cert-authority ` + line + "\n",
		`principals="a" ` + line + "\n",
		`from="10.0.0.0/33" ` + line + "\n",
		`expiry-time="soon" ` + line + "\n",
	} {
		if _, err := parseAuthorizedKeys([]byte("# ok\n" + bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: err %v, want an error on line 2", bad, err)
		}
	}
}

func TestPasswordHashes(t *testing.T) {
	argon, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(argon, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", argon)
	}
	for _, h := range []string{argon, bcryptTest(t, "s3cret")} {
		if err := checkPasswordHash(h); err != nil {
			t.Errorf("checkPasswordHash(%q): %v", h, err)
		}
		if !verifyPassword(h, []byte("s3cret")) || verifyPassword(h, []byte("s3cret ")) {
			t.Errorf("verifyPassword with %q is wrong", h)
		}
	}
	for _, bad := range []string{"s3cret", "$1$md5$x", "$argon2id$v=19$m=99999999,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$2b$04$short"} {
		if checkPasswordHash(bad) == nil {
			t.Errorf("checkPasswordHash accepted %q", bad)
		}
	}
}

func TestDefender(t *testing.T) {
	now := time.Unix(1e9, 0)
	d := newDefender(DefenderOptions{Enabled: true, Threshold: 3, Window: time.Minute, BanTime: 10 * time.Minute}, discardLogger(), nil)
	d.now = func() time.Time { return now }
	d.add("192.0.2.1", 1, "test")
	now = now.Add(2 * time.Minute) // the first score expires
	d.add("192.0.2.1", 1, "test")
	if d.add("192.0.2.1", 1, "test") || d.banned("192.0.2.1") {
		t.Fatal("banned with scores outside the window")
	}
	if !d.add("192.0.2.1", 1, "test") || !d.banned("192.0.2.1") || d.banned("192.0.2.2") {
		t.Fatal("not banned at the threshold, or the wrong address")
	}
	now = now.Add(10*time.Minute + time.Second)
	if d.banned("192.0.2.1") {
		t.Fatal("ban did not expire")
	}
	d.sweepLocked(now)
	if len(d.hosts) != 0 {
		t.Errorf("sweep kept %d hosts", len(d.hosts))
	}
	off := newDefender(DefenderOptions{Threshold: 1}, discardLogger(), nil)
	if off.add("192.0.2.1", 5, "test") || off.banned("192.0.2.1") {
		t.Error("disabled defender banned")
	}
}

func TestKeysAndCommands(t *testing.T) {
	dir := t.TempDir()
	opt := Options{HostKeyDir: filepath.Join(dir, "hostkeys"), Logger: discardLogger()}
	s1, err := New(opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s1.HostKeyFingerprint() != s2.HostKeyFingerprint() || !strings.HasPrefix(s1.HostKeyFingerprint(), "SHA256:") {
		t.Errorf("host key not reused: %s, %s", s1.HostKeyFingerprint(), s2.HostKeyFingerprint())
	}
	keyPath := filepath.Join(dir, "hostkeys", HostKeyFile)
	for path, mode := range map[string]os.FileMode{keyPath: 0o600, filepath.Dir(keyPath): 0o700 | os.ModeDir, keyPath + ".pub": 0o644} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v, err %v; want %v", path, fi.Mode(), err, mode)
		}
	}
	os.Chmod(keyPath, 0o644)
	if _, err := New(opt, nil); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("host key readable by others accepted: %v", err)
	}

	p1, l1, err := EnsureClientKey(dir, "demo")
	if err != nil {
		t.Fatal(err)
	}
	p2, l2, _ := EnsureClientKey(dir, "demo")
	if p1 != p2 || l1 != l2 || !strings.HasPrefix(l1, "ssh-ed25519 ") || !strings.HasSuffix(l1, " demo") {
		t.Errorf("client key not reused: %q %q", l1, l2)
	}

	kh := filepath.Join(dir, "known_hosts")
	if err := WriteKnownHosts(kh, "0.0.0.0:2222", s1.HostKey()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kh)
	if !strings.HasPrefix(string(data), "[127.0.0.1]:2222,[localhost]:2222 ssh-ed25519 ") {
		t.Errorf("known_hosts: %q", data)
	}

	for _, tc := range []struct{ key, user, listen, kh, want string }{
		{"/var/lib/multikanal/demo_key", "demo", "127.0.0.1:2222", "/var/lib/multikanal/known_hosts",
			"sftp -i /var/lib/multikanal/demo_key -P 2222 -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/var/lib/multikanal/known_hosts demo@127.0.0.1"},
		{"/my keys/k", "demo", "[::]:22", "", "sftp -i '/my keys/k' -P 22 -o IdentitiesOnly=yes demo@127.0.0.1"},
		{"k", "demo", "[::1]:2222", "", "sftp -i k -P 2222 -o IdentitiesOnly=yes demo@[::1]"},
	} {
		if got := SFTPCommand(tc.key, tc.user, tc.listen, tc.kh); got != tc.want {
			t.Errorf("SFTPCommand:\n got %s\nwant %s", got, tc.want)
		}
	}
}
