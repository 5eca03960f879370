package autogiro

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Sealing follows Bankgirot's "Förändringsskydd med sigill – Teknisk
// manual" (March 2014), HMAC method, delivery seal (leveranssigill):
//
//   - The sealed file is a seal opening record TK00 ("00", date YYMMDD,
//     "HMAC", blanks to 80), the content, and a seal closing record TK99
//     ("99", the same date, the key verification value in positions 9–40,
//     the seal in 41–72, blanks to 80).
//   - The seal is computed over everything from TK00 up to (not including)
//     TK99. Bankgirot's test page computes it without TK00, which is why
//     the test tools of others have an "exclude opening post" switch; a real
//     delivery includes it.
//   - Before computing, the bytes are normalised: CR and LF are removed;
//     É Ä Ö Å Ü é ä ö å ü (ISO-8859-1) become @ [ \ ] ^ ` { | } ~; every
//     other byte outside 32–126 becomes 195.
//   - The seal is HMAC-SHA256 with the 128-bit key, cut to its first 128
//     bits and written as 32 upper-case hexadecimal digits.
//   - The key verification value is the same computation over the eight
//     characters "00000000"; it lets Bankgirot tell a wrong key from a
//     changed file.
//
// Bankgirot's published checks: the test key 1234567890ABCDEF1234567890ABCDEF
// gives the key verification value FF365893D899291C3BF505FB3175E880, and the
// lines "00000", "0000", "000", "00", "0" give 9BA94363739D45256DF4B6FA3B9DE1CD.

const sealTK00Mark = "HMAC"

// TestSealKey is the seal key Bankgirot publishes for testing: a file
// sealed with it is a test file, which Bankgirot takes only in its
// customer test (dataset names BFEP.IAGZZ, UploadName).
const TestSealKey = "1234567890ABCDEF1234567890ABCDEF"

// normalised maps each ISO-8859-1 byte to what the seal is computed over;
// -1 drops the byte.
var normalised = func() (t [256]int) {
	for i := range t {
		switch {
		case i == '\r' || i == '\n':
			t[i] = -1
		case i >= 32 && i <= 126:
			t[i] = i
		default:
			t[i] = 195
		}
	}
	for from, to := range map[byte]byte{0xC9: '@', 0xC4: '[', 0xD6: '\\', 0xC5: ']', 0xDC: '^', 0xE9: '`', 0xE4: '{', 0xF6: '|', 0xE5: '}', 0xFC: '~'} {
		t[from] = int(to)
	}
	return t
}()

// mac computes the 32-hex-digit seal of data with key.
func mac(key, data []byte) string {
	h := hmac.New(sha256.New, key)
	var buf [4096]byte
	n := 0
	for _, c := range data {
		if v := normalised[c]; v >= 0 {
			buf[n] = byte(v)
			n++
			if n == len(buf) {
				h.Write(buf[:n])
				n = 0
			}
		}
	}
	h.Write(buf[:n])
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)[:16]))
}

// parseKey reads a seal key: 32 hexadecimal digits, 128 bits.
func parseKey(keyHex string) ([]byte, error) {
	keyHex = strings.TrimSpace(keyHex)
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != 16 {
		return nil, &Error{Rule: RuleKey, Msg: "a seal key is 32 hexadecimal digits (128 bits), as Bankgirot issues it"}
	}
	return key, nil
}

// KVV returns the key verification value (kontrollvärde för nyckel) of a
// seal key: the seal of "00000000". Bankgirot checks it to tell a wrong key
// from a changed file, and a biller can compare it with the value Bankgirot
// sent with the key.
func KVV(keyHex string) (string, error) {
	key, err := parseKey(keyHex)
	if err != nil {
		return "", err
	}
	return mac(key, []byte("00000000")), nil
}

// Seal returns content wrapped in a seal opening record TK00 and a seal
// closing record TK99 with the key verification value and the seal, dated
// date (YYMMDD). content is the file as it will be sent (ISO-8859-1, CRLF);
// a missing final line end is added. A file that is sealed already is
// refused: a second seal would hide the first from Bankgirot.
func Seal(content []byte, keyHex string, date time.Time) ([]byte, error) {
	key, err := parseKey(keyHex)
	if err != nil {
		return nil, err
	}
	if isTK00(content) {
		return nil, &Error{Line: 1, Rule: RuleSeal, Msg: "the file is sealed already (it starts with a TK00 seal record)"}
	}
	day := date.Format("060102")
	var b bytes.Buffer
	b.Grow(len(content) + 2*(RecordLen+2) + 2)
	b.WriteString(padRecord("00" + day + sealTK00Mark))
	b.Write(content)
	if len(content) > 0 && content[len(content)-1] != '\n' {
		b.WriteString("\r\n")
	}
	seal := mac(key, b.Bytes())
	b.WriteString(padRecord("99" + day + mac(key, []byte("00000000")) + seal))
	return b.Bytes(), nil
}

func padRecord(s string) string { return s + strings.Repeat(" ", RecordLen-len(s)) + "\r\n" }

func isTK00(b []byte) bool {
	return len(b) >= 12 && string(b[:2]) == "00" && isDigits(b[2:8]) && string(b[8:12]) == sealTK00Mark
}

// VerifySeal checks a sealed file: the TK00 and TK99 records are where and
// what they should be, the key verification value is that of keyHex (else
// the wrong key was used), and the seal matches the content.
func VerifySeal(sealed []byte, keyHex string) error {
	key, err := parseKey(keyHex)
	if err != nil {
		return err
	}
	if !isTK00(sealed) {
		return &Error{Line: 1, Rule: RuleSeal, Msg: "no seal opening record: a sealed file starts with 00YYMMDDHMAC"}
	}
	body := bytes.TrimRight(sealed, "\r\n")
	cut := bytes.LastIndexByte(body, '\n') + 1
	last := bytes.TrimRight(body[cut:], " \r")
	lineNo := bytes.Count(body[:cut], []byte{'\n'}) + 1
	if cut == 0 || len(last) != 72 || string(last[:2]) != "99" {
		return &Error{Line: lineNo, Rule: RuleSeal, Msg: "no seal closing record: a sealed file ends with 99, the date, the key verification value and the seal"}
	}
	if string(last[2:8]) != string(sealed[2:8]) {
		return &Error{Line: lineNo, Rule: RuleSeal, Msg: fmt.Sprintf("seal date %s differs from the opening record's %s", last[2:8], sealed[2:8])}
	}
	if kvv := mac(key, []byte("00000000")); string(last[8:40]) != kvv {
		return &Error{Line: lineNo, Rule: RuleKey, Msg: fmt.Sprintf("the file was sealed with another key (key verification value %s, this key's is %s)", last[8:40], kvv)}
	}
	if !hmac.Equal(last[40:72], []byte(mac(key, sealed[:cut]))) {
		return &Error{Line: lineNo, Rule: RuleSeal, Msg: "the seal does not match: the file was changed after it was sealed"}
	}
	return nil
}
