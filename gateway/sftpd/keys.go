package sftpd

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/multikanal/multikanal/internal/durable"
)

// HostKeyFile is the name of the host key inside Options.HostKeyDir, as
// OpenSSH names it.
const HostKeyFile = "ssh_host_ed25519_key"

// loadOrCreateKey reads the ed25519 private key at path, or creates it (and
// path.pub beside it) when there is none. The key must not be readable by
// group or others, as OpenSSH insists. created reports a new key.
func loadOrCreateKey(path, comment string) (signer ssh.Signer, created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("key directory: %w", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		signer, err := createKey(path, comment)
		return signer, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("key %s has mode %o and may be read by others: run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	signer, err = ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("key %s: %w", path, err)
	}
	return signer, false, nil
}

// createKey writes a new ed25519 key in OpenSSH format. It writes to a
// temporary file first so that a crash never leaves half a key that would
// stop the next start.
func createKey(path, comment string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if err := durable.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	pub := authorizedLine(signer.PublicKey(), comment)
	if err := durable.WriteFile(path+".pub", []byte(pub+"\n"), 0o644); err != nil {
		return nil, err
	}
	return signer, nil
}

// authorizedLine is key in authorized_keys form with a comment.
func authorizedLine(key ssh.PublicKey, comment string) string {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	if comment != "" {
		line += " " + comment
	}
	return line
}

// EnsureClientKey returns an ed25519 client key pair in dir named name (the
// private key, OpenSSH format, mode 0600) and name.pub, creating it on the
// first call and reusing it after. authorizedKeyLine is the public key as a
// line for an authorized_keys file. The embedded default configuration uses
// it for its demo tenant, so a new user can log in at once.
func EnsureClientKey(dir, name string) (privateKeyPath, authorizedKeyLine string, err error) {
	privateKeyPath = filepath.Join(dir, name)
	signer, _, err := loadOrCreateKey(privateKeyPath, name)
	if err != nil {
		return "", "", fmt.Errorf("sftpd: client key: %w", err)
	}
	return privateKeyPath, authorizedLine(signer.PublicKey(), name), nil
}

// clientHost is the host a client on this machine connects to for listen:
// the listen host, or loopback when it listens on all addresses.
func clientHost(listen string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(listen)
	if err != nil {
		return "", "", fmt.Errorf("sftpd: listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return host, port, nil
}

// WriteKnownHosts writes a known_hosts file at path (mode 0644, replacing
// it) that trusts hostKey for the address clients use to reach listen, so
// clients and tests can connect with StrictHostKeyChecking=yes.
func WriteKnownHosts(path, listen string, hostKey ssh.PublicKey) error {
	host, port, err := clientHost(listen)
	if err != nil {
		return err
	}
	addrs := []string{knownhosts.Normalize(net.JoinHostPort(host, port))}
	if host == "127.0.0.1" {
		addrs = append(addrs, knownhosts.Normalize(net.JoinHostPort("localhost", port)))
	}
	line := knownhosts.Line(addrs, hostKey) + "\n"
	if err := durable.WriteFile(path, []byte(line), 0o644); err != nil {
		return fmt.Errorf("sftpd: known hosts: %w", err)
	}
	return nil
}

// SFTPCommand returns the OpenSSH command line that logs in as user with the
// private key at keyPath to the server listening on listen, checking the host
// key against knownHostsPath when it is not empty. The daemon prints it at
// start so a new user can copy it.
func SFTPCommand(keyPath, user, listen, knownHostsPath string) string {
	host, port, err := clientHost(listen)
	if err != nil {
		host, port = listen, "22"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	args := []string{"sftp", "-i", shellQuote(keyPath), "-P", port, "-o", "IdentitiesOnly=yes"}
	if knownHostsPath != "" {
		args = append(args, "-o", "StrictHostKeyChecking=yes", "-o", shellQuote("UserKnownHostsFile="+knownHostsPath))
	}
	args = append(args, shellQuote(user+"@"+host))
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_[]", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
