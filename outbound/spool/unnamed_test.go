package spool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/multikanal/multikanal/outbound"
)

// Both ways of writing a file give the same folder: the unnamed one
// (Linux) and the temporary name with a rename (elsewhere, or a folder on
// a file system without O_TMPFILE). A message sent again replaces its
// file by rename either way, and no temporary entry is left.
func TestBothWaysGiveTheSameFolder(t *testing.T) {
	for _, named := range []bool{false, true} {
		t.Run(fmt.Sprintf("named=%t", named), func(t *testing.T) {
			s, err := New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			s.named.Store(named)
			for i := range 3 {
				for _, body := range []string{"first", "again"} {
					m := outbound.Message{Name: fmt.Sprintf("F1-%d.eml", i), Body: []byte(body + fmt.Sprint(i))}
					sent, err := s.Send(context.Background(), m)
					if err != nil {
						t.Fatal(err)
					}
					if got, _ := os.ReadFile(sent.Ref); string(got) != string(m.Body) {
						t.Errorf("%s holds %q, want %q", sent.Ref, got, m.Body)
					}
					fi, err := os.Stat(sent.Ref)
					if err != nil || fi.Mode().Perm() != 0o600 {
						t.Errorf("%s: mode %v (%v), want 0600", sent.Ref, fi.Mode(), err)
					}
				}
			}
			entries, _ := os.ReadDir(s.Dir())
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if len(names) != 3 {
				t.Errorf("folder holds %v, want the three files only", names)
			}
			if runtime.GOOS == "linux" && !named && s.named.Load() {
				t.Skip("this folder's file system takes no unnamed files (O_TMPFILE): the named way was used")
			}
		})
	}
}

// BenchmarkSendWays is the cost of one ~70 KB file (an e-mail with its
// PDF) each way, flushed in groups of 64 as the engine does, as CPU time
// per file: the process's user and system time, which is what a loaded
// machine runs short of. Its folder is kept between the ways, so neither
// writes where the other just deleted (see docs/performance.md, "The
// machine").
func BenchmarkSendWays(b *testing.B) {
	dir := b.TempDir()
	body := make([]byte, 70<<10)
	for _, named := range []bool{false, true} {
		b.Run(fmt.Sprintf("named=%t", named), func(b *testing.B) {
			s, err := New(filepath.Join(dir, fmt.Sprint(named)))
			if err != nil {
				b.Fatal(err)
			}
			s.named.Store(named)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.SendUnflushed(context.Background(), outbound.Message{Name: fmt.Sprintf("f-%07d.eml", i), Body: body}); err != nil {
					b.Fatal(err)
				}
				if i%64 == 63 {
					if err := s.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/file")
			if !named && s.named.Load() {
				b.Log("this folder's file system takes no unnamed files: both ways were the named one")
			}
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
