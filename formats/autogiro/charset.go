package autogiro

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The character set (manual 6.1.4, "Teckenstandard"): files are ASCII,
// ISO-8859-1 recommended, with CR LF ending each 80-character record. A
// text field can therefore hold Swedish letters (å ä ö é ü) but not what
// an ERP or a word processor often puts into an invoice number: an en
// dash, typographic quotes, a euro sign.

// latin1Equivalents are the characters outside ISO-8859-1 that have a
// plain equivalent inside it.
var latin1Equivalents = map[rune]string{
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-", '⁃': "-",
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '‹': "<", '›': ">",
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`,
	'…': "...", '•': "*", '⁄': "/", '€': "EUR", '™': "TM",
	'œ': "oe", 'Œ': "OE", 'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ı': "i", 'ŀ': "l", 'Ŀ': "L",
}

// Latin1 returns s as a text field of an AutoGiro file can hold it: every
// character of ISO-8859-1 as it is, a no-break space as a space, and the
// characters ISO-8859-1 lacks as their nearest equivalent: dashes become
// "-", typographic quotes ' and ", "…" becomes "...", "€" "EUR", and a
// letter whose mark ISO-8859-1 lacks loses the mark ("Č" becomes "C",
// "ő" becomes "o"). Zero-width characters are dropped and other spaces
// become a space, as tabs and line ends do. A character with no equivalent (a control character, a
// Chinese character, an emoji) is an error naming it.
func Latin1(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return "", fmt.Errorf("byte 0x%02x at byte %d is not UTF-8 text", s[i], i+1)
		case r == '\u00a0' || unicode.IsSpace(r):
			b.WriteByte(' ')
		case r == '\u00ad' || r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\u2060' || r == '\ufeff':
			// soft hyphen and zero-width characters: invisible, dropped
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			return "", fmt.Errorf("control character U+%04X at character %d", r, utf8.RuneCountInString(s[:i])+1)
		case r <= 0xff:
			b.WriteRune(r)
		case latin1Equivalents[r] != "":
			b.WriteString(latin1Equivalents[r])
		default:
			base, ok := withoutMarks(r)
			if !ok {
				return "", fmt.Errorf("%q (U+%04X) at character %d has no ISO-8859-1 equivalent", r, r, utf8.RuneCountInString(s[:i])+1)
			}
			b.WriteString(base)
		}
	}
	return b.String(), nil
}

// withoutMarks returns a letter with its diacritical marks removed, when
// what is left is ISO-8859-1: the canonical decomposition of "Č" is "C"
// and a caron.
func withoutMarks(r rune) (string, bool) {
	var base []rune
	for _, d := range norm.NFD.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, d):
		case d >= 0x20 && d <= 0x7e || d >= 0xa0 && d <= 0xff:
			base = append(base, d)
		default:
			return "", false
		}
	}
	return string(base), len(base) > 0
}

// checkEncoding refuses what is not ISO-8859-1 text with CR LF or LF line
// ends, saying what it is instead: a byte-order mark, UTF-8 (whose "å"
// would otherwise read as the two characters "Ã¥"), UTF-16, or lines ended
// by CR alone (the old Macintosh convention, which leaves the whole file
// one line).
func checkEncoding(data []byte) error {
	for _, bom := range []struct {
		mark []byte
		name string
	}{
		{[]byte{0xef, 0xbb, 0xbf}, "a UTF-8 byte-order mark (EF BB BF)"},
		{[]byte{0xff, 0xfe}, "a UTF-16 byte-order mark (FF FE)"},
		{[]byte{0xfe, 0xff}, "a UTF-16 byte-order mark (FE FF)"},
	} {
		if bytes.HasPrefix(data, bom.mark) {
			return &Error{Line: 1, Rule: RuleEncoding, Msg: fmt.Sprintf("the file starts with %s; AutoGiro files are ISO-8859-1 text without one (manual 6.1.4): save it as ISO-8859-1 (Latin-1) without a byte-order mark", bom.name)}
		}
	}
	if bytes.IndexByte(data, '\n') < 0 && bytes.Count(bytes.TrimRight(data, "\r"), []byte{'\r'}) > 0 {
		return &Error{Line: 1, Rule: RuleEncoding, Msg: "the lines end with CR alone; AutoGiro records end with CR LF (manual 6.1.4): convert the line ends"}
	}
	if !utf8.Valid(data) {
		return nil
	}
	for no, line := range bytes.Split(data, []byte{'\n'}) {
		for i := 0; i < len(line); {
			r, size := utf8.DecodeRune(line[i:])
			if size > 1 {
				return &Error{Line: no + 1, Rule: RuleEncoding, Msg: fmt.Sprintf("the file is UTF-8 (%q at position %d is %d bytes); AutoGiro files are ISO-8859-1 (manual 6.1.4): convert it, for example with iconv -f UTF-8 -t ISO-8859-1", r, i+1, size)}
			}
			i += size
		}
	}
	return nil
}
