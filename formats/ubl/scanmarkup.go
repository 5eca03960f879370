package ubl

// The markup: tags, names and namespaces, processing instructions,
// comments and CDATA sections, read as encoding/xml reads them.

import (
	"bytes"
	"encoding/xml"
	"strings"
	"unicode/utf8"
)

// nameByte marks the bytes encoding/xml reads as part of a name; bytes from
// 0x80 are too (and make the document unusual here).
var nameByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '_' || c == ':' || c == '.' || c == '-' || c >= 0x80
	}
	return t
}()

// name reads a name that must be there; ok is false if none starts here.
func (s *scanner) name() (name []byte, ok bool, err error) {
	start := s.p
	var all byte
	for s.p < s.end && nameByte[s.data[s.p]] {
		all |= s.data[s.p]
		s.p++
	}
	if s.p == s.end {
		return nil, false, s.atEnd()
	}
	b := s.data[start:s.p]
	if len(b) == 0 {
		return nil, false, nil
	}
	if all >= utf8.RuneSelf {
		return nil, false, errUnusual
	}
	if c := b[0]; c >= '0' && c <= '9' || c == '.' || c == '-' {
		return nil, false, s.syntax(s.p, "invalid XML name: "+string(b))
	}
	return b, true, nil
}

// nsname reads a name and splits it at its colon as encoding/xml does: a
// name with two colons is no name, one with an empty side has no prefix.
func (s *scanner) nsname() (prefix, local []byte, ok bool, err error) {
	b, ok, err := s.name()
	if !ok {
		return nil, nil, false, err
	}
	i := bytes.IndexByte(b, ':')
	switch {
	case i < 0:
		return nil, b, true, nil
	case bytes.IndexByte(b[i+1:], ':') >= 0:
		return nil, nil, false, nil
	case i == 0 || i == len(b)-1:
		return nil, b, true, nil
	}
	return b[:i], b[i+1:], true, nil
}

// endTag reads "name>" after "</".
func (s *scanner) endTag() (prefix, local []byte, err error) {
	prefix, local, ok, err := s.nsname()
	if !ok {
		if err == nil {
			err = s.syntax(s.p, "expected element name after </")
		}
		return nil, nil, err
	}
	s.space()
	c, err := s.getc()
	if err != nil {
		return nil, nil, err
	}
	if c != '>' {
		return nil, nil, s.syntax(s.p, "invalid characters between </"+string(local)+" and >")
	}
	return prefix, local, nil
}

// closeTag reads an end tag, which must close the innermost open element.
func (s *scanner) closeTag() error {
	e := s.open[len(s.open)-1]
	q := e.local // the name as written
	if len(e.prefix) > 0 {
		q = e.prefix[:len(e.prefix)+1+len(e.local)]
	}
	if end := s.p + len(q); end < s.end && s.data[end] == '>' && bytes.Equal(s.data[s.p:end], q) {
		s.p = end + 1
		return nil
	}
	prefix, local, err := s.endTag()
	if err != nil {
		return err
	}
	switch {
	case !bytes.Equal(e.local, local):
		return s.syntax(s.p, "element <"+string(e.local)+"> closed by </"+string(local)+">")
	case !bytes.Equal(e.prefix, prefix):
		space := string(prefix)
		if space == "" {
			space = `""`
		}
		return s.syntax(s.p, "element <"+string(e.local)+"> in space "+string(e.prefix)+
			" closed by </"+string(local)+"> in space "+space)
	}
	return nil
}

// startTag reads a start tag after "<" and returns its node, child of parent.
func (s *scanner) startTag(parent *node) (n *node, empty bool, err error) {
	prefix, local, ok, err := s.nsname()
	if !ok {
		if err == nil {
			err = s.syntax(s.p, "expected element name after <")
		}
		return nil, false, err
	}
	s.attrs = s.attrs[:0]
	for {
		s.space()
		c, err := s.getc()
		if err != nil {
			return nil, false, err
		}
		if c == '/' {
			if c, err = s.getc(); err != nil {
				return nil, false, err
			}
			if c != '>' {
				return nil, false, s.syntax(s.p, "expected /> in element")
			}
			empty = true
			break
		}
		if c == '>' {
			break
		}
		s.p--
		var a rawAttr
		a.prefix, a.local, ok, err = s.nsname()
		if !ok {
			if err == nil {
				err = s.syntax(s.p, "expected attribute name in element")
			}
			return nil, false, err
		}
		s.space()
		if c, err = s.getc(); err != nil {
			return nil, false, err
		}
		if c != '=' {
			return nil, false, s.syntax(s.p, "attribute name without = in element")
		}
		s.space()
		if c, err = s.getc(); err != nil {
			return nil, false, err
		}
		if c != '"' && c != '\'' {
			return nil, false, s.syntax(s.p, "unquoted or missing attribute value in element")
		}
		a.off = len(s.vals)
		if s.vals, err = s.chars(s.vals, c, true); err != nil {
			return nil, false, err
		}
		a.end = len(s.vals)
		s.attrs = append(s.attrs, a)
	}

	// Declarations first: they apply to the element's own name and attributes.
	n = s.node()
	n.parent = parent
	if parent != nil {
		s.kids = append(s.kids, n)
	}
	s.open = append(s.open, openElem{n: n, prefix: prefix, local: local, ns: len(s.ns), kids: len(s.kids)})
	for _, a := range s.attrs {
		switch {
		case string(a.prefix) == "xmlns":
			s.ns = append(s.ns, binding{s.intern(a.local), s.intern(s.vals[a.off:a.end])})
		case len(a.prefix) == 0 && string(a.local) == "xmlns":
			s.ns = append(s.ns, binding{"", s.intern(s.vals[a.off:a.end])})
		}
	}
	n.name = s.canonical(prefix, local)
	k := 0
	for i, a := range s.attrs {
		// What decodeTree drops, after encoding/xml's translation.
		space := s.resolve(a.prefix, a.local, false)
		if space == "xmlns" || string(a.local) == "xmlns" {
			continue
		}
		if n.attrs == nil {
			n.attrs = s.attrSlice(len(s.attrs) - i)
		}
		n.attrs[k].Name = xml.Name{Space: space, Local: s.intern(a.local)}
		s.setString(&n.attrs[k].Value, s.vals[a.off:a.end])
		k++
	}
	n.attrs = n.attrs[:k:k]
	s.vals = s.vals[:0]
	return n, empty, nil
}

// resolve is the namespace of a name as encoding/xml's translate gives it.
func (s *scanner) resolve(prefix, local []byte, element bool) string {
	p := string(prefix) // no allocation where it is only compared
	switch {
	case p == "xmlns":
		return "xmlns"
	case p == "" && !element:
		return ""
	case p == "xml":
		// No prefix can be bound to the URL: prefixes have no '/'.
		return "http://www.w3.org/XML/1998/namespace"
	case p == "" && string(local) == "xmlns":
		return ""
	}
	for i := len(s.ns) - 1; i >= 0; i-- {
		if s.ns[i].prefix == p {
			return s.ns[i].uri
		}
	}
	if p == "" {
		return ""
	}
	return s.intern(prefix)
}

// canonical is node.name for an element name as written, in the current scope.
func (s *scanner) canonical(prefix, local []byte) string {
	uri := s.resolve(prefix, local, true)
	key := local // the name as written: prefix, colon and local are adjacent
	if len(prefix) > 0 {
		key = prefix[:len(prefix)+1+len(local)]
	}
	if q, ok := s.names[string(key)]; ok && q.uri == uri {
		return q.canon
	}
	canon := canonical(xml.Name{Space: uri, Local: string(local)})
	s.names[string(key)] = qname{uri, canon}
	return canon
}

// procInst reads a processing instruction after "<?". An XML declaration
// other than version 1.0 in UTF-8 is unusual: encoding/xml then switches
// the decoding or refuses the version.
func (s *scanner) procInst() error {
	target, ok, err := s.name()
	if !ok {
		if err == nil {
			err = s.syntax(s.p, "expected target name after <?")
		}
		return err
	}
	s.space()
	i := bytes.Index(s.data[s.p:s.end], []byte("?>"))
	if i < 0 {
		s.p = s.end
		return s.atEnd()
	}
	content := string(s.data[s.p : s.p+i])
	s.p += i + 2
	if string(target) == "xml" {
		ver, enc := pseudoAttr("version", content), pseudoAttr("encoding", content)
		if ver != "" && ver != "1.0" || enc != "" && !strings.EqualFold(enc, "utf-8") {
			return errUnusual
		}
	}
	return nil
}

// pseudoAttr finds param="value" in an XML declaration exactly as
// encoding/xml's procInst does, so the same declarations are unusual.
func pseudoAttr(param, s string) string {
	param += "="
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || len(param)+k >= len(sub) {
			return ""
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// bang reads a comment or CDATA section after "<!"; a CDATA section's text
// is added to s.text when keep. Declarations (<!DOCTYPE ...>) are unusual.
func (s *scanner) bang(keep bool) error {
	c, err := s.getc()
	if err != nil {
		return err
	}
	switch c {
	case '-':
		if c, err = s.getc(); err != nil {
			return err
		}
		if c != '-' {
			return s.syntax(s.p, "invalid sequence <!- not part of <!--")
		}
		i := bytes.Index(s.data[s.p:s.end], []byte("--"))
		if i < 0 {
			s.p = s.end
			return s.atEnd()
		}
		s.p += i + 2
		if c, err = s.getc(); err != nil {
			return err
		}
		if c != '>' {
			return s.syntax(s.p, `invalid sequence "--" not allowed in comments`)
		}
		return nil
	case '[':
		for i := range 6 {
			if c, err = s.getc(); err != nil {
				return err
			}
			if c != "CDATA["[i] {
				return s.syntax(s.p, "invalid <![ sequence")
			}
		}
		i := bytes.Index(s.data[s.p:s.end], []byte("]]>"))
		if i < 0 {
			s.p = s.end
			if s.end == s.limitAt {
				return s.atEnd()
			}
			return s.syntax(s.p, "unexpected EOF in CDATA section")
		}
		raw := s.data[s.p : s.p+i]
		s.p += i + 3
		start := len(s.text)
		for len(raw) > 0 {
			j := bytes.IndexByte(raw, '\r')
			if j < 0 {
				s.text = append(s.text, raw...)
				break
			}
			s.text = append(append(s.text, raw[:j]...), '\n')
			raw = raw[j+1:]
			if len(raw) > 0 && raw[0] == '\n' {
				raw = raw[1:]
			}
		}
		if msg := badChars(s.text[start:]); msg != "" {
			return s.syntax(s.p, msg)
		}
		if !keep {
			s.text = s.text[:start]
		}
		return nil
	}
	return errUnusual
}
