package ubl

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// maxInMemory is the largest document parseTree reads whole to parse it
// with scanTree. Larger ones (those with big attachments) stream through
// encoding/xml as before, so a huge file never sits in memory twice.
const maxInMemory = 16 << 20

// errUnusual is scanTree's answer for a document that uses what only
// encoding/xml handles (see scanTree); parseTree then parses it with
// decodeTree. It never reaches a caller.
var errUnusual = errors.New("left to encoding/xml")

// attachment is the element whose text may be longer than maxText.
const attachment = "cbc:EmbeddedDocumentBinaryObject"

// scanTree parses a document held whole in memory into the tree decodeTree
// builds from it, with the same errors: it is encoding/xml's strict decoder
// (Go 1.26) redone over one byte slice, without its per-token allocations,
// per-byte reads and namespace maps. It keeps encoding/xml's rules, quirks
// included, since the differential tests hold the two to the same trees:
// nothing after the root element is read; the five predefined entities and
// character references are decoded, and any other reference is an error;
// text, CDATA and attribute values must be UTF-8 in the XML character
// range, comments and processing instructions are not checked; undeclared
// prefixes stay as they were written. Each token (tag, text run, comment)
// is held to the byte limits byteReader puts on encoding/xml, counted as it
// counts them. The line of a syntax error is where encoding/xml would stop.
//
// Three rare things are left to encoding/xml: an XML declaration naming an
// encoding other than UTF-8 or a version other than 1.0, a <!DOCTYPE> or
// other declaration, and names with non-ASCII letters (the XML name tables
// are encoding/xml's). scanTree then returns errUnusual.
func scanTree(data []byte) (*node, error) {
	s := scanners.Get().(*scanner)
	defer s.release()
	s.data = data
	// An upper bound on the elements, to size the blocks.
	s.budget = bytes.Count(data, []byte{'<'}) - bytes.Count(data, []byte("</"))
	s.kidBudget = s.budget
	root, err := s.tree()
	s.setKids()
	s.setStrings()
	return root, err
}

// scanner is scanTree's state. Reads stop at end, which is where the current
// token's byte limit (limitAt) or the data ends.
//
// Most of encoding/xml's time went to allocating; the scanner allocates a
// document's nodes, their children and attributes in blocks, and its short
// texts as one string (setStrings), and is reused.
type scanner struct {
	data         []byte
	p            int // next byte to read
	end, limitAt int
	limit        int  // the current token's limit, for the message
	afterText    bool // the last token was text: encoding/xml read its '<' with it

	text  []byte    // the current leaf's text, decoded
	vals  []byte    // the current start tag's attribute values, decoded
	attrs []rawAttr // the current start tag's attributes
	ns    []binding // prefix bindings in scope, innermost last
	open  []openElem
	kids  []*node // children of the open elements, each one's after its openElem.kids

	budget    int // nodes the rest of the document can hold at most
	kidBudget int // and children
	nodes     []node
	kidBlock  []*node
	attrBlk   []xml.Attr
	shared    []byte    // short texts and attribute values, in document order
	pending   []pending // where they go

	names map[string]qname  // canonical names by name as written
	strs  map[string]string // interned attribute names and namespace URIs
}

var scanners = sync.Pool{New: func() any {
	return &scanner{names: make(map[string]qname, 128), strs: make(map[string]string, 32)}
}}

// release readies s for the next document and pools it. Nothing of the
// tree stays reachable from it; the interned names do, a bounded number.
func (s *scanner) release() {
	clear(s.attrs)
	clear(s.open)
	clear(s.kids)
	clear(s.pending)
	*s = scanner{
		text: s.text[:0], vals: s.vals[:0], attrs: s.attrs[:0], ns: s.ns[:0], open: s.open[:0], kids: s.kids[:0],
		shared: s.shared[:0], pending: s.pending[:0], names: s.names, strs: s.strs,
	}
	if len(s.names) > 4096 || len(s.strs) > 4096 || cap(s.shared) > maxPooled || cap(s.text) > maxPooled {
		return // a hostile document's; let it go
	}
	scanners.Put(s)
}

// maxShared is the longest string setString puts in the shared one: a long
// text (an attachment) must not keep the others' memory alive, nor they it.
const maxShared = 1 << 10

type pending struct {
	dst      *string
	off, end int
}

// setString sets *dst to b when the document has been read (setStrings).
func (s *scanner) setString(dst *string, b []byte) {
	switch {
	case len(b) == 0:
	case len(b) > maxShared:
		*dst = string(b)
	default:
		s.pending = append(s.pending, pending{dst, len(s.shared), len(s.shared) + len(b)})
		s.shared = append(s.shared, b...)
	}
}

// setStrings sets the strings setString was given, in one allocation.
func (s *scanner) setStrings() {
	all := string(s.shared)
	for _, p := range s.pending {
		*p.dst = all[p.off:p.end]
	}
}

// setKids gives the elements left open (by an error) their children so far.
func (s *scanner) setKids() {
	for i, e := range s.open {
		end := len(s.kids)
		if i+1 < len(s.open) {
			end = s.open[i+1].kids
		}
		if e.n.kids == nil && end > e.kids {
			e.n.kids = slices.Clone(s.kids[e.kids:end])
		}
	}
}

type rawAttr struct {
	prefix, local []byte
	off, end      int // of the value in scanner.vals
}

type binding struct{ prefix, uri string }

type openElem struct {
	n             *node
	prefix, local []byte // as written, for the end tag to match
	ns            int    // len(scanner.ns) before its declarations
	kids          int    // len(scanner.kids) when it opened
}

// leaf reports whether the innermost open element has no children yet.
func (s *scanner) leaf() bool {
	return len(s.open) > 0 && s.open[len(s.open)-1].kids == len(s.kids)
}

// qname is a canonical name with the namespace URI it was made for: the same
// prefix may be bound to another URI in another scope.
type qname struct{ uri, canon string }

func (s *scanner) tree() (*node, error) {
	var root, cur *node
	count := 0
	for {
		s.limit = maxText
		if cur != nil && cur.name == attachment {
			s.limit = maxAttachment
		}
		s.limitAt = s.p + s.limit
		if s.afterText {
			s.limitAt++ // the '<' that encoding/xml already read
		}
		s.end = min(len(s.data), s.limitAt)
		if s.p == len(s.data) {
			if root == nil {
				return nil, errors.New("no root element: the file holds no XML document")
			}
			return root, s.syntax(s.p, "unexpected EOF")
		}
		if s.data[s.p] != '<' {
			keep := s.leaf()
			n := len(s.text)
			var err error
			s.text, err = s.chars(s.text, 0, keep)
			if err != nil {
				return root, err
			}
			if !keep {
				s.text = s.text[:n]
			} else if len(s.text) > s.limit {
				return root, s.textLimit(cur)
			}
			if s.p == s.limitAt {
				return root, s.atEnd()
			}
			s.afterText = true
			continue
		}
		s.afterText = false
		s.p++
		c, err := s.getc()
		if err != nil {
			return root, err
		}
		switch c {
		case '/':
			if cur == nil {
				// encoding/xml reads the tag before it finds nothing open.
				_, local, err := s.endTag()
				if err != nil {
					return root, err
				}
				return root, s.syntax(s.p, "unexpected end element </"+string(local)+">")
			}
			if err := s.closeTag(); err != nil {
				return root, err
			}
			s.close()
			if cur == root {
				return root, nil
			}
			cur = cur.parent
		case '?':
			if err := s.procInst(); err != nil {
				return root, err
			}
		case '!':
			keep := s.leaf()
			if err := s.bang(keep); err != nil {
				return root, err
			}
			if keep && len(s.text) > s.limit {
				return root, s.textLimit(cur)
			}
		default:
			s.p--
			n, empty, err := s.startTag(cur)
			if err != nil {
				return root, err
			}
			count++
			if len(s.open) > maxDepth || count > maxElements {
				// decodeTree stops before adding it to the tree.
				s.open = s.open[:len(s.open)-1]
				s.kids = s.kids[:len(s.kids)-1]
				if len(s.open) >= maxDepth {
					return root, fmt.Errorf("elements nested more than %d deep: %w", maxDepth, ErrLimit)
				}
				return root, fmt.Errorf("more than %d elements: %w", maxElements, ErrLimit)
			}
			if cur == nil {
				root = n
			}
			cur = n
			s.text = s.text[:0]
			if empty {
				s.close()
				if cur == root {
					return root, nil
				}
				cur = cur.parent
			}
		}
	}
}

// line is the line of data[p], counted as encoding/xml counts.
func (s *scanner) line(p int) int {
	return 1 + bytes.Count(s.data[:p], []byte{'\n'})
}

// syntax is encoding/xml's syntax error, at the line where it would stop
// having read data[:p].
func (s *scanner) syntax(p int, msg string) error {
	return syntaxError(&xml.SyntaxError{Msg: msg, Line: s.line(p)}, 0, 0)
}

// atEnd is the error for reading at s.end: the end of the data, or of what
// the token may take.
func (s *scanner) atEnd() error {
	if s.end == s.limitAt {
		return fmt.Errorf("an XML token (tag or text) is longer than %d bytes: %w", s.limit, ErrLimit)
	}
	return s.syntax(len(s.data), "unexpected EOF")
}

// getc reads one byte; at the end it fails as encoding/xml's mustgetc.
func (s *scanner) getc() (byte, error) {
	if s.p >= s.end {
		return 0, s.atEnd()
	}
	c := s.data[s.p]
	s.p++
	return c, nil
}

// space skips white space.
func (s *scanner) space() {
	for s.p < s.end {
		switch s.data[s.p] {
		case ' ', '\r', '\n', '\t':
			s.p++
		default:
			return
		}
	}
}

// close closes the innermost element: it gets its children, or its text,
// and its declarations go out of scope.
func (s *scanner) close() {
	e := s.open[len(s.open)-1]
	s.open = s.open[:len(s.open)-1]
	clear(s.ns[e.ns:])
	s.ns = s.ns[:e.ns]
	if k := len(s.kids) - e.kids; k > 0 {
		if len(s.kidBlock) < k {
			s.kidBlock = make([]*node, max(k, min(s.kidBudget, 1024)))
			s.kidBudget -= len(s.kidBlock)
		}
		e.n.kids = s.kidBlock[:k:k]
		s.kidBlock = s.kidBlock[k:]
		copy(e.n.kids, s.kids[e.kids:])
		clear(s.kids[e.kids:])
		s.kids = s.kids[:e.kids]
	} else {
		s.setString(&e.n.text, bytes.TrimSpace(s.text))
	}
	s.text = s.text[:0]
}

// textLimit is the error for a text longer than the limit.
func (s *scanner) textLimit(cur *node) error {
	s.setKids() // path counts the siblings
	return fmt.Errorf("%s: text longer than %d bytes: %w", cur.path(), s.limit, ErrLimit)
}

// attrSlice returns room for n attributes.
func (s *scanner) attrSlice(n int) []xml.Attr {
	if len(s.attrBlk) < n {
		s.attrBlk = make([]xml.Attr, max(n, 64))
	}
	a := s.attrBlk[:n:n]
	s.attrBlk = s.attrBlk[n:]
	return a
}

// node returns a new node from the current block.
func (s *scanner) node() *node {
	if len(s.nodes) == 0 {
		s.nodes = make([]node, min(max(s.budget, 1), 1024))
		s.budget -= len(s.nodes)
	}
	n := &s.nodes[0]
	s.nodes = s.nodes[1:]
	return n
}

// intern returns b as a string, the same one for the same bytes.
func (s *scanner) intern(b []byte) string {
	if v, ok := s.strs[string(b)]; ok {
		return v
	}
	v := string(b)
	s.strs[v] = v
	return v
}
