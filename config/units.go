package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// UnmarshalText reads a duration in time.ParseDuration's syntax ("2s",
// "1m30s", "72h"), with whole days in front as "d" ("90d", "1d12h"):
// retention periods are counted in days.
func (d *Duration) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	var days int64
	if i := strings.IndexByte(text, 'd'); i > 0 {
		n, err := strconv.ParseInt(text[:i], 10, 64)
		if err == nil && n >= 0 && n <= math.MaxInt64/int64(24*time.Hour) {
			days, text = n, text[i+1:]
			if text == "" {
				text = "0s"
			}
		}
	}
	v, err := time.ParseDuration(text)
	if err != nil || days > 0 && v < 0 {
		return fmt.Errorf("duration %q: write a number with a unit, like \"2s\", \"10m\", \"72h\" or \"90d\"", b)
	}
	*d = Duration(time.Duration(days)*24*time.Hour + v)
	return nil
}

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the duration as time.Duration.String does.
func (d Duration) String() string { return time.Duration(d).String() }

// byteUnits are the suffixes ByteSize accepts, matched without regard to
// case. The binary units come first so that "KiB" is not read as "K" + "iB".
var byteUnits = []struct {
	suffix string
	n      int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
	{"B", 1},
}

// UnmarshalText reads a size: a number of bytes ("1024") or a whole number
// with a unit ("256MiB", "1GiB", "10MB"). KiB, MiB, GiB and TiB are powers
// of 1024; KB, MB, GB and TB powers of 1000.
func (s *ByteSize) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	num, mult := text, int64(1)
	for _, u := range byteUnits {
		if len(text) > len(u.suffix) && strings.EqualFold(text[len(text)-len(u.suffix):], u.suffix) {
			num, mult = strings.TrimSpace(text[:len(text)-len(u.suffix)]), u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<63-1)/mult {
		return fmt.Errorf("size %q: write a whole number of bytes or one with a unit, like \"256MiB\", \"1GiB\" or \"10MB\"", text)
	}
	*s = ByteSize(n * mult)
	return nil
}

// MarshalText writes the size with the largest binary unit that divides it
// exactly ("1GiB"), or as a plain number of bytes.
func (s ByteSize) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// String returns the size as MarshalText writes it.
func (s ByteSize) String() string {
	n := int64(s)
	for _, u := range byteUnits[:4] {
		if n != 0 && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
