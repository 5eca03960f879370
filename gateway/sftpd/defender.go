package sftpd

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxDefenderHosts bounds the defender's memory when many addresses fail at
// once; beyond it, new addresses are not scored until old ones expire.
const maxDefenderHosts = 100_000

// defender scores failed logins per address and bans an address whose score
// within the observation window reaches the threshold.
type defender struct {
	opt      DefenderOptions
	log      *slog.Logger
	observer Observer
	now      func() time.Time

	mu    sync.Mutex
	hosts map[string]*hostScore
}

// hostScore is the recent history of one address.
type hostScore struct {
	events      []scoreEvent
	bannedUntil time.Time
}

type scoreEvent struct {
	at    time.Time
	score int
}

func newDefender(opt DefenderOptions, log *slog.Logger, observer Observer) *defender {
	return &defender{opt: opt, log: log, observer: observer, now: time.Now, hosts: make(map[string]*hostScore)}
}

// banned reports whether ip is banned now.
func (d *defender) banned(ip string) bool {
	if !d.opt.Enabled {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.hosts[ip]
	return h != nil && d.now().Before(h.bannedUntil)
}

// add scores a failed login of ip and bans it when the threshold is
// reached. It reports whether ip is banned afterwards.
func (d *defender) add(ip string, score int, reason string) bool {
	if !d.opt.Enabled {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	h := d.hosts[ip]
	if h == nil {
		if len(d.hosts) >= maxDefenderHosts {
			d.sweepLocked(now)
			if len(d.hosts) >= maxDefenderHosts {
				return false
			}
		}
		h = &hostScore{}
		d.hosts[ip] = h
	}
	if now.Before(h.bannedUntil) {
		return true
	}
	h.events = append(h.events, scoreEvent{now, score})
	total := h.prune(now.Add(-d.opt.Window))
	if total < d.opt.Threshold {
		return false
	}
	h.bannedUntil = now.Add(d.opt.BanTime)
	h.events = nil
	d.log.Warn("sftp ban", "ip", ip, "score", total, "threshold", d.opt.Threshold,
		"ban_seconds", d.opt.BanTime.Seconds(), "until", h.bannedUntil.UTC().Format(time.RFC3339), "reason", reason)
	if d.observer != nil {
		d.observer.Ban()
	}
	return true
}

// prune drops events before since and returns the sum of the rest.
func (h *hostScore) prune(since time.Time) int {
	i := 0
	for i < len(h.events) && h.events[i].at.Before(since) {
		i++
	}
	h.events = h.events[i:]
	total := 0
	for _, e := range h.events {
		total += e.score
	}
	return total
}

// sweepLocked forgets addresses with no ban and no score left.
func (d *defender) sweepLocked(now time.Time) {
	since := now.Add(-d.opt.Window)
	for ip, h := range d.hosts {
		if h.prune(since) == 0 && !now.Before(h.bannedUntil) {
			delete(d.hosts, ip)
		}
	}
}

// run sweeps expired entries every minute until ctx is done; Serve owns it.
func (d *defender) run(ctx context.Context) {
	if !d.opt.Enabled {
		return
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.mu.Lock()
			d.sweepLocked(d.now())
			d.mu.Unlock()
		}
	}
}
