package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/user"
	"strings"

	"golang.org/x/sys/unix"
)

// markSocket is the server's ConnContext: it tells a connection on the
// Unix socket from one on TCP, and keeps who is at the socket's other end
// (the kernel's SO_PEERCRED), so what an operator does is recorded under
// the user the kernel vouches for, not only the name the client sends.
func markSocket(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, socketKey{}, socketPeer(uc))
}

// socketPeer names the user at the other end of a socket connection:
// "uid 1000 (anna)", or "socket" when the kernel does not say.
func socketPeer(c *net.UnixConn) string {
	raw, err := c.SyscallConn()
	if err != nil {
		return "socket"
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) { cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || credErr != nil {
		return "socket"
	}
	name := fmt.Sprintf("uid %d", cred.Uid)
	if u, err := user.LookupId(fmt.Sprint(cred.Uid)); err == nil {
		name += " (" + u.Username + ")"
	}
	return name
}

func viaSocket(ctx context.Context) bool { _, ok := ctx.Value(socketKey{}).(string); return ok }

// Operator names who sent an authenticated request, as the kernel or the
// credential vouches for it: the user at the socket's end, the bearer
// token, or a status page session. Actions that record who did them (ack,
// resend, dispute, erase) record this beside the name the client gives.
func Operator(r *http.Request) string {
	if peer, ok := r.Context().Value(socketKey{}).(string); ok {
		return "socket " + peer
	}
	if s := sessionOf(r); s != nil {
		return "status page session"
	}
	if r.Header.Get("Authorization") != "" {
		return "bearer token from " + r.RemoteAddr
	}
	return "unauthenticated from " + r.RemoteAddr
}

// recordedBy is who an action is recorded as: the name the client gives
// (the CLI sends its user and host) with the identity the request was
// authenticated as, so a client cannot claim to be someone else unseen.
func recordedBy(r *http.Request, claimed string) string {
	op := Operator(r)
	claimed = strings.TrimSpace(claimed)
	if claimed == "" {
		return op
	}
	return claimed + " (" + op + ")"
}
