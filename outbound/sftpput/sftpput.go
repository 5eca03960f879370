// Package sftpput is the SFTP push transport: it delivers one file per
// message into a folder on a receiver's SFTP server. The bank channels
// (AutoGiro, e-faktura) and the print channel use it to hand their batch
// files to Bankgirot, a bank's file service or a print house.
//
// A send is all or nothing for the receiver: the file is written under a
// temporary name, its size is checked on the server, and only then is it
// renamed to its final name, replacing an earlier copy of the same name. The
// name comes from the batch key, so a resend after a crash lands on the same
// name instead of adding a second file. The host key is always checked
// against a known_hosts file; there is no way to turn that off.
//
// It is not a general SFTP client: it never reads, lists or deletes the
// receiver's files (beyond its own temporary file and the one file it
// replaces), and it opens one connection per message. Fetching the bank's
// reply files is another concern.
//
// docs/channels/sftp-push.md describes configuration, error classes and what
// the receiver sees.
package sftpput

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/multikanal/multikanal/outbound"
)

// DefaultTimeout bounds connecting and, after that, any wait without a byte
// moving in either direction.
const DefaultTimeout = 30 * time.Second

// Options configure a Transport. Addr, User, KnownHostsFile and one of
// KeyFile or Signer are required.
type Options struct {
	// Addr is the server as host:port; a missing port means 22.
	Addr string
	// User is the login name the receiver gave us.
	User string
	// KeyFile is the client's private key in OpenSSH (or PEM) format,
	// without a passphrase: protect it with file permissions or a systemd
	// credential. It is read once, by New.
	KeyFile string
	// Signer is the client key itself, instead of KeyFile.
	Signer ssh.Signer
	// KnownHostsFile is an OpenSSH known_hosts file that must list the
	// server's host key for Addr. It is read again at every send, so a
	// corrected file takes effect at the next retry without a restart.
	KnownHostsFile string
	// RemoteDir is the folder the files go to: absolute, or relative to the
	// folder the server starts the session in (empty means that folder).
	RemoteDir string
	// Timeout bounds the TCP connect and every later wait in which no data
	// moves (default DefaultTimeout). The caller's context bounds the whole
	// send.
	Timeout time.Duration
	// Logger receives one line per file delivered (default slog.Default()).
	Logger *slog.Logger
}

// Transport pushes messages to one SFTP server and folder. It is safe for
// concurrent use: every Send has its own connection.
type Transport struct {
	opt    Options
	signer ssh.Signer
	log    *slog.Logger
}

// New checks opt and loads the client key. It refuses to construct a
// transport without a known_hosts file that holds a key for opt.Addr: an
// unverified server could be anyone, and these files carry payment orders.
func New(opt Options) (*Transport, error) {
	if opt.Addr == "" {
		return nil, errors.New("sftpput: addr is empty: set the receiver's server as host:port")
	}
	if _, _, err := net.SplitHostPort(opt.Addr); err != nil {
		opt.Addr = net.JoinHostPort(strings.Trim(opt.Addr, "[]"), "22")
		if _, _, err := net.SplitHostPort(opt.Addr); err != nil {
			return nil, fmt.Errorf("sftpput: addr %q is not host:port: %w", opt.Addr, err)
		}
	}
	if opt.User == "" {
		return nil, fmt.Errorf("sftpput %s: username is empty: set the login name the receiver gave you", opt.Addr)
	}
	if opt.KnownHostsFile == "" {
		return nil, fmt.Errorf("sftpput %s: known_hosts is empty: the server's host key must be verified; "+
			"see docs/channels/sftp-push.md for how to get it", opt.Addr)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.RemoteDir != "" {
		opt.RemoteDir = path.Clean(opt.RemoteDir)
	}
	signer, err := loadSigner(opt)
	if err != nil {
		return nil, err
	}
	if err := checkKnownHosts(opt.KnownHostsFile, opt.Addr); err != nil {
		return nil, fmt.Errorf("sftpput %s: %w", opt.Addr, err)
	}
	return &Transport{opt: opt, signer: signer, log: opt.Logger}, nil
}

// loadSigner returns the client key from exactly one of Signer or KeyFile.
func loadSigner(opt Options) (ssh.Signer, error) {
	switch {
	case opt.Signer != nil && opt.KeyFile != "":
		return nil, fmt.Errorf("sftpput %s: both a key file and a signer are set: use one", opt.Addr)
	case opt.Signer != nil:
		return opt.Signer, nil
	case opt.KeyFile == "":
		return nil, fmt.Errorf("sftpput %s: key_file is empty: set the client's private key", opt.Addr)
	}
	data, err := os.ReadFile(opt.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("sftpput %s: key_file: %w", opt.Addr, err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	var pe *ssh.PassphraseMissingError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("sftpput %s: key_file %s is protected by a passphrase, which a daemon cannot type: "+
			"remove it (ssh-keygen -p -N '' -f FILE) and protect the file with its permissions instead: %w", opt.Addr, opt.KeyFile, err)
	}
	if err != nil {
		return nil, fmt.Errorf("sftpput %s: key_file %s: %w", opt.Addr, opt.KeyFile, err)
	}
	return signer, nil
}

// PublicKey returns the client's public key in authorized_keys form: what
// the receiver must install for User.
func (t *Transport) PublicKey() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(t.signer.PublicKey())))
}

// Send uploads m.Body as RemoteDir/m.Name, replacing a file of that name.
// The returned Ref is sftp://user@addr/dir/name ("/~/dir/name" when
// RemoteDir is relative). Errors are classified (see outbound.ClassOf):
// a network failure, a server failure such as a full disk, a refused login
// or cancellation is temporary; a host key that does not match
// known_hosts, a missing or read-only folder or a bad name is permanent.
func (t *Transport) Send(ctx context.Context, m outbound.Message) (outbound.Sent, error) {
	if err := ctx.Err(); err != nil {
		return outbound.Sent{}, outbound.Temporary(fmt.Errorf("%s: %w", t.where(), err))
	}
	if err := checkName(m.Name); err != nil {
		return outbound.Sent{}, outbound.Permanent(fmt.Errorf("%s: %w", t.where(), err))
	}
	start := time.Now()
	c, err := t.dial(ctx)
	if err != nil {
		return outbound.Sent{}, err
	}
	defer c.close()
	final := path.Join(t.opt.RemoteDir, m.Name)
	how, err := c.put(final, m.Body)
	if err != nil {
		return outbound.Sent{}, err
	}
	ref := t.ref(final)
	t.log.Info("sftp push", "ref", ref, "size", len(m.Body), "key", m.Key, "rename", how,
		"seconds", time.Since(start).Seconds())
	return outbound.Sent{Ref: ref}, nil
}

// where names the account and server in error messages.
func (t *Transport) where() string { return "sftp " + t.opt.User + "@" + t.opt.Addr }

// ref is the URI of a remote path, after draft-ietf-secsh-scp-sftp-ssh-uri:
// a path relative to the login folder starts with "/~/".
func (t *Transport) ref(p string) string {
	if !path.IsAbs(p) {
		p = "/~/" + p
	}
	return "sftp://" + t.opt.User + "@" + t.opt.Addr + p
}

// checkName accepts a plain file name. Names starting with '.' are refused
// because the temporary names are hidden ones, and receivers skip them.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("message has no file name")
	case strings.ContainsAny(name, "/\\"), strings.HasPrefix(name, "."):
		return fmt.Errorf("message name %q is not a plain file name", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("message name %q holds a control character", name)
		}
	}
	return nil
}

// tempNames are the names tried, in order, for the file while it is
// written: hidden, so that a receiver that polls its folder ignores it, and
// ending in .part for receivers that skip those instead. Some servers
// (ours, and managed file transfer products) refuse names starting with a
// dot; for them the visible <name>.part, the WinSCP/lftp convention, is the
// fallback. Both are derived from the final name, so a temporary file left
// by a crash is overwritten by the resend instead of piling up.
func tempNames(final string) []string {
	dir, name := path.Split(final)
	return []string{dir + "." + name + ".part", dir + name + ".part"}
}

// conn is one logged-in SFTP session, for one Send.
type conn struct {
	t    *Transport
	ctx  context.Context
	ssh  *ssh.Client
	sftp *sftp.Client
	stop func() bool // stops closing nc when ctx is done
}

// close ends the session; the send's outcome is already decided.
func (c *conn) close() {
	c.stop()
	c.sftp.Close()
	c.ssh.Close()
}

// put writes body under a temporary name, checks its size on the server
// and renames it to final. It returns how the rename was done, for the
// log. On failure it removes the temporary file when the connection still
// allows; if it cannot, the resend truncates and reuses it.
func (c *conn) put(final string, body []byte) (string, error) {
	tmp, f, err := c.create(final)
	if err != nil {
		return "", err
	}
	_, err = f.ReadFrom(bytes.NewReader(body))
	if cerr := f.Close(); err == nil {
		// The close is where a server that writes lazily, or ours, which
		// syncs and renames then, reports a failure.
		err = cerr
	}
	if err != nil {
		c.sftp.Remove(tmp)
		return "", c.fail("upload", tmp, err)
	}
	if err := c.checkSize(tmp, int64(len(body))); err != nil {
		return "", err
	}
	how, err := c.rename(tmp, final)
	if err != nil {
		c.sftp.Remove(tmp)
		return "", c.fail("rename to "+final, tmp, err)
	}
	return how, nil
}

// create opens the first temporary name the server accepts, truncating
// what a crashed earlier attempt left there.
func (c *conn) create(final string) (string, *sftp.File, error) {
	var err error
	for _, tmp := range tempNames(final) {
		var f *sftp.File
		f, err = c.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err == nil {
			return tmp, f, nil
		}
		if !isPermission(err) {
			return "", nil, c.fail("create", tmp, err)
		}
	}
	return "", nil, c.fail("create", tempNames(final)[1], err)
}

// checkSize compares the size the server reports for p with want, and
// removes p when they differ: a short file must never be renamed into place,
// and a resend writes it whole again.
func (c *conn) checkSize(p string, want int64) error {
	fi, err := c.sftp.Stat(p)
	if err != nil {
		c.sftp.Remove(p)
		return c.fail("check size of", p, err)
	}
	if fi.Size() != want {
		c.sftp.Remove(p)
		return outbound.Temporaryf("%s: %s has %d bytes on the server after the upload, want %d: removed it, the send will be retried",
			c.t.where(), p, fi.Size(), want)
	}
	return nil
}

// rename moves tmp to final, replacing final. posix-rename replaces in
// one step, so the receiver sees the old file or the new one, never
// neither. Without it, SSH_FXP_RENAME refuses an existing target (as
// OpenSSH implements it), so an existing final is removed first: between
// the remove and the rename the name is briefly absent, and a crash there
// leaves only the temporary file, which the resend replaces.
func (c *conn) rename(tmp, final string) (string, error) {
	if _, ok := c.sftp.HasExtension("posix-rename@openssh.com"); ok {
		return "posix-rename", c.sftp.PosixRename(tmp, final)
	}
	_, err := c.sftp.Stat(final)
	switch {
	case err == nil:
		if err := c.sftp.Remove(final); err != nil {
			return "", fmt.Errorf("remove the earlier %s: %w", final, err)
		}
		return "remove+rename", c.sftp.Rename(tmp, final)
	case errors.Is(err, os.ErrNotExist):
		return "rename", c.sftp.Rename(tmp, final)
	}
	return "", err
}
