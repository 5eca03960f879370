package spool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/multikanal/multikanal/outbound"
)

func TestSendIsAtomicAndIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox", "email")
	os.MkdirAll(dir, 0o750)
	os.WriteFile(filepath.Join(dir, ".tmp-left-by-a-crash"), []byte("x"), 0o600)
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-left-by-a-crash")); !os.IsNotExist(err) {
		t.Error("a crash's temporary file was not removed")
	}
	m := outbound.Message{Key: "F1-1.email", Name: "F1-1.email.eml", Body: []byte("first")}
	for _, body := range []string{"first", "again"} {
		m.Body = []byte(body)
		sent, err := s.Send(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(sent.Ref); string(got) != body {
			t.Errorf("file holds %q, want %q", got, body)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files after sending one key twice, want 1", len(entries))
	}
	for _, bad := range []string{"../escape", ".hidden", "a/b", ""} {
		_, err := s.Send(context.Background(), outbound.Message{Name: bad, Body: []byte("x")})
		if err == nil || outbound.ClassOf(err) != outbound.ClassPermanent {
			t.Errorf("name %q: err %v, want a permanent error", bad, err)
		}
	}
}

// BenchmarkConcurrentSends is the spool under the daemon's load: eight
// workers sending 2 KB files into one folder.
func BenchmarkConcurrentSends(b *testing.B) {
	s, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 2048)
	var n atomic.Int64
	b.SetParallelism(4) // × GOMAXPROCS senders
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := s.Send(context.Background(), outbound.Message{Name: fmt.Sprintf("f-%07d.xml", i), Body: body}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// Files sent unflushed are whole under their names at once, and Flush
// closes what it synced: nothing stays open or pending after it.
func TestSendUnflushedThenFlush(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var _ outbound.Flusher = s
	for i := range 50 {
		sent, err := s.SendUnflushed(context.Background(), outbound.Message{Name: fmt.Sprintf("f-%02d.xml", i), Body: []byte(fmt.Sprint(i))})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(sent.Ref); string(got) != fmt.Sprint(i) {
			t.Fatalf("%s holds %q before the flush", sent.Ref, got)
		}
	}
	if len(s.pending) != 50 {
		t.Fatalf("%d files pending, want 50", len(s.pending))
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(s.pending) != 0 {
		t.Errorf("%d files still pending after Flush", len(s.pending))
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 50 {
		t.Errorf("%d files in the folder, want 50", len(entries))
	}
	// A flush that fails (the folder is gone) is a temporary error: the
	// engine sends the group again.
	s.SendUnflushed(context.Background(), outbound.Message{Name: "late.xml", Body: []byte("x")})
	os.RemoveAll(s.Dir())
	if err := s.Flush(); err == nil || outbound.ClassOf(err) != outbound.ClassTemporary {
		t.Errorf("flush of a removed folder: %v, want a temporary error", err)
	}
}

// BenchmarkGroupedSends is the engine's way with the spool: each of eight
// workers writes a group of 64 files unflushed, then one Flush.
func BenchmarkGroupedSends(b *testing.B) {
	s, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 2048)
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for range 64 {
				i := n.Add(1)
				if _, err := s.SendUnflushed(context.Background(), outbound.Message{Name: fmt.Sprintf("f-%07d.xml", i), Body: body}); err != nil {
					b.Error(err)
					return
				}
			}
			if err := s.Flush(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "files/s")
}
