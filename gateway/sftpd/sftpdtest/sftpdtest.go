// Package sftpdtest runs Multikanal's own SFTP server in the tests of other
// packages: a print house's or a bank's stand-in for the transports, or a
// peer beside OpenSSH's sshd. The server's own tests build theirs in
// package sftpd, which cannot import this one.
package sftpdtest

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/sftpd"
	"github.com/multikanal/multikanal/outbound/sftpput/sshdtest"
)

// Start serves tenants on a free loopback port until the test ends and
// returns the server and its address. Unless opt.Logger is set, the
// server's log is kept and shown when the test failed.
func Start(t testing.TB, opt sftpd.Options, tenants ...sftpd.Tenant) (*sftpd.Server, string) {
	t.Helper()
	var logs *sshdtest.Buffer
	if opt.Logger == nil {
		logs = &sshdtest.Buffer{}
		opt.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	srv, err := sftpd.New(opt, tenants)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sftpd Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("sftpd Serve did not return 10 s after its context was cancelled")
		}
		if t.Failed() && logs != nil {
			t.Logf("sftpd log:\n%s", logs.String())
		}
	})
	return srv, ln.Addr().String()
}
