package finvoice

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// The character set (implementation guidelines, section 9.3): Finvoice
// messages are ISO-8859-15 ("Latin-9"), and banks check that the bytes
// are, not only the declaration. Latin-9 has the euro sign and Š š Ž ž Œ œ
// Ÿ that ISO-8859-1 lacks, and lacks ¤ ¦ ¨ ´ ¸ ¼ ½ ¾ that ISO-8859-1 has.

// latin9Equivalents are characters outside ISO-8859-15 with a plain
// equivalent inside it: what word processors and ERPs put into texts.
var latin9Equivalents = map[rune]string{
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-",
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '‹': "<", '›': ">",
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`,
	'…': "...", '•': "*", '⁄': "/", '™': "TM",
	'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ı': "i",
	'¤': "", '¦': "|", '¨': "", '´': "'", '¸': "", '¼': "1/4", '½': "1/2", '¾': "3/4",
}

// latin9 returns s as an ISO-8859-15 text can hold it: every character of
// the set as it is, tabs and line ends as spaces, the characters the set
// lacks as their nearest equivalent (typographic dashes and quotes, a
// letter whose mark the set lacks without the mark: "Č" becomes "C").
// Zero-width characters are dropped. A character with no equivalent (a
// control character, a Chinese character, an emoji) is an error naming it,
// so nothing is changed beyond recognition without a word.
func latin9(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return "", fmt.Errorf("byte 0x%02x at byte %d is not UTF-8 text", s[i], i+1)
		case r == '\u00a0' || unicode.IsSpace(r):
			b.WriteByte(' ')
		case r == '\u00ad' || r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\u2060' || r == '\ufeff':
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			return "", fmt.Errorf("control character U+%04X at character %d", r, utf8.RuneCountInString(s[:i])+1)
		case inLatin9(r):
			b.WriteRune(r)
		default:
			if eq, ok := latin9Equivalents[r]; ok {
				b.WriteString(eq)
				continue
			}
			base, ok := withoutMarks(r)
			if !ok {
				return "", fmt.Errorf("%q (U+%04X) at character %d has no ISO-8859-15 equivalent", r, r, utf8.RuneCountInString(s[:i])+1)
			}
			b.WriteString(base)
		}
	}
	return b.String(), nil
}

func inLatin9(r rune) bool {
	_, ok := charmap.ISO8859_15.EncodeRune(r)
	return ok
}

// withoutMarks decomposes r and keeps its base letters if they are all in
// ISO-8859-15.
func withoutMarks(r rune) (string, bool) {
	var b strings.Builder
	for _, c := range norm.NFD.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, c):
		case inLatin9(c) && c >= 0x20:
			b.WriteRune(c)
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}
