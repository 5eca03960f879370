package sftpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// authState follows one connection's authentication for the audit log and
// the defender. The ssh library calls its callbacks one at a time.
type authState struct {
	srv      *Server
	ctx      context.Context // ends when the server stops
	conn     net.Conn
	ip       netip.Addr
	log      *slog.Logger
	deadline time.Time // of the login grace time

	user        string
	methods     []string
	keyFPs      []string // fingerprints of keys offered and refused
	lastReason  string
	unknownUser bool
	keyRefused  bool // a key failed and was not yet scored
	scored      bool // the defender heard of this connection
}

// config builds the per-connection ssh configuration. Password
// authentication is offered only when some tenant has a password.
func (a *authState) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		Config:                    ssh.Config{KeyExchanges: kexAlgos, Ciphers: cipherAlgos, MACs: macAlgos},
		MaxAuthTries:              a.srv.opt.MaxAuthTries,
		PublicKeyAuthAlgorithms:   pubKeyAlgos,
		ServerVersion:             serverVersion,
		PublicKeyCallback:         a.publicKey,
		VerifiedPublicKeyCallback: a.verifiedKey,
		AuthLogCallback:           a.authLog,
	}
	for _, t := range *a.srv.tenants.Load() {
		if t.PasswordHash != "" {
			cfg.PasswordCallback = a.password
			break
		}
	}
	cfg.AddHostKey(a.srv.hostKey)
	return cfg
}

// errBanned stops authentication of a banned address.
var errBanned = errors.New("address is banned after failed logins")

// checkBan closes the connection once the address is banned, so a client
// cannot go on guessing on a connection it opened before the ban.
func (a *authState) checkBan() error {
	if a.srv.def.banned(a.ip.String()) {
		a.conn.Close()
		return errBanned
	}
	return nil
}

// publicKey accepts key if it is in the tenant's authorized_keys and
// allowed from the client's address. The library then checks the
// client's signature before the login succeeds.
func (a *authState) publicKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if err := a.checkBan(); err != nil {
		return nil, err
	}
	fp := ssh.FingerprintSHA256(key)
	t := a.srv.tenant(meta.User())
	if t == nil {
		a.unknownUser, a.keyRefused = true, true
		a.keyFPs = appendOnce(a.keyFPs, fp)
		return nil, errors.New("no such user")
	}
	keys, err := t.keys.load()
	if err != nil {
		a.log.Error("sftp authorized keys", "tenant", t.ID, "err", err)
		return nil, errors.New("authorized keys unreadable")
	}
	if _, err := findKey(keys, key, a.ip, time.Now()); err != nil {
		a.keyRefused = true
		a.keyFPs = appendOnce(a.keyFPs, fp)
		return nil, err
	}
	return &ssh.Permissions{Extensions: map[string]string{extTenant: t.ID, extKeyFP: fp, extMethod: "publickey"}}, nil
}

// verifiedKey runs only after the client proved it holds key; it checks
// that the permissions still name the user of this login.
func (a *authState) verifiedKey(meta ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
	if perms == nil || perms.Extensions[extTenant] != meta.User() || perms.Extensions[extKeyFP] != ssh.FingerprintSHA256(key) {
		return nil, errors.New("permissions do not match the verified key")
	}
	return perms, nil
}

// password verifies a password against the tenant's hash. Unknown users
// and tenants without a password cost the same time, so timing does not
// reveal them.
func (a *authState) password(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
	if err := a.checkBan(); err != nil {
		return nil, err
	}
	t := a.srv.tenant(meta.User())
	hash := dummyHash()
	if t != nil && t.PasswordHash != "" {
		hash = t.PasswordHash
	}
	if !a.srv.pw.acquire(a.ctx, a.ip, a.deadline) {
		// The login grace time is over (the connection closes and failed
		// scores it), or the server stops.
		return nil, errors.New("password not checked within the login grace time: the server is busy")
	}
	ok := verifyPassword(hash, pw)
	a.srv.pw.release()
	switch {
	case t == nil:
		a.unknownUser = true
		a.score(a.srv.opt.Defender.ScoreNoSuchUser, "password for unknown user")
		return nil, errors.New("no such user")
	case !ok || t.PasswordHash == "":
		a.score(a.srv.opt.Defender.ScoreLoginFailed, "wrong password")
		return nil, errors.New("wrong password")
	}
	return &ssh.Permissions{Extensions: map[string]string{extTenant: t.ID, extMethod: "password"}}, nil
}

// authLog records every attempt for the one audit line of a failed login.
func (a *authState) authLog(meta ssh.ConnMetadata, method string, err error) {
	a.user = meta.User()
	if method == "none" {
		return
	}
	a.methods = appendOnce(a.methods, method)
	if err != nil {
		a.lastReason = err.Error()
	}
}

// score adds to the defender and closes the connection when the address
// is banned by it.
func (a *authState) score(n int, reason string) {
	a.scored = true
	if a.srv.def.add(a.ip.String(), n, reason) {
		a.conn.Close()
	}
}

// failed logs a connection that ended before a successful login and
// scores refused keys once per connection: a client offering several keys
// is one failed login, not several.
func (a *authState) failed(err error, graceOver bool) {
	var authErr *ssh.ServerAuthError
	switch {
	case graceOver:
		a.log.Info("sftp refused", "what", "login", "user", a.user, "why", fmt.Sprintf("not logged in within %s", a.srv.opt.LoginGrace))
	case errors.As(err, &authErr) || len(a.methods) > 0 || a.user != "":
		reason := a.lastReason
		if reason == "" {
			reason = err.Error()
		}
		if len(a.methods) == 0 {
			reason = "the client left before it tried to log in: " + reason
		}
		a.log.Info("sftp login failed", "user", a.user, "methods", strings.Join(a.methods, ","),
			"key_fp", strings.Join(a.keyFPs, ","), "why", reason)
		if o := a.srv.opt.Observer; o != nil {
			o.AuthFailure()
		}
	default:
		a.log.Info("sftp refused", "what", "handshake", "why", err.Error())
	}
	switch {
	case a.keyRefused:
		score, reason := a.srv.opt.Defender.ScoreLoginFailed, "key refused"
		if a.unknownUser {
			score, reason = a.srv.opt.Defender.ScoreNoSuchUser, "key for unknown user"
		}
		a.score(score, reason)
	case !a.scored && a.user != "" && a.ctx.Err() == nil:
		// The client began to log in and left (or was cut off by the
		// grace time) before an attempt was scored: counted as a failed
		// attempt, or a guesser could disconnect as soon as an answer is
		// slow and never be banned.
		score, reason := a.srv.opt.Defender.ScoreLoginFailed, "left during login"
		if a.srv.tenant(a.user) == nil {
			score, reason = a.srv.opt.Defender.ScoreNoSuchUser, "left during login as unknown user"
		}
		a.score(score, reason)
	}
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
