package sftpd

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// authorizedKey is one usable line of an authorized_keys file.
type authorizedKey struct {
	key     ssh.PublicKey
	from    []string  // from="..." patterns; empty: any address
	expires time.Time // expiry-time="..."; zero: never
	line    int
}

// ignoredKeyOptions restrict what OpenSSH would let a key do beyond file
// transfer. This server offers nothing but SFTP, so they hold already.
var ignoredKeyOptions = map[string]bool{
	"restrict": true, "no-pty": true, "no-port-forwarding": true,
	"no-agent-forwarding": true, "no-x11-forwarding": true, "no-user-rc": true,
	"command": true, "environment": true, "permitopen": true, "permitlisten": true,
	"no-touch-required": true, "verify-required": true, "pty": true,
	"port-forwarding": true, "agent-forwarding": true, "x11-forwarding": true,
	"user-rc": true, "tunnel": true,
}

// parseAuthorizedKeys reads an OpenSSH authorized_keys file: one key per
// line with optional options before it, blank lines and # comments ignored.
// Unlike ssh.ParseAuthorizedKey on a whole file, a malformed line is an
// error with its line number rather than silently skipped, and an option
// that would restrict a key in a way this server does not enforce
// (cert-authority, principals=) is an error too: failing closed beats
// granting more than the administrator wrote.
func parseAuthorizedKeys(data []byte) ([]authorizedKey, error) {
	var keys []authorizedKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, _, options, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		ak := authorizedKey{key: pub, line: n}
		for _, opt := range options {
			name, value, hasValue := strings.Cut(opt, "=")
			name = strings.ToLower(name)
			if hasValue {
				value = strings.Trim(value, `"`)
			}
			switch {
			case name == "from" && hasValue:
				ak.from = strings.Split(value, ",")
				for _, p := range ak.from {
					if err := checkFromPattern(p); err != nil {
						return nil, fmt.Errorf("line %d: from=%q: %w", n, value, err)
					}
				}
			case name == "expiry-time" && hasValue:
				if ak.expires, err = parseExpiry(value); err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
			case ignoredKeyOptions[name]:
			default:
				return nil, fmt.Errorf("line %d: option %q is not supported by the SFTP inbox: remove it or the key", n, opt)
			}
		}
		keys = append(keys, ak)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading authorized keys: %w", err)
	}
	return keys, nil
}

// parseExpiry reads OpenSSH's expiry-time format, YYYYMMDD[HHMM[SS]] in
// local time, or UTC with a trailing Z.
func parseExpiry(v string) (time.Time, error) {
	loc := time.Local
	if s, ok := strings.CutSuffix(v, "Z"); ok {
		v, loc = s, time.UTC
	}
	for _, layout := range []string{"20060102150405", "200601021504", "20060102"} {
		if len(v) == len(layout) {
			if t, err := time.ParseInLocation(layout, v, loc); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("expiry-time=%q: want YYYYMMDD[HHMM[SS]][Z]", v)
}

// checkFromPattern rejects a from= pattern that could never match, such as
// a malformed CIDR, so a typo cannot silently lock a tenant out or in.
func checkFromPattern(p string) error {
	p = strings.TrimPrefix(p, "!")
	if p == "" {
		return errors.New("empty pattern")
	}
	if strings.Contains(p, "/") {
		if _, err := netip.ParsePrefix(p); err != nil {
			return fmt.Errorf("bad CIDR %q: %w", p, err)
		}
	}
	return nil
}

// allows reports whether the key may be used now by a client at ip.
func (ak authorizedKey) allows(ip netip.Addr, now time.Time) bool {
	if !ak.expires.IsZero() && now.After(ak.expires) {
		return false
	}
	return len(ak.from) == 0 || matchFrom(ak.from, ip)
}

// matchFrom applies an OpenSSH from= pattern list to the client address:
// a negated pattern that matches denies, otherwise any matching pattern
// allows. Patterns are CIDR blocks or wildcards (* and ?) matched against the
// address in text form; host names never match because the server does not
// trust reverse DNS.
func matchFrom(patterns []string, ip netip.Addr) bool {
	ip = ip.Unmap()
	text := ip.String()
	allowed := false
	for _, p := range patterns {
		negated := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var hit bool
		if strings.Contains(p, "/") {
			prefix, err := netip.ParsePrefix(p)
			hit = err == nil && prefix.Contains(ip)
		} else {
			hit = wildcardMatch(strings.ToLower(p), strings.ToLower(text))
		}
		if hit && negated {
			return false
		}
		allowed = allowed || hit
	}
	return allowed
}

// wildcardMatch matches s against a pattern of literal characters, '*' (any
// run) and '?' (one character), as OpenSSH's match_pattern does.
func wildcardMatch(pattern, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			starP, starS = px, sx
			px++
		case starP >= 0:
			starS++
			px, sx = starP+1, starS
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// keyFile caches a tenant's parsed authorized_keys and reads it again when
// its size, time or inode change, so that an edit takes effect at the next
// login as with OpenSSH, without a read per offered key.
type keyFile struct {
	path string

	mu   sync.Mutex
	info os.FileInfo
	keys []authorizedKey
}

// load returns the current keys.
func (k *keyFile) load() ([]authorizedKey, error) {
	if k == nil || k.path == "" {
		return nil, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	fi, err := os.Stat(k.path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys %s: %w", k.path, err)
	}
	if k.info != nil && os.SameFile(fi, k.info) && fi.Size() == k.info.Size() && fi.ModTime().Equal(k.info.ModTime()) {
		return k.keys, nil
	}
	data, err := os.ReadFile(k.path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys %s: %w", k.path, err)
	}
	keys, err := parseAuthorizedKeys(data)
	if err != nil {
		return nil, fmt.Errorf("authorized keys %s: %w", k.path, err)
	}
	k.info, k.keys = fi, keys
	return keys, nil
}

// findKey returns the authorized entry for key usable from ip, and why not when
// there is none.
func findKey(keys []authorizedKey, key ssh.PublicKey, ip netip.Addr, now time.Time) (authorizedKey, error) {
	wire := key.Marshal()
	for _, ak := range keys {
		if subtle.ConstantTimeCompare(ak.key.Marshal(), wire) != 1 {
			continue
		}
		if ak.allows(ip, now) {
			return ak, nil
		}
		return authorizedKey{}, fmt.Errorf("key of line %d is not allowed from %s or has expired", ak.line, ip)
	}
	return authorizedKey{}, errors.New("key is not in authorized_keys")
}

// Argon2id parameters of HashPassword, OWASP's first recommendation (19 MiB
// of memory, 2 passes): guessing on GPUs is expensive, while a login costs
// the server about 50 ms of one core.
const (
	argonTime    = 2
	argonMemory  = 19 << 10 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
	// argonMaxMemory bounds what a configured hash may ask for, so a
	// mistyped hash cannot make every login allocate gigabytes.
	argonMaxMemory = 1 << 20 // KiB
)

// HashPassword returns an argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash) for Tenant.PasswordHash.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("sftpd: password salt: %w", err)
	}
	sum := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(sum)), nil
}

// argonHash is a parsed argon2id PHC string.
type argonHash struct {
	time, memory uint32
	threads      uint8
	salt, sum    []byte
}

// parseArgon2id reads $argon2id$v=19$m=..,t=..,p=..$salt$hash.
func parseArgon2id(h string) (argonHash, error) {
	var a argonHash
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return a, errors.New("argon2id hash: want $argon2id$v=19$m=..,t=..,p=..$salt$hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return a, fmt.Errorf("argon2id hash: version %q is not supported, want v=19", parts[2])
	}
	var p int
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.memory, &a.time, &p); err != nil {
		return a, fmt.Errorf("argon2id hash parameters %q: %w", parts[3], err)
	}
	if a.memory < 8 || a.memory > argonMaxMemory || a.time < 1 || a.time > 16 || p < 1 || p > 64 {
		return a, fmt.Errorf("argon2id hash parameters %q are out of range (m 8..%d KiB, t 1..16, p 1..64)", parts[3], argonMaxMemory)
	}
	a.threads = uint8(p)
	var err error
	if a.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(a.salt) < 8 {
		return a, errors.New("argon2id hash: salt is not base64 of at least 8 bytes")
	}
	if a.sum, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(a.sum) < 16 {
		return a, errors.New("argon2id hash: hash is not base64 of at least 16 bytes")
	}
	return a, nil
}

// checkPasswordHash validates a configured hash without a password.
func checkPasswordHash(h string) error {
	switch {
	case h == "":
		return nil
	case strings.HasPrefix(h, "$argon2id$"):
		_, err := parseArgon2id(h)
		return err
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		if _, err := bcrypt.Cost([]byte(h)); err != nil {
			return fmt.Errorf("bcrypt hash: %w", err)
		}
		return nil
	}
	return errors.New("password hash must be argon2id ($argon2id$...) or bcrypt ($2b$...); plain text passwords are not accepted")
}

// verifyPassword compares password with a hash in constant time. A hash
// that does not parse never matches.
func verifyPassword(h string, password []byte) bool {
	if strings.HasPrefix(h, "$argon2id$") {
		a, err := parseArgon2id(h)
		if err != nil {
			return false
		}
		sum := argon2.IDKey(password, a.salt, a.time, a.memory, a.threads, uint32(len(a.sum)))
		return subtle.ConstantTimeCompare(sum, a.sum) == 1
	}
	return bcrypt.CompareHashAndPassword([]byte(h), password) == nil
}

// dummyHash is verified for unknown users and tenants without a password, so
// that the time of a refusal does not tell which user names exist.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("multikanal: no such user")
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return h
})
