package formats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// Amounts and dates are written without fmt, the same text as the
// formats they had: "%d.%02d" with a sign, "%04d-%02d-%02d".
func TestAmountAndDateTextAsBefore(t *testing.T) {
	amount := func(a Amount) string {
		u := uint64(a)
		if a < 0 {
			u = uint64(-a)
			return "-" + fmt.Sprintf("%d.%02d", u/100, u%100)
		}
		return fmt.Sprintf("%d.%02d", u/100, u%100)
	}
	r := rand.New(rand.NewPCG(1, 2))
	cases := []Amount{0, 1, 9, 10, 99, 100, 101, -1, -99, -100, -101, 31000, -123456789, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for range 10000 {
		cases = append(cases, Amount(r.Int64N(1e12)-5e11), Amount(r.Int64()))
	}
	for _, a := range cases {
		if got, want := a.String(), amount(a); got != want {
			t.Fatalf("Amount(%d).String() = %q, want %q", int64(a), got, want)
		}
	}
	dates := []Date{{2026, 12, 7}, {1, 1, 1}, {999, 9, 9}, {9999, 12, 31}, {10000, 1, 1}, {-1, 1, 1}, {2026, 0, 5}, {2026, 13, 40}, {2026, 100, 1}, {2026, 1, 100}}
	for range 10000 {
		dates = append(dates, Date{r.IntN(12000) - 1000, time.Month(r.IntN(14)), r.IntN(33)})
	}
	for _, d := range dates {
		want := ""
		if !d.IsZero() {
			want = fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
		}
		if got := d.String(); got != want {
			t.Fatalf("%#v.String() = %q, want %q", d, got, want)
		}
	}
}
