package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	File   string // the file name as given to Load or Parse
	Line   int    // 1-based; 0 when not known
	Column int    // 1-based; set for syntax errors only
	Key    string // the key in dotted form, "tenant[0].orgnr"; "" for syntax errors and unknown keys, whose message quotes the key as written
	Msg    string // what is wrong and what to do about it
}

// String formats the problem as FILE:LINE: KEY: message, leaving out the
// parts that are not known.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteString(":" + strconv.Itoa(p.Column))
		}
	}
	if p.Key != "" {
		b.WriteString(": " + p.Key)
	}
	b.WriteString(": " + p.Msg)
	return b.String()
}

// Error is every problem found in one configuration: validation goes on
// after the first problem so that one run of `multikanal check` shows all
// of them.
type Error struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems for one document, finding each key's line in
// the document's index.
type problems struct {
	file  string
	index docIndex
	list  []Problem
}

// add records a problem with key, at the line where key (or, when the key
// is absent, the nearest enclosing table) is written.
func (ps *problems) add(key, format string, args ...any) {
	ps.list = append(ps.list, Problem{
		File: ps.file,
		Line: ps.index.lineOf(key),
		Key:  key,
		Msg:  fmt.Sprintf(format, args...),
	})
}

// err returns the collected problems as an *Error, or nil when there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	// In the order of the file, so the list reads along with it; problems
	// without a line (keys left out of the file) come last.
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i].Line, ps.list[j].Line
		return a != 0 && (b == 0 || a < b)
	})
	return &Error{Problems: ps.list}
}
