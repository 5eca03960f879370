package email

import (
	"bytes"
	"encoding/base64"
	"hash/maphash"
	"mime/quotedprintable"
	"slices"
	"sync"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// The message is written straight into one buffer sized for it: the
// headers as go-message formats them, the parts framed as its multipart
// writer frames them, base64 in lines of 76 encoded at once and
// quoted-printable by the standard library. The same bytes as go-message's
// writer (the golden files hold them), for a fifth of the work: its base64
// went through a line wrapper that wrote every line in three calls, each
// through two writers, and allocated for every line ending.

// mimeWriter appends a MIME message to b.
type mimeWriter struct {
	b []byte
	// open are the multiparts being written, innermost last, and whether
	// each has a part yet.
	open []multipart
	// seen, when set, keeps the base64 of what messages repeat.
	seen *seenLines
}

type multipart struct {
	boundary string
	parts    int
}

func (w *mimeWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// header writes h and the empty line after it.
func (w *mimeWriter) header(h textproto.Header) {
	textproto.WriteHeader(w, h) // writes to w cannot fail
}

// multipart writes h, the header of a multipart entity, and makes it the
// one the next parts go into, until end.
func (w *mimeWriter) multipart(h []byte, boundary string) {
	w.part(h)
	w.open = append(w.open, multipart{boundary: boundary})
}

// root starts the message: its header, a multipart with boundary.
func (w *mimeWriter) root(h textproto.Header, boundary string) {
	w.header(h)
	w.open = append(w.open, multipart{boundary: boundary})
}

// part starts a part of the innermost multipart with its header (as
// headerBytes wrote it); its body is appended after.
func (w *mimeWriter) part(h []byte) {
	m := &w.open[len(w.open)-1]
	if m.parts > 0 {
		w.b = append(w.b, "\r\n"...)
	}
	m.parts++
	w.b = append(w.b, "--"...)
	w.b = append(w.b, m.boundary...)
	w.b = append(w.b, "\r\n"...)
	w.b = append(w.b, h...)
}

// end closes the innermost multipart.
func (w *mimeWriter) end() {
	m := w.open[len(w.open)-1]
	w.open = w.open[:len(w.open)-1]
	w.b = append(w.b, "\r\n--"...)
	w.b = append(w.b, m.boundary...)
	w.b = append(w.b, "--\r\n"...)
}

// base64 appends data in base64, lines of 76 characters (57 bytes)
// separated by CRLF (RFC 2045 section 6.8).
func (w *mimeWriter) base64(data []byte) {
	const perLine = 57
	n := base64.StdEncoding.EncodedLen(len(data))
	w.grow(n + n/76*2)
	for first := true; len(data) > 0; first = false {
		if !first {
			w.b = append(w.b, "\r\n"...)
		}
		k := min(perLine, len(data))
		w.b = base64.StdEncoding.AppendEncode(w.b, data[:k])
		data = data[k:]
	}
}

// quotedPrintable appends text in quoted-printable (RFC 2045 section 6.7).
func (w *mimeWriter) quotedPrintable(text []byte) {
	w.grow(len(text) + len(text)/4)
	qp := quotedprintable.NewWriter(w)
	qp.Write(text) // writes to w cannot fail
	qp.Close()
}

func (w *mimeWriter) grow(n int) {
	if cap(w.b)-len(w.b) < n {
		w.b = append(w.b[:len(w.b):len(w.b)], make([]byte, n)...)[:len(w.b)]
	}
}

// headerBytes is h as a part header: its fields and the empty line.
func headerBytes(h message.Header) []byte {
	var b bytes.Buffer
	textproto.WriteHeader(&b, h.Header) // writes to a bytes.Buffer cannot fail
	return b.Bytes()
}

// base64Writer encodes what is written to it into its message, in lines
// of 76 characters, as mimeWriter.base64 does for the whole at once: the
// invoice PDF goes from the renderer straight into the message, with no
// buffer of its own. close writes the last, short line.
type base64Writer struct {
	w     *mimeWriter
	carry [57]byte // the start of the next line
	nc    int
	lines int // lines written
	// seen, when set, remembers the lines of a first write it meets again
	// (seenLines).
	seen *seenLines
}

func (w *mimeWriter) base64Writer(seen *seenLines) *base64Writer {
	return &base64Writer{w: w, seen: seen}
}

func (b *base64Writer) Write(p []byte) (int, error) {
	n := len(p)
	if b.lines == 0 && b.nc == 0 && b.seen != nil {
		p = b.seen.encode(b, p)
	}
	if b.nc > 0 {
		k := copy(b.carry[b.nc:], p)
		b.nc += k
		p = p[k:]
		if b.nc < len(b.carry) {
			return n, nil
		}
		b.line(b.carry[:])
		b.nc = 0
	}
	b.w.grow(len(p) / 57 * 78)
	for len(p) >= 57 {
		b.line(p[:57])
		p = p[57:]
	}
	b.nc = copy(b.carry[:], p)
	return n, nil
}

func (b *base64Writer) line(p []byte) {
	if b.lines > 0 {
		b.w.b = append(b.w.b, "\r\n"...)
	}
	b.w.b = base64.StdEncoding.AppendEncode(b.w.b, p)
	b.lines++
}

func (b *base64Writer) close() {
	if b.nc > 0 {
		b.line(b.carry[:b.nc])
		b.nc = 0
	}
}

// seenLines keeps the base64 lines of the leading bytes of a few streams,
// for streams that start alike: every PDF of one biller starts with the
// same 30 KB (fonts, logo: pdf's template), and every message carries its
// logo. A stream that starts with bytes kept here gets their lines copied
// instead of encoded again; comparing costs a tenth of encoding. A start
// is kept once it has been seen twice, so a PDF of the biller's own (one
// of a kind) is never kept.
type seenLines struct {
	mu      sync.Mutex
	entries []seenEntry // newest last; replaced, never changed in place
	once    []seenOnce  // starts seen once, newest last
}

type seenEntry struct {
	raw []byte // a multiple of 57 bytes
	enc []byte // its lines, joined by CRLF
}

type seenOnce struct {
	n    int
	hash uint64
}

// seenKeep is how many starts are kept (billers, logos), and seenMin the
// shortest worth keeping.
const (
	seenKeep = 8
	seenMin  = 57 * 64
)

var seenSeed = maphash.MakeSeed()

// encode writes the lines of p's leading bytes that it has seen before,
// or notes them for next time, and returns the rest of p.
func (s *seenLines) encode(b *base64Writer, p []byte) []byte {
	if len(p) < seenMin {
		return p
	}
	s.mu.Lock()
	entries := s.entries
	s.mu.Unlock()
	for _, e := range entries {
		if len(p) >= len(e.raw) && bytes.Equal(p[:len(e.raw)], e.raw) {
			b.w.b = append(b.w.b, e.enc...)
			b.lines = len(e.raw) / 57
			return p[len(e.raw):]
		}
	}
	k := len(p) / 57 * 57
	start := len(b.w.b)
	b.w.grow(k / 57 * 78)
	for i := 0; i < k; i += 57 {
		b.line(p[i : i+57])
	}
	seen := seenOnce{k, maphash.Bytes(seenSeed, p[:k])}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.once, seen); i < 0 {
		s.once = append(keepLast(s.once), seen)
		return p[k:]
	}
	e := seenEntry{raw: bytes.Clone(p[:k]), enc: bytes.Clone(b.w.b[start:])}
	s.entries = append(keepLast(s.entries), e)
	return p[k:]
}

// keepLast makes room for one more, dropping the oldest past seenKeep,
// in a new array: readers may hold the old one.
func keepLast[T any](s []T) []T {
	if len(s) >= seenKeep {
		s = s[len(s)-seenKeep+1:]
	}
	return slices.Clip(s)
}
