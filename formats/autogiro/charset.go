package autogiro

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// The character set (manual 6.1.4, "Teckenstandard"): files are ASCII,
// ISO-8859-1 recommended, with CR LF ending each 80-character record. A
// text field can therefore hold Swedish letters (å ä ö é ü) but not what
// an ERP or a word processor often puts into an invoice number: an en
// dash, typographic quotes, a euro sign. formats.Latin1 folds those.

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
