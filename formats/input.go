package formats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Input is one file to read: its name for messages and random access to its
// bytes, so archive formats can read their directory and others can stream.
type Input struct {
	Name string
	R    io.ReaderAt
	Size int64
}

// Stream returns a reader over the whole input.
func (in Input) Stream() io.Reader { return io.NewSectionReader(in.R, 0, in.Size) }

// Item is one thing a Reader found in a file: a document, or the reason one
// document could not be read. Index counts items from 0 in file order and is
// stable: reading the same bytes again gives the same indexes.
type Item struct {
	Index  int
	Source string    // where in the file: "entry a.xml", "line 12"
	Doc    *Document // nil when Err is set
	Err    error     // this document is unreadable; the rest of the file goes on
}

// ErrSkipped marks an Item's Err for a part of a file that holds no
// document and is passed over on purpose (a folder entry of a ZIP archive,
// an archiver's metadata): it is listed with why, but is no rejected
// document.
var ErrSkipped = errors.New("skipped")

// Reader is an input format. The gateway keeps a list of them and asks each,
// in order, whether it recognises a file's first bytes.
type Reader interface {
	// Name is the format's short name: "ubl", "csv", "autogiro".
	Name() string
	// Sniff reports whether head (the first bytes of a file, up to 4 KiB)
	// looks like this format.
	Sniff(head []byte) bool
	// Read parses the input and calls emit for every item in file order. A
	// returned error means the file as a whole could not be read; items
	// already emitted stand. If emit returns an error, Read stops with it.
	Read(in Input, emit func(Item) error) error
}

// SniffSize is how many leading bytes Detect looks at.
const SniffSize = 4096

// ErrUnknownFormat is wrapped by Detect when no reader recognises a file.
var ErrUnknownFormat = errors.New("unknown format")

// Detect picks the reader for a file by its first bytes. When none fits,
// the error says what the bytes look like instead.
func Detect(head []byte, readers []Reader) (Reader, error) {
	if len(head) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrUnknownFormat)
	}
	for _, r := range readers {
		if r.Sniff(head) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w: %s, not an invoice file this gateway reads", ErrUnknownFormat, Describe(head))
}

// Describe says in a few words what a file's first bytes look like, for
// messages about files no reader recognises.
func Describe(head []byte) string {
	magic := []struct {
		prefix []byte
		what   string
	}{
		{[]byte("%PDF-"), "looks like PDF"},
		{[]byte("PK\x03\x04"), "looks like a ZIP archive"},
		{[]byte("\x1f\x8b"), "looks like gzip"},
		{[]byte("\x89PNG"), "looks like a PNG image"},
		{[]byte("\xff\xd8\xff"), "looks like a JPEG image"},
		{[]byte("\xd0\xcf\x11\xe0"), "looks like an old Microsoft Office file (xls/doc)"},
		{[]byte("{\\rtf"), "looks like RTF"},
		{[]byte("\x7fELF"), "looks like a program (ELF)"},
	}
	for _, m := range magic {
		if bytes.HasPrefix(head, m.prefix) {
			return m.what
		}
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(t) == 0:
		return "contains only blank space"
	case t[0] == '<':
		if root := xmlRoot(t); root != "" {
			return fmt.Sprintf("looks like XML with root element <%s>", root)
		}
		return "looks like XML or HTML"
	case t[0] == '{' || t[0] == '[':
		return "looks like JSON"
	}
	if bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(trimPartialRune(head)) && binaryShare(head) > 0.1 {
		return "looks like binary data"
	}
	line, _, _ := bytes.Cut(t, []byte("\n"))
	if len(line) > 60 {
		line = line[:60]
	}
	return fmt.Sprintf("looks like text starting %q", bytes.TrimSpace(line))
}

// xmlRoot finds the first element name after any prolog, comments and doctype.
func xmlRoot(t []byte) string {
	for len(t) > 0 {
		i := bytes.IndexByte(t, '<')
		if i < 0 || i+1 >= len(t) {
			return ""
		}
		t = t[i+1:]
		if t[0] == '?' || t[0] == '!' {
			continue
		}
		end := bytes.IndexAny(t, " \t\r\n/>")
		if end < 0 {
			return ""
		}
		return string(t[:end])
	}
	return ""
}

func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
			return b
		}
		b = b[:len(b)-1]
	}
	return b
}

func binaryShare(b []byte) float64 {
	n := 0
	for _, c := range b {
		if c < 0x09 || (c > 0x0d && c < 0x20) {
			n++
		}
	}
	return float64(n) / float64(len(b))
}
