package formats

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// The Nordic bank files are 8-bit text: Bankgirot's AutoGiro files and
// Nets' AvtaleGiro files ISO-8859-1, Finvoice ISO-8859-15 ("Latin-9", which
// has the euro sign and Š š Ž ž Œ œ Ÿ and lacks ¤ ¦ ¨ ´ ¸ ¼ ½ ¾). What an
// ERP puts into an invoice often is not: an en dash, typographic quotes, a
// euro sign, a Polish or Czech name. Latin1 and Latin9 keep what the set
// holds and write the rest as its nearest equivalent, so one invoice number
// with an en dash does not sink a bank file, and refuse, naming it, what
// has none, so nothing changes beyond recognition without a word.

// equivalents are characters that a set may lack, with their nearest
// equivalent in plain ISO-8859-1 / ISO-8859-15 text. A set that holds the
// character keeps it: the table is asked only for what the set lacks.
var equivalents = map[rune]string{
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-", '⁃': "-",
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '‹': "<", '›': ">",
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`,
	'…': "...", '•': "*", '⁄': "/", '€': "EUR", '™': "TM",
	'œ': "oe", 'Œ': "OE", 'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ı': "i", 'ŀ': "l", 'Ŀ': "L",
	// In ISO-8859-1 but not in ISO-8859-15.
	'¤': "", '¦': "|", '¨': "", '´': "'", '¸': "", '¼': "1/4", '½': "1/2", '¾': "3/4",
}

// Latin1 returns s as an ISO-8859-1 text field can hold it: every character
// of the set as it is, a no-break space, tabs and line ends as a space, the
// characters the set lacks as their nearest equivalent (dashes "-",
// typographic quotes ' and ", "…" "...", "€" "EUR"; a letter whose mark the
// set lacks without the mark: "Č" becomes "C"). Zero-width characters and
// soft hyphens are dropped. A control character, or one with no equivalent
// (a Chinese character, an emoji), is an error naming it and where it is.
func Latin1(s string) (string, error) {
	return fold(s, "ISO-8859-1", func(r rune) bool { return r <= 0xff })
}

// Latin9 is Latin1 for ISO-8859-15.
func Latin9(s string) (string, error) {
	return fold(s, "ISO-8859-15", func(r rune) bool { _, ok := charmap.ISO8859_15.EncodeRune(r); return ok })
}

func fold(s, set string, in func(rune) bool) (string, error) {
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
		case in(r):
			b.WriteRune(r)
		default:
			if eq, ok := equivalents[r]; ok {
				b.WriteString(eq)
				continue
			}
			base, ok := withoutMarks(r, in)
			if !ok {
				return "", fmt.Errorf("%q (U+%04X) at character %d has no %s equivalent", r, r, utf8.RuneCountInString(s[:i])+1, set)
			}
			b.WriteString(base)
		}
	}
	return b.String(), nil
}

// withoutMarks returns a letter with its diacritical marks removed, when
// what is left is in the set: the canonical decomposition of "Č" is "C" and
// a caron.
func withoutMarks(r rune, in func(rune) bool) (string, bool) {
	var base []rune
	for _, d := range norm.NFD.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, d):
		case d >= 0x20 && d != 0x7f && in(d):
			base = append(base, d)
		default:
			return "", false
		}
	}
	return string(base), len(base) > 0
}

// EncodeLatin1 returns the ISO-8859-1 bytes of s, whose every character
// must be in the set (what Latin1 returns); others become '?'.
func EncodeLatin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return out
}

// DecodeLatin1 reads ISO-8859-1 bytes as text.
func DecodeLatin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
