package sftpput

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/multikanal/multikanal/outbound"
)

// dial connects, verifies the host key, logs in and starts SFTP. Its
// errors are classified.
func (t *Transport) dial(ctx context.Context) (*conn, error) {
	// Read at every send: after a host key change, the corrected file
	// works at the next retry.
	hostKeys, err := knownhosts.New(t.opt.KnownHostsFile)
	if err != nil {
		return nil, outbound.Permanent(fmt.Errorf("%s: known_hosts: %w", t.where(), err))
	}
	d := net.Dialer{Timeout: t.opt.Timeout}
	nc, err := d.DialContext(ctx, "tcp", t.opt.Addr)
	if err != nil {
		return nil, classifyNet(ctx, t.where()+": connect", err)
	}
	// pkg/sftp and x/crypto/ssh take no context: closing the socket is
	// what ends their waits when ctx is done.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	fail := func(err error) (*conn, error) {
		stop()
		nc.Close()
		return nil, err
	}

	var hostErr error
	cfg := &ssh.ClientConfig{
		User: t.opt.User,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(t.signer)},
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			if err := hostKeys(host, remote, key); err != nil {
				hostErr = hostKeyError(t.opt.KnownHostsFile, host, key, err)
				return hostErr
			}
			return nil
		},
		HostKeyAlgorithms: knownAlgorithms(hostKeys, t.opt.Addr),
	}
	sc, chans, reqs, err := ssh.NewClientConn(&idleConn{Conn: nc, timeout: t.opt.Timeout}, t.opt.Addr, cfg)
	var algErr *ssh.AlgorithmNegotiationError
	switch {
	case err == nil:
	case hostErr != nil:
		return fail(outbound.Permanent(fmt.Errorf("%s: %w", t.where(), hostErr)))
	case ctx.Err() != nil:
		return fail(classifyNet(ctx, t.where()+": ssh handshake", err))
	case strings.Contains(err.Error(), "unable to authenticate"):
		// A wrong key and a bank that refuses every login during
		// maintenance look the same from here. Temporary: the batch
		// waits and is retried with backoff (the retry budget still
		// ends it), instead of a payment file being abandoned at the
		// first refusal; the message says what to check if it persists.
		return fail(outbound.Temporary(fmt.Errorf("%s: login refused for key %s: if this persists, "+
			"check that the receiver has installed this public key for user %q (it may also be refusing logins during maintenance): %w",
			t.where(), ssh.FingerprintSHA256(t.signer.PublicKey()), t.opt.User, err)))
	case errors.As(err, &algErr):
		return fail(outbound.Permanent(fmt.Errorf("%s: the server offers no algorithm we accept "+
			"(for the host key: none of the key types known_hosts lists for it): %w", t.where(), err)))
	default:
		return fail(classifyNet(ctx, t.where()+": ssh handshake", err))
	}
	client := ssh.NewClient(sc, chans, reqs)
	// Concurrent writes keep several packets in flight: sequential ones
	// wait a round trip per 32 KiB, which to a bank is a few MB/s. Their
	// catch, a file longer than what was written after an error, cannot
	// reach the receiver: a failed upload is never renamed into place.
	sc2, err := sftp.NewClient(client, sftp.UseConcurrentWrites(true))
	if err != nil {
		client.Close()
		if ctx.Err() == nil && !isNetErr(err) {
			// The account exists but has no SFTP subsystem (a shell-only
			// or scp-only account): the receiver has to change that.
			return fail(outbound.Permanent(fmt.Errorf("%s: the server did not start SFTP for this account: %w", t.where(), err)))
		}
		return fail(classifyNet(ctx, t.where()+": start sftp", err))
	}
	return &conn{t: t, ctx: ctx, ssh: client, sftp: sc2, stop: stop}, nil
}

// idleConn fails a read or write that waits longer than timeout, so a
// server that stops answering cannot hold a send for ever when the caller's
// context has no deadline. Any traffic in either direction extends it.
type idleConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}

// probeKey is a key that no known_hosts file lists, for asking a host key
// callback which keys it knows for a host.
var probeKey, _ = ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))

// probeRemote is passed as the remote address to the probe; knownhosts
// checks the host name when one is given, so its value does not matter.
var probeRemote = net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:22"))

// knownKeys returns the keys hostKeys lists for addr.
func knownKeys(hostKeys ssh.HostKeyCallback, addr string) []knownhosts.KnownKey {
	var ke *knownhosts.KeyError
	if errors.As(hostKeys(addr, probeRemote, probeKey), &ke) {
		return ke.Want
	}
	return nil
}

// knownAlgorithms restricts the host key algorithms to the types listed
// for addr. Without it the server may present, say, its ed25519 key while
// known_hosts holds only its RSA key, and a correct setup would fail as a
// mismatch.
func knownAlgorithms(hostKeys ssh.HostKeyCallback, addr string) []string {
	var algos []string
	seen := map[string]bool{}
	for _, k := range knownKeys(hostKeys, addr) {
		typ := k.Key.Type()
		names := []string{typ}
		if typ == ssh.KeyAlgoRSA {
			// ssh-rsa (SHA-1) last, for bank servers older than OpenSSH 7.2.
			names = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				algos = append(algos, n)
			}
		}
	}
	return algos
}

// checkKnownHosts makes sure the file parses and lists a key for addr, so
// that a missing key is a configuration error at start, not a failed send.
func checkKnownHosts(file, addr string) error {
	hostKeys, err := knownhosts.New(file)
	if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	if len(knownKeys(hostKeys, addr)) == 0 {
		return fmt.Errorf("known_hosts %s lists no host key for %s: %s", file, knownhosts.Normalize(addr), keyscanHint(addr))
	}
	return nil
}

// keyscanHint says how to get a server's host key.
func keyscanHint(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("get it with `ssh-keyscan -p %s %s`, compare its fingerprint (ssh-keygen -lf) with the one the receiver gives you "+
		"by another channel, and add the line (see docs/channels/sftp-push.md)", port, host)
}

// hostKeyError explains a host key the known_hosts file does not accept.
func hostKeyError(file, host string, key ssh.PublicKey, err error) error {
	seen := key.Type() + " " + ssh.FingerprintSHA256(key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("host key %s of %s is marked @revoked in %s line %d: %w", seen, host, re.Revoked.Filename, re.Revoked.Line, err)
	case errors.As(err, &ke) && len(ke.Want) == 0:
		return fmt.Errorf("host key %s of %s is not in %s: %s: %w", seen, host, file, keyscanHint(host), err)
	case errors.As(err, &ke):
		var want []string
		for _, k := range ke.Want {
			want = append(want, fmt.Sprintf("%s %s (%s line %d)", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
		}
		return fmt.Errorf("HOST KEY MISMATCH: %s presented %s, but known_hosts expects %s. "+
			"Someone may be intercepting the connection, or the receiver changed its key: nothing was sent; "+
			"confirm the new fingerprint with the receiver by another channel before you replace the line in %s: %w",
			host, seen, strings.Join(want, ", "), file, err)
	}
	return fmt.Errorf("host key %s of %s: %w", seen, host, err)
}
