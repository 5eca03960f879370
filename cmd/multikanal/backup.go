package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/multikanal/multikanal/gateway/store/bolt"
	"github.com/multikanal/multikanal/internal/durable"
)

// runBackup writes a consistent copy of the store to FILE. With a daemon
// running it streams the copy from the daemon (which holds the store's lock
// and keeps working meanwhile); otherwise it opens the store itself.
func runBackup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDaemonFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: multikanal backup [--data DIR | --config FILE | --addr HOST:PORT --token-file FILE] FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	dst := fs.Arg(0)
	start := time.Now()
	conn, addrErr := df.connect()
	if addrErr == nil {
		n, err := fetchBackup(conn, dst)
		if err == nil {
			fmt.Fprintf(stdout, "%s: %d bytes, streamed online from the running daemon in %.2fs\n", dst, n, time.Since(start).Seconds())
			return exitOK
		}
		addrErr = err
	}
	dataDir := *df.dataDir
	if dataDir == "" && *df.cfgPath == "" && *df.addr == "" {
		dataDir = "var"
	}
	if dataDir == "" {
		fmt.Fprintln(stderr, "multikanal backup:", addrErr)
		return exitProblems
	}
	s, err := bolt.Open(filepath.Join(dataDir, "state.db"))
	if err != nil {
		if errors.Is(err, bolt.ErrLocked) {
			fmt.Fprintf(stderr, "multikanal backup: the daemon holds the store but did not answer (%v)\n", addrErr)
		} else {
			fmt.Fprintln(stderr, "multikanal backup:", err)
		}
		return exitProblems
	}
	defer s.Close()
	if err := s.Backup(dst); err != nil {
		fmt.Fprintln(stderr, "multikanal backup:", err)
		return exitProblems
	}
	fmt.Fprintf(stdout, "%s: written from %s (no daemon running)\n", dst, filepath.Join(dataDir, "state.db"))
	return exitOK
}

// fetchBackup streams the daemon's copy into dst durably (package
// durable), so a half-written backup never has the final name.
func fetchBackup(conn *daemonConn, dst string) (int64, error) {
	resp, err := conn.do(context.Background(), http.MethodGet, "/api/v1/backup", "", nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("the daemon answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	var n int64
	err = durable.Write(dst, 0o600, func(w io.Writer) (err error) {
		n, err = io.Copy(w, resp.Body)
		if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
			err = fmt.Errorf("the download ended after %d of %d bytes", n, resp.ContentLength)
		}
		return err
	})
	return n, err
}
