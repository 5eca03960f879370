package efaktura

import (
	"bufio"
	"encoding/xml"
	"io"
	"strings"
)

// node is one element of the XML we write. A tree written by hand, rather
// than structs through encoding/xml, keeps the prefixes the Svefaktura
// examples use (cac:, cbc:) and the element order of the schema's
// sequences visible in one place, and makes the output byte-stable.
type node struct {
	name  string
	attrs []attr
	text  string
	kids  []*node
}

type attr struct{ name, value string }

func elem(name string, kids ...*node) *node { return &node{name: name, kids: kids} }

// leaf is an element with text; an empty text yields nil, so optional
// elements drop out where the model has no value.
func leaf(name, text string, attrs ...attr) *node {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	return &node{name: name, text: text, attrs: attrs}
}

// add appends the non-nil kids; it lets callers list optional children
// without an if around each.
func (n *node) add(kids ...*node) *node {
	for _, k := range kids {
		if k != nil {
			n.kids = append(n.kids, k)
		}
	}
	return n
}

// empty reports whether an aggregate ended up with nothing in it, so it can
// be left out instead of written as an empty element the schema may refuse.
func (n *node) empty() bool { return n == nil || n.text == "" && len(n.kids) == 0 }

// writeXML writes the declaration and the tree indented by tabs, as the
// SFTI examples are, with LF line ends.
func writeXML(w io.Writer, root *node) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	root.write(bw, 0)
	return bw.Flush()
}

func (n *node) write(w *bufio.Writer, depth int) {
	indent := strings.Repeat("\t", depth)
	w.WriteString(indent + "<" + n.name)
	for _, a := range n.attrs {
		w.WriteString(" " + a.name + `="`)
		xml.EscapeText(w, []byte(a.value))
		w.WriteString(`"`)
	}
	switch {
	case len(n.kids) > 0:
		w.WriteString(">\n")
		for _, k := range n.kids {
			k.write(w, depth+1)
		}
		w.WriteString(indent + "</" + n.name + ">\n")
	case n.text != "":
		w.WriteString(">")
		xml.EscapeText(w, []byte(n.text))
		w.WriteString("</" + n.name + ">\n")
	default:
		w.WriteString("/>\n")
	}
}
