package email

import (
	"bytes"
	"encoding/base64"
	"mime/quotedprintable"

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
