package sftpd

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"testing"
	"time"
)

// pipe is a channel whose client side is a fixed input; what the server
// writes is kept.
type pipe struct {
	in  io.Reader
	out bytes.Buffer
}

func (p *pipe) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p *pipe) Write(b []byte) (int, error) { return p.out.Write(b) }
func (*pipe) Close() error                  { return nil }

// packet frames an SFTP packet of type typ.
func packet(typ byte, body ...[]byte) []byte {
	b := []byte{0, 0, 0, 0, typ}
	for _, x := range body {
		b = append(b, x...)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func sshString(s string) []byte { return appendString(nil, s) }

// readThrough reads all of in through a stream, n bytes at a time, with
// no bound on the requests in flight (nothing replies).
func readThrough(t testing.TB, in []byte, n int) []byte {
	s := newStream(&pipe{in: bytes.NewReader(in)})
	s.limit = math.MaxInt
	defer s.Close()
	var out []byte
	buf := make([]byte, n)
	for {
		k, err := s.Read(buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestStreamTranslatesFsync(t *testing.T) {
	id := []byte{0, 0, 0, 7}
	write := packet(6, id, sshString("1"), make([]byte, 8), sshString("data"))
	fsync := packet(fxpExtended, id, sshString(fsyncExtension), sshString("1"))
	statvfs := packet(fxpExtended, id, sshString("statvfs@openssh.com"), sshString("/inbox"))
	fsetstat := packet(fxpFsetstat, id, sshString("1"), fsyncAttrs)
	tests := []struct {
		name    string
		in, out []byte
	}{
		{"write passes", write, write},
		{"fsync becomes fsetstat", fsync, fsetstat},
		{"other extensions pass", statvfs, statvfs},
		{"fsync with trailing bytes passes", packet(fxpExtended, id, sshString(fsyncExtension), sshString("1"), []byte{0}), nil},
		{"in a row", bytes.Join([][]byte{write, fsync, statvfs, fsync}, nil), bytes.Join([][]byte{write, fsetstat, statvfs, fsetstat}, nil)},
		{"truncated", fsync[:10], fsync[:10]},
	}
	for _, tt := range tests {
		if tt.out == nil {
			tt.out = tt.in
		}
		for _, n := range []int{1, 3, 4, 64 << 10} {
			if got := readThrough(t, tt.in, n); !bytes.Equal(got, tt.out) {
				t.Errorf("%s, reads of %d: got %x, want %x", tt.name, n, got, tt.out)
			}
		}
	}
}

func TestStreamAnnouncesFsync(t *testing.T) {
	p := &pipe{in: bytes.NewReader(nil)}
	s := newStream(p)
	version := packet(fxpVersion, []byte{0, 0, 0, 3}, sshString("posix-rename@openssh.com"), sshString("1"))
	status := packet(101, []byte{0, 0, 0, 1, 0, 0, 0, 0})
	for _, b := range [][]byte{version, status} {
		if n, err := s.Write(b); n != len(b) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	s.Close()
	want := append(packet(fxpVersion, []byte{0, 0, 0, 3}, sshString("posix-rename@openssh.com"), sshString("1"),
		sshString(fsyncExtension), sshString("1")), status...)
	if !bytes.Equal(p.out.Bytes(), want) {
		t.Errorf("wrote %x, want %x", p.out.Bytes(), want)
	}
}

// TestStreamBoundsRequestsInFlight checks that the stream passes on no
// more than maxInFlight requests before their replies, however the replies
// are split into writes.
func TestStreamBoundsRequestsInFlight(t *testing.T) {
	req := packet(17, []byte{0, 0, 0, 1}, sshString("/inbox")) // stat
	in := bytes.Repeat(req, maxInFlight+2)
	s := newStream(&pipe{in: bytes.NewReader(in)})
	defer s.Close()
	got := make(chan int, len(in))
	go func() {
		buf := make([]byte, len(req))
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			got <- 1
		}
	}()
	count := func() int {
		time.Sleep(50 * time.Millisecond)
		return len(got)
	}
	if n := count(); n != maxInFlight {
		t.Fatalf("%d requests passed on before any reply, want %d", n, maxInFlight)
	}
	status := packet(101, []byte{0, 0, 0, 1, 0, 0, 0, 0})
	s.Write(status[:2]) // a reply's length split between writes
	s.Write(status[2:7])
	if n := count(); n != maxInFlight {
		t.Fatalf("%d requests passed on after half a reply, want %d", n, maxInFlight)
	}
	s.Write(append(status[7:], status...)) // the end of one reply and a whole second one
	if n := count(); n != maxInFlight+2 {
		t.Fatalf("%d requests passed on after two replies, want %d", n, maxInFlight+2)
	}
}

// FuzzStream checks that the stream passes any client input on unchanged
// unless it holds an fsync request, whatever the sizes of the reads.
func FuzzStream(f *testing.F) {
	f.Add(packet(fxpExtended, []byte{0, 0, 0, 1}, sshString(fsyncExtension), sshString("1")), 3)
	f.Add(packet(6, []byte{0, 0, 0, 1}, sshString("1"), make([]byte, 8), sshString("x")), 100)
	f.Add([]byte{0, 0, 0, 1, fxpExtended}, 1)
	f.Fuzz(func(t *testing.T, in []byte, n int) {
		n = 1 + abs(n)%(128<<10)
		out := readThrough(t, in, n)
		if !bytes.Contains(in, []byte(fsyncExtension)) && !bytes.Equal(out, in) {
			t.Fatalf("changed %x into %x", in, out)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
