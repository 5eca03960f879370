package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/multikanal/multikanal/config"
)

// serverLimits are one listener's timeouts and header limit. A client may
// hold a connection only as long as these allow: a slow request header
// (ReadHeader), a slow body (Read), a slow reader of the answer (Write) or
// an idle keep-alive connection (Idle). Request bodies are bounded per
// route (maxBody, maxCSVBody; the public listener's maxPublicBody).
type serverLimits struct {
	ReadHeader, Read, Write, Idle time.Duration
	MaxHeaderBytes                int
}

var (
	// operatorLimits leave room for a 256 MiB recipient file (Read) and
	// answers of a few MB (Write); the backup and large receipts set their
	// own write deadline (streamDeadline).
	operatorLimits = serverLimits{ReadHeader: 10 * time.Second, Read: 5 * time.Minute, Write: 2 * time.Minute,
		Idle: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	// publicLimits are for the internet: a callback is a few hundred bytes.
	publicLimits = serverLimits{ReadHeader: 5 * time.Second, Read: 15 * time.Second, Write: 15 * time.Second,
		Idle: time.Minute, MaxHeaderBytes: 16 << 10}
)

func newServer(h http.Handler, l serverLimits, log *slog.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read, WriteTimeout: l.Write,
		IdleTimeout: l.Idle, MaxHeaderBytes: l.MaxHeaderBytes, ConnContext: markSocket,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
}

// streamRate is the slowest pace a streamed answer is given time for.
const streamRate = 256 << 10

// streamDeadline gives an answer of size bytes (the backup, a large
// receipt) the time it needs at streamRate, plus a minute, instead of the
// server's WriteTimeout, which stays for every other answer.
func streamDeadline(w http.ResponseWriter, size int64) {
	d := time.Minute + time.Duration(size/streamRate)*time.Second
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}

// listeners are the daemon's HTTP listeners; each may be nil.
type listeners struct {
	op, sock, pub net.Listener
}

func (ls *listeners) close() {
	for _, ln := range []net.Listener{ls.op, ls.sock, ls.pub} {
		if ln != nil {
			ln.Close()
		}
	}
}

// listen opens the HTTP listeners before anything starts, so that a port in
// use fails the start at once: the operators' TCP listener (HTTPS when
// http.tls_cert_file is set), their socket in the data directory, and the
// public listener.
func (s *Server) listen() (_ *listeners, err error) {
	ls := &listeners{}
	defer func() {
		if err != nil {
			ls.close()
		}
	}()
	if ls.op, err = listenTCP("http", s.Config.HTTP.Listen, s.Config.HTTP.TLSCertFile, s.Config.HTTP.TLSKeyFile); err != nil {
		return nil, err
	}
	if ls.pub, err = listenTCP("public", s.Config.Public.Listen, s.Config.Public.TLSCertFile, s.Config.Public.TLSKeyFile); err != nil {
		return nil, err
	}
	ls.sock = s.listenSocket()
	s.pageBase = pageBase(s.Config, ls.op)
	s.publicBase = s.Config.Public.BaseURL
	if s.publicBase == "" && ls.pub != nil {
		scheme := "http"
		if s.Config.Public.TLSCertFile != "" {
			scheme = "https"
		}
		s.publicBase = scheme + "://" + ls.pub.Addr().String()
	}
	return ls, nil
}

// listenTCP listens on addr ("" is off), with TLS when a certificate is
// configured; table names the configuration table in errors.
func listenTCP(table, addr, certFile, keyFile string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	var tlsCfg *tls.Config
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.tls_cert_file, %s.tls_key_file: %w", table, table, err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s.listen %s: %w", table, addr, err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	return ln, nil
}

// maxSocketPath is what fits in a Unix socket address (sun_path, with
// its terminating NUL).
const maxSocketPath = 107

// listenSocket opens <data>/http.sock for local operators: mode 0660 and
// the data directory's group, so exactly those who may read the data
// directory may use it. The CLI finds it through daemon.json. Without it
// (a path too long for a socket address, say) local clients use TCP and
// the token.
func (s *Server) listenSocket() net.Listener {
	path := filepath.Join(s.DataDir, config.SocketName)
	if len(path) > maxSocketPath {
		s.Log.Warn("no operators' socket: its path is too long for a socket address; the CLI uses TCP and the token", "path", path)
		return nil
	}
	// Only one daemon holds the store of a data directory, so a socket
	// left here is a crashed daemon's.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			s.Log.Warn("no operators' socket: a file that is not a socket has its name", "path", path)
			return nil
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err == nil {
		err = os.Chmod(path, 0o660)
	}
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		s.Log.Warn("no operators' socket; the CLI uses TCP and the token", "path", path, "err", err)
		return nil
	}
	chownToDirGroup(path)
	return ln
}

// chownToDirGroup gives a file its directory's group, as a setgid
// directory would; it fails harmlessly where the process is not in it.
func chownToDirGroup(path string) {
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		os.Chown(path, -1, int(st.Gid))
	}
}

// httpServers are the running HTTP servers.
type httpServers struct {
	op, pub *http.Server
}

// serveHTTP serves the listeners until shutdown; done is called as each
// server ends.
func (s *Server) serveHTTP(ls *listeners, wg *sync.WaitGroup) *httpServers {
	hs := &httpServers{}
	serve := func(srv *http.Server, ln net.Listener) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.Log.Error("http server", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	if ls.op != nil || ls.sock != nil {
		hs.op = newServer(s.operatorHandler(), operatorLimits, s.Log)
		for _, ln := range []net.Listener{ls.op, ls.sock} {
			if ln != nil {
				serve(hs.op, ln)
			}
		}
	}
	if ls.pub != nil {
		hs.pub = newServer(s.publicHandler(), publicLimits, s.Log)
		serve(hs.pub, ls.pub)
	}
	return hs
}

// shutdown lets requests in flight finish for a moment, then closes.
func (s *httpServers) shutdown(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for _, srv := range []*http.Server{s.op, s.pub} {
		if srv != nil {
			if srv.Shutdown(ctx) != nil {
				srv.Close()
			}
		}
	}
}

func (s *httpServers) close() {
	for _, srv := range []*http.Server{s.op, s.pub} {
		if srv != nil {
			srv.Close()
		}
	}
}
