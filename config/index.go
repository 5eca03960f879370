package config

import (
	"errors"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// docIndex maps every key written in a document, in the dotted form
// Problems use ("tenant[0].autogiro.customer_number"), to the line it is
// written on. go-toml reports lines for syntax errors and unknown keys only;
// the index lets validation point at the line of any key it complains about.
type docIndex map[string]entry

// entry is what the index knows about one key.
type entry struct {
	line int
	kind unstable.Kind // Table or ArrayTable for headers and dotted-key parents
	text string        // the value of a string
}

// indexDocument walks the document's syntax tree. On a syntax error it
// returns what it saw before the error, and the error as a Problem (Key
// and File unset).
func indexDocument(data []byte) (idx docIndex, syntax *Problem) {
	idx = docIndex{}
	// The index only improves messages, and the parser is go-toml's
	// unstable API: a panic in it must not take the error report with it.
	defer func() {
		if recover() != nil {
			idx, syntax = docIndex{}, nil
		}
	}()
	arrays := map[string]int{} // array-of-tables path → elements seen so far
	var p unstable.Parser
	p.Reset(data)
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			path, line := "", 0
			it := e.Key()
			for it.Next() {
				k := it.Node()
				if line == 0 {
					line = p.Shape(k.Raw).Start.Line
				}
				path = joinKey(path, string(k.Data))
				if it.IsLast() && e.Kind == unstable.ArrayTable {
					n := arrays[path]
					arrays[path] = n + 1
					path += "[" + strconv.Itoa(n) + "]"
				} else if n, ok := arrays[path]; ok {
					// [tenant.autogiro] after [[tenant]] belongs to the
					// last tenant so far.
					path += "[" + strconv.Itoa(n-1) + "]"
				}
			}
			table = path
			if e.Kind == unstable.ArrayTable {
				idx.record(parentKey(path), entry{line: line, kind: unstable.ArrayTable})
			}
			idx.record(path, entry{line: line, kind: unstable.Table})
		case unstable.KeyValue:
			idx.keyValue(&p, table, e)
		}
	}
	var perr *unstable.ParserError
	if errors.As(p.Error(), &perr) {
		pos := p.Shape(p.Range(perr.Highlight)).Start
		syntax = &Problem{Line: pos.Line, Column: pos.Column, Msg: perr.Message}
	}
	return idx, syntax
}

// keyValue records a key = value under prefix, and the keys inside an
// inline table or an array of inline tables.
func (idx docIndex) keyValue(p *unstable.Parser, prefix string, kv *unstable.Node) {
	path, line := prefix, 0
	it := kv.Key()
	for it.Next() {
		k := it.Node()
		line = p.Shape(k.Raw).Start.Line
		path = joinKey(path, string(k.Data))
		if !it.IsLast() {
			idx.record(path, entry{line: line, kind: unstable.Table})
		}
	}
	idx.value(p, path, line, kv.Value())
}

// value records a value at path, and what is inside arrays and inline tables.
func (idx docIndex) value(p *unstable.Parser, path string, line int, v *unstable.Node) {
	e := entry{line: line, kind: v.Kind}
	if v.Kind == unstable.String {
		e.text = string(v.Data)
	}
	idx.record(path, e)
	switch v.Kind {
	case unstable.InlineTable:
		idx.inlineTable(p, path, v)
	case unstable.Array:
		elems := v.Children()
		for i := 0; elems.Next(); i++ {
			idx.value(p, path+"["+strconv.Itoa(i)+"]", line, elems.Node())
		}
	}
}

func (idx docIndex) inlineTable(p *unstable.Parser, path string, t *unstable.Node) {
	kvs := t.Children()
	for kvs.Next() {
		if kv := kvs.Node(); kv.Kind == unstable.KeyValue {
			idx.keyValue(p, path, kv)
		}
	}
}

// record keeps the first place a key appears.
func (idx docIndex) record(path string, e entry) {
	if _, ok := idx[path]; !ok {
		idx[path] = e
	}
}

// lineOf returns the line of key or of the nearest enclosing table that is
// written in the document, so that "channel.email.addr: required" points at
// [channel.email] when addr is missing. It returns 0 when nothing matches.
func (idx docIndex) lineOf(key string) int {
	for key != "" {
		if e, ok := idx[key]; ok {
			return e.line
		}
		key = parentKey(key)
	}
	return 0
}

// find returns the indexed key that go-toml's key parts (which carry no
// array indices) name on the given line, so that an unknown key is reported
// as "tenant[1].prioriy" rather than "tenant.prioriy".
func (idx docIndex) find(parts []string, line int) string {
	plain := strings.Join(parts, ".")
	var exact, near string
	for k, e := range idx {
		if e.line != line {
			continue
		}
		// An array value's elements are indexed on the key's line too
		// ("tenant[0].priority[0]"); the key itself is the shortest match.
		// Map order is random, so the choice must not depend on it.
		if stripIndices(k) == plain {
			if exact == "" || len(k) < len(exact) || len(k) == len(exact) && k < exact {
				exact = k
			}
			continue
		}
		// go-toml's key for a key inside an inline table can lack the
		// table's name; the key written on that line with the same last
		// part is the one.
		if len(parts) > 0 && lastPart(k) == parts[len(parts)-1] && (near == "" || k < near) {
			near = k
		}
	}
	if exact != "" {
		return exact
	}
	if near != "" {
		return near
	}
	return plain
}

// lastPart returns the last name of a dotted key, without an index.
func lastPart(key string) string {
	key = stripIndices(key)
	return key[strings.LastIndexByte(key, '.')+1:]
}

func joinKey(prefix, part string) string {
	if prefix == "" {
		return part
	}
	return prefix + "." + part
}

// parentKey drops the last part of a dotted key: an index or a name.
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i >= 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// stripIndices turns "tenant[0].autogiro" into "tenant.autogiro".
func stripIndices(key string) string {
	var b strings.Builder
	skip := false
	for _, c := range key {
		switch {
		case c == '[':
			skip = true
		case c == ']':
			skip = false
		case !skip:
			b.WriteRune(c)
		}
	}
	return b.String()
}
