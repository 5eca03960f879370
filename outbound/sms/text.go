package sms

import "strings"

// GSM 03.38's default alphabet. The basic table holds Swedish å ä ö (and
// é, ü, Ø, Æ) at one septet each; the extension table's characters take an
// escape plus the character, two septets. Any other character (a no-break
// space, ê, á, an emoji) makes the whole text UCS-2.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

// Units per SMS: 140 octets hold 160 septets or 70 UCS-2 code units; a part
// of a concatenated SMS loses 6 octets to its header (153 and 67).
const (
	gsmSingle, gsmPart   = 160, 153
	ucs2Single, ucs2Part = 70, 67
)

// septets is the GSM-7 length of r, 0 when r is not in GSM-7.
func septets(r rune) int {
	switch {
	case strings.ContainsRune(gsmBasic, r):
		return 1
	case strings.ContainsRune(gsmExtension, r):
		return 2
	}
	return 0
}

// Split cuts text into the parts a phone network carries it in and reports
// whether it needs UCS-2. A text within one SMS is one part. A character is
// never cut between parts: not an escaped GSM-7 character, nor a UCS-2
// surrogate pair (an emoji), since a phone would show garbage for either.
// The gateway concatenates the parts itself; Split is for counting and for
// showing where the breaks fall.
func Split(text string) (parts []string, ucs2 bool) {
	for _, r := range text {
		if septets(r) == 0 {
			ucs2 = true
			break
		}
	}
	size := func(r rune) int {
		if !ucs2 {
			return septets(r)
		}
		if r > 0xFFFF {
			return 2
		}
		return 1
	}
	single, part := gsmSingle, gsmPart
	if ucs2 {
		single, part = ucs2Single, ucs2Part
	}
	total := 0
	for _, r := range text {
		total += size(r)
	}
	if total <= single {
		return []string{text}, ucs2
	}
	start, used := 0, 0
	for i, r := range text {
		if n := size(r); used+n > part {
			parts = append(parts, text[start:i])
			start, used = i, n
		} else {
			used += n
		}
	}
	return append(parts, text[start:]), ucs2
}
