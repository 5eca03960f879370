package sftpd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"

	"github.com/pkg/sftp"
)

// SFTP packet types and values the stream looks at (draft-ietf-secsh-filexfer-02).
const (
	fxpVersion     = 2
	fxpFsetstat    = 10
	fxpExtended    = 200
	attrExtended   = 0x80000000
	fsyncExtension = "fsync@openssh.com"
	maxFsyncPacket = 1024      // an fsync request is a handle and a name: a few dozen bytes
	streamReadSize = 256 << 10 // read ahead of the SSH channel
)

// fsyncAttrs are the attributes of the FSETSTAT that stands for an fsync
// request: no attribute but one extended pair, fsync@openssh.com, empty.
var fsyncAttrs = appendString(appendString(binary.BigEndian.AppendUint32(
	binary.BigEndian.AppendUint32(nil, attrExtended), 1), fsyncExtension), "")

// stream is what pkg/sftp's RequestServer reads and writes instead of the
// SSH channel, for what the RequestServer does not do:
//
//   - fsync@openssh.com (OpenSSH's "put -f"): pkg/sftp v1.13.12 neither
//     announces nor handles it. The stream announces it in the VERSION
//     reply and passes each request on as an FSETSTAT of the same handle
//     whose only attribute is the extended pair fsync@openssh.com; the
//     RequestServer resolves the handle to its path, checks it and gives
//     it to setstat, which syncs the session's upload of that name (see
//     isFsync). A client sending that FSETSTAT itself gets an fsync too,
//     which is all it can get.
//   - it reads ahead of the channel, so that x/crypto/ssh sends a window
//     adjustment per read of up to streamReadSize instead of one per 96
//     KiB consumed, each a packet and a system call.
//   - it passes on at most maxInFlight requests that have no reply yet.
//     pkg/sftp's allocator gives every request a 256 KiB buffer until its
//     reply is sent, and replies go out in request order, so without the
//     bound a client could pile up tiny requests behind one slow one
//     (an fsync) and make the server hold 256 KiB for each.
//
// The stream passes every other byte on unchanged, so pkg/sftp still
// parses and checks everything the client sends.
type stream struct {
	ch io.ReadWriteCloser

	in     *bufio.Reader
	left   int64  // bytes of the client's current packet not yet passed on
	inject []byte // a translated packet passed on instead of the client's

	mu       sync.Mutex
	replied  sync.Cond
	limit    int    // maxInFlight
	inFlight int    // requests passed on without a complete reply
	outLeft  int64  // bytes of the current reply still to be written
	prefix   []byte // the start of a reply's length field, split between writes
	closed   bool

	announced atomic.Bool // the VERSION reply went out
}

// maxInFlight bounds the requests pkg/sftp holds at once: enough to keep
// its eight workers busy (OpenSSH's sftp sends up to 64 ahead; the rest
// wait in the SSH channel's window).
const maxInFlight = 16

func newStream(ch io.ReadWriteCloser) *stream {
	s := &stream{ch: ch, in: bufio.NewReaderSize(ch, streamReadSize), limit: maxInFlight}
	s.replied.L = &s.mu
	return s
}

// Read passes the client's packets on, with fsync requests translated.
func (s *stream) Read(p []byte) (int, error) {
	if len(s.inject) == 0 && s.left == 0 {
		if err := s.next(); err != nil {
			return 0, err
		}
	}
	if len(s.inject) > 0 {
		n := copy(p, s.inject)
		s.inject = s.inject[n:]
		return n, nil
	}
	n, err := s.in.Read(p[:min(int64(len(p)), s.left)])
	s.left -= int64(n)
	return n, err
}

// next waits until pkg/sftp may take another request, then looks at the
// header of the client's next packet.
func (s *stream) next() error {
	s.mu.Lock()
	for s.inFlight >= s.limit && !s.closed {
		s.replied.Wait()
	}
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return io.EOF
	}
	hdr, err := s.in.Peek(5)
	if err != nil {
		if len(hdr) == 0 {
			return err
		}
		s.left = int64(len(hdr)) // truncated: pkg/sftp reports it
		return nil
	}
	length := int64(binary.BigEndian.Uint32(hdr))
	s.left = 4 + length
	s.mu.Lock()
	s.inFlight++
	s.mu.Unlock()
	if hdr[4] != fxpExtended || length > maxFsyncPacket {
		return nil
	}
	pkt, err := s.in.Peek(int(4 + length))
	if err != nil {
		return nil
	}
	if fs, ok := fsyncAsFsetstat(pkt[4:]); ok {
		s.in.Discard(len(pkt))
		s.left, s.inject = 0, fs
	}
	return nil
}

// fsyncAsFsetstat turns the body of an fsync@openssh.com request (type,
// id, extension name, handle) into a whole FSETSTAT packet with
// fsyncAttrs; ok is false for any other packet.
func fsyncAsFsetstat(b []byte) ([]byte, bool) {
	if len(b) < 5 {
		return nil, false
	}
	id := b[1:5]
	name, rest, ok := cutString(b[5:])
	if !ok || string(name) != fsyncExtension {
		return nil, false
	}
	handle, rest, ok := cutString(rest)
	if !ok || len(rest) != 0 {
		return nil, false
	}
	out := append([]byte{0, 0, 0, 0, fxpFsetstat}, id...)
	out = append(appendString(out, string(handle)), fsyncAttrs...)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out, true
}

// isFsync reports whether a setstat request stands for fsync@openssh.com.
func isFsync(r *sftp.Request) bool {
	return r.Method == "Setstat" && r.Flags == attrExtended && bytes.Equal(r.Attrs, fsyncAttrs[4:])
}

// cutString splits an SSH string off the front of b.
func cutString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func appendString(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

// announceFsync adds fsync@openssh.com to the extensions of a VERSION
// packet; anything else is returned unchanged.
func announceFsync(p []byte) []byte {
	if len(p) < 9 || p[4] != fxpVersion || int(binary.BigEndian.Uint32(p)) != len(p)-4 {
		return p
	}
	out := appendString(appendString(bytes.Clone(p), fsyncExtension), "1")
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// Write passes pkg/sftp's replies on, the first of which is the VERSION
// reply. Each goes out at once: handing replies to a writer goroutine, to
// send those that pile up in one packet, saved ~5% of the CPU of a large
// upload but cost ~15% of the rate of small files (a hand-off per reply).
func (s *stream) Write(p []byte) (int, error) {
	s.countReplies(p)
	q := p
	if !s.announced.Swap(true) {
		q = announceFsync(p)
	}
	if _, err := s.ch.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// countReplies follows the framing of the replies in p and lets next pass
// on one more request per reply completed. A reply counts when pkg/sftp
// hands it over, even if the channel then fails to take it: pkg/sftp goes
// on as if it had been sent.
func (s *stream) countReplies(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		if s.outLeft == 0 {
			n := min(4-len(s.prefix), len(p))
			s.prefix, p = append(s.prefix, p[:n]...), p[n:]
			if len(s.prefix) < 4 {
				return
			}
			s.outLeft = int64(binary.BigEndian.Uint32(s.prefix))
			s.prefix = s.prefix[:0]
			if s.outLeft == 0 {
				s.done()
			}
			continue
		}
		n := min(s.outLeft, int64(len(p)))
		s.outLeft, p = s.outLeft-n, p[n:]
		if s.outLeft == 0 {
			s.done()
		}
	}
}

func (s *stream) done() {
	if s.inFlight > 0 {
		s.inFlight--
	}
	s.replied.Signal()
}

// Close closes the channel and ends a Read waiting for replies.
func (s *stream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.replied.Broadcast()
	s.mu.Unlock()
	return s.ch.Close()
}
