package sftpd

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/ssh"
)

// heavyArgonHash is an argon2id hash of pw with parameters heavy enough that a
// flood of attempts makes hashing the bottleneck.
func heavyArgonHash(t *testing.T, pw string, time, memory uint32) string {
	t.Helper()
	salt := make([]byte, 16)
	rand.Read(salt)
	sum := argon2.IDKey([]byte(pw), salt, time, memory, 1, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", memory, time, enc.EncodeToString(salt), enc.EncodeToString(sum))
}

// TestLoginDuringPasswordFlood: 120 connections guessing passwords made a
// correct login time out, waiting behind every guess for the two hashing
// slots. Hashing slots go to the waiting addresses in turn now, so a login
// from another address waits for about one hash per flooding address (here
// three: ~2 s in all, against 30 s of login grace time).
func TestLoginDuringPasswordFlood(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.MaxConnsPerIP = 80
		o.MaxStartups = Startups{Start: 1000, Rate: 100, Full: 1000}
	})
	// About 0.4-0.7 s per hash on the reference machine while the flood
	// keeps both cores busy: 240 guesses queued take a minute to hash,
	// twice the login grace time.
	bob := e.tenants["bob"].Tenant
	bob.PasswordHash = heavyArgonHash(t, testPassword, 4, 64<<10)
	if err := e.srv.SetTenants([]Tenant{e.tenants["alice"].Tenant, bob}); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", e.port)
	ctx, stop := context.WithCancel(context.Background())
	var flood sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	defer func() {
		stop()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		flood.Wait()
	}()
	for i := range 240 {
		flood.Go(func() {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%3))}}
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				mu.Lock()
				conns[c] = true
				mu.Unlock()
				cfg := &ssh.ClientConfig{User: "bob", HostKeyCallback: ssh.FixedHostKey(e.srv.HostKey()),
					Auth: []ssh.AuthMethod{ssh.RetryableAuthMethod(ssh.Password("guess"), 100)}}
				if sc, _, _, err := ssh.NewClientConn(c, addr, cfg); err == nil {
					sc.Close()
					t.Error("a guess logged in")
				}
				c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}
		})
	}
	// The flood is on once most guesses wait for a hashing slot.
	began := time.Now()
	waitFor(t, func() bool {
		e.srv.pw.mu.Lock()
		defer e.srv.pw.mu.Unlock()
		n := 0
		for _, q := range e.srv.pw.waiting {
			n += len(q)
		}
		return n >= 120
	})
	t.Logf("flood took %v to build", time.Since(began))
	start := time.Now()
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "bob", Auth: []ssh.AuthMethod{ssh.Password(testPassword)},
		HostKeyCallback: ssh.FixedHostKey(e.srv.HostKey()), Timeout: time.Minute})
	if err != nil {
		t.Fatalf("the right password during a flood of guesses: %v", err)
	}
	c.Close()
	t.Logf("logged in after %v during a flood of 240 connections", time.Since(start))
	e.waitLog("sftp login", "tenant", "bob", "ip", "127.0.0.1", "method", "password")
}

// TestCutOffLoginsAreScored: a client that left in the middle of its login
// was never counted towards a ban, so a guesser could disconnect whenever
// an answer was slow. Leaving before the login completes counts as a
// failed attempt.
func TestCutOffLoginsAreScored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Defender = DefenderOptions{Enabled: true, Threshold: 3, ScoreLoginFailed: 1, ScoreNoSuchUser: 2,
			Window: time.Minute, BanTime: time.Minute}
	})
	addr := net.JoinHostPort("127.0.0.1", e.port)
	// The client asks which methods there are ("none"), and leaves when
	// it would send its password.
	cutOff := func() error {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		cfg := &ssh.ClientConfig{User: "bob", HostKeyCallback: ssh.FixedHostKey(e.srv.HostKey()),
			Auth: []ssh.AuthMethod{ssh.PasswordCallback(func() (string, error) {
				c.Close()
				return "", errors.New("cut off")
			})}}
		_, _, _, err = ssh.NewClientConn(c, addr, cfg)
		return err
	}
	for i := range 3 {
		if err := cutOff(); err == nil {
			t.Fatal("a cut-off login logged in")
		}
		waitFor(t, func() bool {
			return e.countLog("sftp login failed", "user", "bob", "why", "~left before it tried") == i+1
		})
	}
	e.waitLog("sftp ban", "ip", "127.0.0.1", "score", "3", "reason", "left during login")
	if _, err := e.dial("bob", ssh.Password(testPassword)); err == nil {
		t.Fatal("banned address logged in")
	}
	e.waitLog("sftp refused", "ip", "127.0.0.1", "what", "connection", "why", "~banned")
}

// The hashing slots go to the waiting addresses in turn: a newcomer waits
// behind at most one waiter of each address, not behind all of them.
func TestHashGateTakesAddressesInTurn(t *testing.T) {
	g := newHashGate(1)
	ctx := context.Background()
	far := time.Now().Add(time.Minute)
	flood, other := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	if !g.acquire(ctx, flood, far) {
		t.Fatal("first acquire")
	}
	var order []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	enter := func(who string, ip netip.Addr, queued int) {
		wg.Go(func() {
			if !g.acquire(ctx, ip, far) {
				t.Error("acquire failed")
				return
			}
			mu.Lock()
			order = append(order, who)
			mu.Unlock()
			g.release()
		})
		// In line before the next one comes.
		waitFor(t, func() bool {
			g.mu.Lock()
			defer g.mu.Unlock()
			return len(g.waiting[ip]) == queued
		})
	}
	for i := range 5 {
		enter(fmt.Sprintf("flood%d", i), flood, i+1)
	}
	enter("other", other, 1)
	g.release()
	wg.Wait()
	if got := strings.Join(order, ","); !strings.HasPrefix(got, "flood0,other,") {
		t.Errorf("served %s; want the other address second", got)
	}
	// A waiter whose time is up leaves its place.
	if !g.acquire(ctx, flood, far) {
		t.Fatal("acquire")
	}
	if g.acquire(ctx, other, time.Now().Add(20*time.Millisecond)) {
		t.Error("acquired past the deadline")
	}
	g.release()
	if len(g.turn) != 0 || len(g.waiting) != 0 || g.free != 1 {
		t.Errorf("left behind: turn %v, waiting %v, free %d", g.turn, g.waiting, g.free)
	}
}
