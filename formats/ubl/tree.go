package ubl

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/text/encoding/charmap"
)

// Namespaces the reader recognises. Elements are matched by namespace URI and
// local name, never by prefix, so any prefixes or default namespaces work.
const (
	nsInvoice    = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
	nsCreditNote = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
	nsCAC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
	nsCBC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
	nsSBDH       = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
)

// Limits that keep a hostile file from exhausting memory. They are far above
// what any real invoice needs.
const (
	maxDepth      = 100
	maxText       = 1 << 20  // any text or tag other than an embedded attachment
	maxAttachment = 64 << 20 // base64 text of one EmbeddedDocumentBinaryObject
	maxElements   = 2_000_000
)

// Errors a caller can test for with errors.Is.
var (
	// ErrLimit is wrapped when a document exceeds a size, depth or count limit.
	ErrLimit = errors.New("over the reader's safety limit")
	// ErrDoctype is wrapped when a document carries a DOCTYPE declaration.
	ErrDoctype = errors.New("DOCTYPE declarations are not allowed in UBL (DTDs and entities are never expanded); remove the <!DOCTYPE ...> line")
)

// node is one element of a parsed document. name is canonical: "cbc:ID" and
// "cac:Party" for the two UBL component namespaces whatever prefix the file
// used, "{uri}local" for anything else, so lookups are plain string compares.
type node struct {
	name   string
	attrs  []xml.Attr
	text   string
	kids   []*node
	parent *node
}

// child returns the first child called name, or nil. All node methods accept
// a nil receiver so optional paths can be chained.
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// each calls f for every child called name, in document order.
func (n *node) each(name string, f func(*node)) {
	if n == nil {
		return
	}
	for _, k := range n.kids {
		if k.name == name {
			f(k)
		}
	}
}

// val is the text of the first child called name.
func (n *node) val(name string) string {
	if c := n.child(name); c != nil {
		return c.text
	}
	return ""
}

// attr returns the value of the unqualified attribute local.
func (n *node) attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// path names n from below the document root, as error messages show it:
// "cac:InvoiceLine[2]/cbc:LineExtensionAmount".
func (n *node) path() string {
	var parts []string
	for ; n != nil && n.parent != nil; n = n.parent {
		p := n.name
		count, pos := 0, 0
		for _, s := range n.parent.kids {
			if s.name == n.name {
				count++
			}
			if s == n {
				pos = count
			}
		}
		if count > 1 {
			p = fmt.Sprintf("%s[%d]", p, pos)
		}
		parts = append(parts, p)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/")
}

// canonical names the element the way node.name does.
func canonical(n xml.Name) string {
	switch n.Space {
	case nsCBC:
		return "cbc:" + n.Local
	case nsCAC:
		return "cac:" + n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

// parseTree reads one XML document into a tree. On error it still returns
// what it built, so the message can name the document number if it was read.
//
// A document of up to maxInMemory bytes is read whole and parsed by
// scanTree, which is several times faster than encoding/xml; the rest, and
// what scanTree leaves to encoding/xml (errUnusual), are parsed by
// decodeTree as they stream in, with the same result.
func parseTree(br *byteReader) (*node, error) {
	if data, ok := br.whole(maxInMemory); ok {
		root, err := scanTree(data)
		if err != errUnusual {
			return root, err
		}
	}
	return decodeTree(br)
}

// decodeTree is parseTree with encoding/xml.
func decodeTree(br *byteReader) (*node, error) {
	d := xml.NewDecoder(br)
	d.Strict = true
	d.CharsetReader = charsetReader
	names := make(map[xml.Name]string, 128) // interned canonical names
	var root, cur *node
	var text []byte
	depth, count := 0, 0
	for {
		if cur != nil && cur.name == "cbc:EmbeddedDocumentBinaryObject" {
			br.setLimit(maxAttachment)
		} else {
			br.setLimit(maxText)
		}
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				if root == nil {
					return nil, errors.New("no root element: the file holds no XML document")
				}
				err = io.ErrUnexpectedEOF
			}
			line, col := d.InputPos()
			return root, syntaxError(err, line, col)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			count++
			if depth > maxDepth {
				return root, fmt.Errorf("elements nested more than %d deep: %w", maxDepth, ErrLimit)
			}
			if count > maxElements {
				return root, fmt.Errorf("more than %d elements: %w", maxElements, ErrLimit)
			}
			name, ok := names[t.Name]
			if !ok {
				name = canonical(t.Name)
				names[t.Name] = name
			}
			n := &node{name: name, parent: cur}
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					n.attrs = append(n.attrs, a)
				}
			}
			if cur != nil {
				cur.kids = append(cur.kids, n)
			} else {
				root = n
			}
			cur = n
			text = text[:0]
		case xml.EndElement:
			if len(cur.kids) == 0 {
				cur.text = string(bytes.TrimSpace(text))
			}
			text = text[:0]
			depth--
			if cur == root {
				return root, nil
			}
			cur = cur.parent
		case xml.CharData:
			if cur == nil {
				continue
			}
			if len(cur.kids) > 0 {
				continue // mixed content carries no business term in UBL
			}
			text = append(text, t...)
			limit := maxText
			if cur.name == "cbc:EmbeddedDocumentBinaryObject" {
				limit = maxAttachment
			}
			if len(text) > limit {
				return root, fmt.Errorf("%s: text longer than %d bytes: %w", cur.path(), limit, ErrLimit)
			}
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return root, ErrDoctype
			}
		}
	}
}

// syntaxError adds the position to parser errors so the sender can find the
// spot; line and col are where the parser stopped.
func syntaxError(err error, line, col int) error {
	if errors.Is(err, ErrLimit) {
		return err
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not well-formed XML at line %d: %s: %w", se.Line, se.Msg, err)
	}
	return fmt.Errorf("not well-formed XML at line %d, column %d: %w", line, col, err)
}

// charsetReader accepts the single-byte encodings legacy ERPs still write.
// UTF-8 needs no reader; anything else is refused with a hint.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "us-ascii", "ascii":
		return charmap.ISO8859_1.NewDecoder().Reader(r), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(r), nil
	case "iso-8859-15", "latin9":
		return charmap.ISO8859_15.NewDecoder().Reader(r), nil
	}
	return nil, fmt.Errorf("encoding %q is not supported: save the file as UTF-8", label)
}

// byteReader is a buffered io.ByteReader with a moving limit. encoding/xml
// reads byte by byte through ReadByte when it can, so the limit bounds how many
// bytes a single token may take before the decoder has buffered it whole:
// setLimit is called before every token.
type byteReader struct {
	r       io.Reader
	buf     []byte
	i, n    int   // buf[i:n] is unread
	end     int   // ReadByte's fast path stops here: min(n, limit)
	off     int64 // stream offset of buf[0]
	limitAt int64 // stream offset where reading fails with ErrLimit
	max     int64
	err     error
}

func newByteReader(r io.Reader) *byteReader {
	b := &byteReader{r: r, buf: *readBufs.Get().(*[]byte)}
	b.setLimit(maxText)
	return b
}

// readBufs are the byteReaders' buffers, reused: one a document was 30 KB
// of every UBL invoice's allocations. Buffers whole grew past maxPooled are
// left to the collector rather than kept for the next, small, document.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

const maxPooled = 256 << 10

// release gives the buffer back; b must not be used after.
func (b *byteReader) release() {
	buf := b.buf
	b.buf, b.r = nil, nil
	if cap(buf) <= maxPooled {
		readBufs.Put(&buf)
	}
}

// whole reads the rest of the input into the buffer and returns it unread,
// if it reads without error and is at most max bytes. Otherwise it returns
// false and the reader goes on as if whole had not been called: what it read
// stays buffered and a read error is returned where it would have been.
func (b *byteReader) whole(max int) ([]byte, bool) {
	for empty := 0; b.err == nil; {
		if b.n == len(b.buf) {
			if b.n-b.i > max {
				return nil, false
			}
			buf := make([]byte, min(2*len(b.buf), b.i+max+1))
			copy(buf, b.buf[:b.n])
			if cap(b.buf) <= maxPooled {
				old := b.buf
				readBufs.Put(&old)
			}
			b.buf = buf
		}
		m, err := b.r.Read(b.buf[b.n:])
		b.n += m
		b.err = err
		if m > 0 {
			empty = 0
		} else if empty++; empty == 100 && err == nil {
			b.err = io.ErrNoProgress
		}
	}
	b.clampEnd()
	if b.err != io.EOF || b.n-b.i > max {
		return nil, false
	}
	return b.buf[b.i:b.n], true
}

// setLimit allows max more bytes from the current position.
func (b *byteReader) setLimit(max int64) {
	b.max = max
	b.limitAt = b.off + int64(b.i) + max
	b.clampEnd()
}

func (b *byteReader) clampEnd() {
	b.end = b.n
	if rel := b.limitAt - b.off; rel < int64(b.end) {
		b.end = int(max(rel, 0))
	}
}

// ReadByte implements io.ByteReader.
func (b *byteReader) ReadByte() (byte, error) {
	if b.i < b.end {
		c := b.buf[b.i]
		b.i++
		return c, nil
	}
	if b.i < b.n || b.off+int64(b.i) >= b.limitAt {
		return 0, fmt.Errorf("an XML token (tag or text) is longer than %d bytes: %w", b.max, ErrLimit)
	}
	if err := b.fill(); err != nil {
		return 0, err
	}
	return b.ReadByte()
}

// Read implements io.Reader; encoding/xml uses ReadByte, this is for completeness.
func (b *byteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := b.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

// fill discards consumed bytes and reads more; it returns io.EOF at the end.
func (b *byteReader) fill() error {
	if b.err != nil {
		return b.err
	}
	copy(b.buf, b.buf[b.i:b.n])
	b.off += int64(b.i)
	b.n -= b.i
	b.i = 0
	for empty := 0; b.n < len(b.buf); empty++ {
		m, err := b.r.Read(b.buf[b.n:])
		b.n += m
		if err != nil {
			b.err = err
			break
		}
		if m > 0 {
			break
		}
		if empty == 100 { // as bufio does, rather than spin on a broken reader
			b.err = io.ErrNoProgress
			break
		}
	}
	b.clampEnd()
	if b.n == 0 && b.err != nil {
		return b.err
	}
	return nil
}

// peek returns up to n leading bytes without consuming them; call it before
// the first ReadByte.
func (b *byteReader) peek(n int) []byte {
	for b.n-b.i < n && b.err == nil {
		if b.i == 0 && b.n == len(b.buf) {
			break
		}
		if err := b.fill(); err != nil {
			break
		}
	}
	return b.buf[b.i:min(b.n, b.i+n)]
}

// skip drops the first n buffered bytes (a byte-order mark).
func (b *byteReader) skip(n int) {
	b.i += min(n, b.n-b.i)
	b.setLimit(b.max)
}
