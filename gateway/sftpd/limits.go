package sftpd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/pkg/sftp"
)

// This file holds the limits that keep one client, or one tenant, from
// taking what every other needs: connections not yet logged in
// (startups), file descriptors (fdBudget) and the cores that hash
// passwords (hashGate).

// startups counts the connections that have not logged in yet, from all
// addresses together, and drops new ones past Options.MaxStartups the way
// OpenSSH does: beyond Start, with a probability rising from Rate percent
// to 100% at Full. Dropping at random, rather than every connection past a
// fixed number, leaves a real client a chance while a flood holds the
// slots; the login grace time frees them.
type startups struct {
	limit Startups

	mu       sync.Mutex
	n        int
	dropped  int       // since the last log line
	loggedAt time.Time // of the last log line about drops
}

// dropLogEvery bounds the audit lines of a flood: one per interval, with
// the number of connections dropped since the last.
const dropLogEvery = 10 * time.Second

// admit counts a new connection that has not logged in yet. It returns
// false when the connection is to be dropped, and then, when an audit line
// is due, the number of drops it reports (0: no line now).
func (s *startups) admit() (ok bool, report int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n >= s.limit.Start {
		drop := s.n >= s.limit.Full
		if !drop {
			// OpenSSH's should_drop_connection (sshd.c).
			p := s.limit.Rate + (100-s.limit.Rate)*(s.n-s.limit.Start)/(s.limit.Full-s.limit.Start)
			drop = rand.IntN(100) < p
		}
		if drop {
			s.dropped++
			if now := time.Now(); now.Sub(s.loggedAt) >= dropLogEvery {
				report, s.dropped, s.loggedAt = s.dropped, 0, now
			}
			return false, report
		}
	}
	s.n++
	return true, 0
}

// done ends the count of one admitted connection: it logged in, or it
// closed before.
func (s *startups) done() {
	s.mu.Lock()
	s.n--
	s.mu.Unlock()
}

// fdBudget counts the file descriptors the server holds for logged-in
// tenants (a connection's socket, a session's folders, an open file), per
// tenant and in all, against Options.MaxOpenFilesPerTenant and
// MaxOpenFiles. One session opened 19,983 uploads and left the daemon no
// descriptor for anyone else; with the budget, a tenant can only exhaust
// its own share, and the server's whole share is a fixed number that
// LimitNOFILE in the systemd unit is sized from.
type fdBudget struct {
	maxTenant, max int

	mu        sync.Mutex
	total     int
	perTenant map[string]int
}

// take counts n more descriptors of tenant, or says which limit they
// would pass.
func (b *fdBudget) take(tenant string, n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.perTenant[tenant]+n > b.maxTenant:
		return fmt.Errorf("the tenant holds %d open files, connections and sessions together, the limit is %d: close some first: %w",
			b.perTenant[tenant], b.maxTenant, sftp.ErrSSHFxFailure)
	case b.total+n > b.max:
		return fmt.Errorf("the server holds its limit of %d open files for all tenants together: try again later: %w", b.max, sftp.ErrSSHFxFailure)
	}
	b.perTenant[tenant] += n
	b.total += n
	return nil
}

// give returns n descriptors of tenant.
func (b *fdBudget) give(tenant string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total -= n
	if b.perTenant[tenant] -= n; b.perTenant[tenant] <= 0 {
		delete(b.perTenant, tenant)
	}
}

// holdFile counts one more open file of the session against the session's
// limit and the descriptor budget. The returned release gives it back; it
// may be called more than once.
func (ss *session) holdFile() (release func(), err error) {
	ss.mu.Lock()
	if ss.open >= ss.srv.opt.MaxOpenFilesPerSession {
		ss.mu.Unlock()
		return nil, fmt.Errorf("the session holds its limit of %d open files: close some before opening more: %w",
			ss.srv.opt.MaxOpenFilesPerSession, sftp.ErrSSHFxFailure)
	}
	ss.open++
	ss.mu.Unlock()
	if err := ss.srv.fds.take(ss.tenant.ID, 1); err != nil {
		ss.mu.Lock()
		ss.open--
		ss.mu.Unlock()
		return nil, err
	}
	return sync.OnceFunc(func() {
		ss.srv.fds.give(ss.tenant.ID, 1)
		ss.mu.Lock()
		ss.open--
		ss.mu.Unlock()
	}), nil
}

// hashGate lets at most a fixed number of password hashes run at once
// (argon2id takes 19 MiB or more and about 50 ms of a core each) and hands
// a free slot to the waiting addresses in turn, oldest waiter of each
// first. Served first come, first served, 120 flooding connections made a
// correct login from elsewhere wait behind all of them, past the login
// grace time; in turn, it waits for about one hash per address that waits.
type hashGate struct {
	mu      sync.Mutex
	free    int
	waiting map[netip.Addr][]chan struct{} // per address, oldest first
	turn    []netip.Addr                   // addresses with waiters, next served first
}

func newHashGate(slots int) *hashGate {
	return &hashGate{free: max(slots, 1), waiting: make(map[netip.Addr][]chan struct{})}
}

// acquire waits for a slot until deadline or until ctx ends, and reports
// whether it got one; a slot must be given back with release.
func (g *hashGate) acquire(ctx context.Context, ip netip.Addr, deadline time.Time) bool {
	g.mu.Lock()
	if g.free > 0 && len(g.turn) == 0 {
		g.free--
		g.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	if len(g.waiting[ip]) == 0 {
		g.turn = append(g.turn, ip)
	}
	g.waiting[ip] = append(g.waiting[ip], ch)
	g.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-ch:
		// Handed over just now: pass it on.
		g.releaseLocked()
		return false
	default:
	}
	q := slices.DeleteFunc(g.waiting[ip], func(c chan struct{}) bool { return c == ch })
	if len(q) > 0 {
		g.waiting[ip] = q
	} else {
		delete(g.waiting, ip)
		g.turn = slices.DeleteFunc(g.turn, func(a netip.Addr) bool { return a == ip })
	}
	return false
}

// release gives a slot back, to the next address in turn if one waits.
func (g *hashGate) release() {
	g.mu.Lock()
	g.releaseLocked()
	g.mu.Unlock()
}

func (g *hashGate) releaseLocked() {
	if len(g.turn) == 0 {
		g.free++
		return
	}
	ip := g.turn[0]
	g.turn = g.turn[1:]
	q := g.waiting[ip]
	ch := q[0]
	if len(q) > 1 {
		g.waiting[ip] = q[1:]
		g.turn = append(g.turn, ip)
	} else {
		delete(g.waiting, ip)
	}
	close(ch)
}
