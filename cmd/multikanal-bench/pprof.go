package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// profileSlice is the length of one CPU profile request, in seconds. The
// daemon's /debug/pprof/profile needs its length up front and a batch's
// length is what is measured, so the profile is taken in back-to-back
// slices and merged; the last slice ends at most this long after the
// batch.
const profileSlice = 1

// cpuProfile is the daemon's Go CPU profile (serve --pprof) over one
// batch, taken in slices until finish.
type cpuProfile struct {
	d     *daemon
	out   string
	stop  chan struct{}
	done  chan error
	parts []string
}

// startCPUProfile starts profiling the daemon; finish merges the slices
// into out.
func (d *daemon) startCPUProfile(out string) *cpuProfile {
	p := &cpuProfile{d: d, out: out, stop: make(chan struct{}), done: make(chan error, 1)}
	go func() { p.done <- p.run() }()
	return p
}

func (p *cpuProfile) run() error {
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return nil
		default:
		}
		part := fmt.Sprintf("%s.part%03d", p.out, i)
		if err := p.slice(part); err != nil {
			return err
		}
		p.parts = append(p.parts, part)
	}
}

func (p *cpuProfile) slice(path string) error {
	return p.d.download(fmt.Sprintf("/debug/pprof/profile?seconds=%d", profileSlice), path, "the daemon's CPU profile")
}

// download writes what the daemon serves at path (serve --pprof) to out;
// what names it in an error.
func (d *daemon) download(path, out, what string) error {
	body, err := d.get(path, what+" (was the daemon started with --pprof?)")
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// finish waits for the slice under way and merges the slices into one
// profile (go tool pprof -proto), removing them.
func (p *cpuProfile) finish() error {
	close(p.stop)
	if err := <-p.done; err != nil {
		return err
	}
	if len(p.parts) == 0 {
		return fmt.Errorf("no CPU profile was taken")
	}
	defer func() {
		for _, part := range p.parts {
			os.Remove(part)
		}
	}()
	out, err := os.Create(p.out)
	if err != nil {
		return err
	}
	cmd := exec.Command("go", append([]string{"tool", "pprof", "-proto"}, p.parts...)...)
	cmd.Stdout = out
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("merging the CPU profiles into %s: %v: %s", filepath.Base(p.out), err, stderr.String())
	}
	return nil
}

// takeTrace writes the daemon's execution trace (serve --pprof) over the
// next seconds to out, in the background; wait for the returned channel.
func (d *daemon) takeTrace(out string, seconds int) <-chan error {
	done := make(chan error, 1)
	go func() { done <- d.trace(out, seconds) }()
	return done
}

func (d *daemon) trace(out string, seconds int) error {
	return d.download(fmt.Sprintf("/debug/pprof/trace?seconds=%d", seconds), out, "the daemon's execution trace")
}
