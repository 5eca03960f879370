package ubl

// Character data: text and attribute values, with their references and
// line ends decoded and their characters checked as encoding/xml does.

import (
	"fmt"
	"unicode/utf8"
)

// badChars returns encoding/xml's complaint about the first byte of b that
// is not UTF-8 or not an XML character, or "".
func badChars(b []byte) string {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < utf8.RuneSelf || c == '\n' || c == '\t' || c == '\r' {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return "invalid UTF-8"
		}
		if !xmlChar(r) {
			return fmt.Sprintf("illegal character code %U", r)
		}
		i += size
	}
	return ""
}

// xmlChar reports whether r is in the XML character range (XML 1.0, 2.2).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// plain marks the bytes chars copies as they are: ASCII characters other
// than the ones it must look at.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = true
	}
	t['\n'], t['\t'] = true, true
	for _, c := range "<&]\"'" {
		t[c] = false
	}
	return t
}()

// chars reads character data: text up to the next '<' (quote 0), or an
// attribute value up to the closing quote. It decodes references and line
// ends and appends the result to dst when keep; invalid characters are
// reported once it has all been read, as encoding/xml does.
func (s *scanner) chars(dst []byte, quote byte, keep bool) ([]byte, error) {
	data := s.data[:s.end]
	i, run := s.p, s.p
	bad := ""
	flush := func(to int) {
		if keep {
			dst = append(dst, data[run:to]...)
		}
	}
	for {
		for i < len(data) && plain[data[i]] {
			i++
		}
		if i == len(data) {
			flush(i)
			s.p = i
			if bad != "" {
				return dst, s.syntax(i, bad)
			}
			if quote != 0 {
				return dst, s.atEnd()
			}
			return dst, nil
		}
		switch c := data[i]; {
		case c == '<' && quote == 0:
			flush(i)
			s.p = i
			if bad != "" {
				return dst, s.syntax(i, bad)
			}
			return dst, nil
		case c == '<':
			return dst, s.syntax(i+1, "unescaped < inside quoted string")
		case c == quote && quote != 0:
			flush(i)
			s.p = i + 1
			if bad != "" {
				return dst, s.syntax(i+1, bad)
			}
			return dst, nil
		case c == '"' || c == '\'':
			i++
		case c == ']':
			if quote == 0 && i+2 < len(data) && data[i+1] == ']' && data[i+2] == '>' {
				return dst, s.syntax(i+3, "unescaped ]]> not in CDATA section")
			}
			i++
		case c == '&':
			flush(i)
			var r rune
			var err error
			r, i, err = s.reference(i)
			if err != nil {
				return dst, err
			}
			if !utf8.ValidRune(r) {
				r = utf8.RuneError // a surrogate, as string(rune(n)) gives
			}
			if keep {
				dst = utf8.AppendRune(dst, r)
			}
			if bad == "" && !xmlChar(r) {
				bad = fmt.Sprintf("illegal character code %U", r)
			}
			run = i
		case c == '\r':
			flush(i)
			if keep {
				dst = append(dst, '\n')
			}
			i++
			if i < len(data) && data[i] == '\n' {
				i++
			}
			run = i
		case c < utf8.RuneSelf:
			if bad == "" {
				bad = fmt.Sprintf("illegal character code %U", rune(c))
			}
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if bad == "" {
				if r == utf8.RuneError && size == 1 {
					bad = "invalid UTF-8"
				} else if !xmlChar(r) {
					bad = fmt.Sprintf("illegal character code %U", r)
				}
			}
			i += size
		}
	}
}

// reference decodes the entity or character reference at data[i] == '&'
// and returns the rune and the index after it.
func (s *scanner) reference(i int) (rune, int, error) {
	data := s.data[:s.end]
	j := i + 1
	need := func() error {
		if j >= len(data) {
			s.p = len(data)
			return s.atEnd()
		}
		return nil
	}
	if err := need(); err != nil {
		return 0, 0, err
	}
	if data[j] == '#' {
		j++
		if err := need(); err != nil {
			return 0, 0, err
		}
		base := rune(10)
		if data[j] == 'x' {
			base = 16
			j++
			if err := need(); err != nil {
				return 0, 0, err
			}
		}
		start := j
		var n rune
		for ; j < len(data); j++ {
			d := rune(data[j])
			switch {
			case '0' <= d && d <= '9':
				d -= '0'
			case base == 16 && 'a' <= d && d <= 'f':
				d -= 'a' - 10
			case base == 16 && 'A' <= d && d <= 'F':
				d -= 'A' - 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			if n <= utf8.MaxRune {
				n = n*base + d
			}
		}
		if err := need(); err != nil {
			return 0, 0, err
		}
		if data[j] != ';' {
			return 0, 0, s.syntax(j, "invalid character entity "+string(data[i:j])+" (no semicolon)")
		}
		if j == start || n > utf8.MaxRune {
			return 0, 0, s.syntax(j+1, "invalid character entity "+string(data[i:j+1]))
		}
		return n, j + 1, nil
	}
	for j < len(data) && nameByte[data[j]] {
		j++
	}
	if err := need(); err != nil {
		return 0, 0, err
	}
	if data[j] != ';' {
		return 0, 0, s.syntax(j, "invalid character entity "+string(data[i:j])+" (no semicolon)")
	}
	var r rune
	switch string(data[i+1 : j]) {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "apos":
		r = '\''
	case "quot":
		r = '"'
	default:
		return 0, 0, s.syntax(j+1, "invalid character entity "+string(data[i:j+1]))
	}
	return r, j + 1, nil
}
