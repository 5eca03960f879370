package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/multikanal/multikanal/config"
)

// The public listener is the one meant to face the internet (through a
// reverse proxy or with its own TLS): it serves receivers' callbacks and
// nothing else, so nothing on it reads the store for an outsider. A
// callback's URL carries the delivery it is about and an HMAC of that
// delivery under a secret kept in the data directory: a receiver gets the
// URL of each delivery from the daemon, and nobody can make one up for
// another delivery. 46elks, whose API the SMS channel speaks, does not
// sign its callbacks (its documentation offers basic auth or a key in the
// URL), so the signed key is the only proof a report is genuine.

// maxPublicBody bounds a callback's body: an SMS report is a few hundred
// bytes.
const maxPublicBody = 64 << 10

// callbackKeyName is the signing key the daemon generates in
// <data>/keys when public.signing_key_file is not set.
const callbackKeyName = "callback.key"

// callbackKeys signs and checks callback keys.
type callbackKeys struct {
	secret []byte
}

// loadCallbackKeys reads public.signing_key_file or the generated key;
// nil when the public listener is off.
func loadCallbackKeys(cfg *config.Config, dataDir string) (*callbackKeys, error) {
	if cfg.Public.Listen == "" {
		return nil, nil
	}
	path := cfg.Public.SigningKeyFile
	if path == "" {
		path = filepath.Join(dataDir, "keys", callbackKeyName)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, err
			}
			b := make([]byte, 32)
			rand.Read(b)
			if err := writeSecret(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("generating the callback signing key: %w", err)
			}
		}
	}
	secret, err := config.ReadSecret(path)
	if err != nil {
		return nil, fmt.Errorf("public.signing_key_file: %w", err)
	}
	if len(secret) < minTokenLen {
		return nil, fmt.Errorf("public.signing_key_file %s: the key has %d characters; use at least %d random ones (openssl rand -hex 32)", path, len(secret), minTokenLen)
	}
	return &callbackKeys{secret: secret}, nil
}

// sign returns the key of a callback of kind about the delivery id: 256
// bits, URL-safe. The kind is signed too, so a key given for an SMS report
// opens no other receiver's callback.
func (c *callbackKeys) sign(kind, id string) string {
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte("multikanal callback v1\x00" + kind + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// valid checks a key in constant time.
func (c *callbackKeys) valid(kind, id, sig string) bool {
	return c != nil && id != "" && hmac.Equal([]byte(c.sign(kind, id)), []byte(sig))
}

// CallbackURL is the URL a receiver posts its callback of kind about the
// delivery id to (deliver.CallbackURL): the public listener's base URL,
// the receiver's path, and the delivery with its key; "" until the
// listeners are open, and when the public listener is off.
func (s *Server) CallbackURL(kind, id string) string {
	if s.publicBase == "" || s.callbacks == nil {
		return ""
	}
	return s.publicBase + "/hooks/" + kind + "?" + url.Values{"key": {id}, "sig": {s.callbacks.sign(kind, id)}}.Encode()
}

// signed lets a callback through only with a valid key for the delivery it
// names; anything else is 403 and changes nothing.
func (s *Server) signed(kind string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !s.callbacks.valid(kind, q.Get("key"), q.Get("sig")) {
			s.Log.Warn("callback refused: its key was not given out for the delivery it names",
				"kind", kind, "delivery", q.Get("key"), "remote", r.RemoteAddr)
			http.Error(w, "this callback URL was not given out by the gateway", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// publicHandler serves the public listener: the callbacks, each behind its
// signed key, with small bodies; every other path is 404.
func (s *Server) publicHandler() http.Handler {
	mux := http.NewServeMux()
	// Every channel whose receiver posts reports has its hook, behind a
	// key signed for each delivery (the channel's Env.Callback).
	for _, name := range s.Collection.CallbackReports() {
		mux.Handle("POST /hooks/"+name, s.signed(name, s.Collection.ReportHandler(name)))
	}
	// The hosted invoice pages, behind their signed, expiring links
	// (pages.go).
	if s.Pages != nil {
		mux.Handle("GET /i/{id}/{exp}/{sig}", s.page(false))
		mux.Handle("GET /i/{id}/{exp}/{sig}/faktura.pdf", s.page(true))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxPublicBody)
		mux.ServeHTTP(w, r)
	})
}
