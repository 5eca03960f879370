package avtalegiro

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse, seeded with the example files
// and the golden claim file. Parse must never panic and must return a
// transmission or an *Error, never both or neither; what it reads, the
// writer either refuses with an *Error or writes as a file that parses to
// a fixed point (parse, write, parse, write, parse gives the same twice),
// keeping every KID and amount.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(exampleDir, "*.txt"))
	files = append(files, filepath.Join("testdata", "claims.golden"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		one, err := Parse(bytes.NewReader(b))
		Sniff(b)
		if err != nil {
			var e *Error
			if one != nil || !errors.As(err, &e) {
				t.Fatalf("Parse = %v, %v", one, err)
			}
			return
		}
		if one == nil {
			t.Fatal("Parse returned neither a transmission nor an error")
		}
		two := rewrite(t, one)
		if two == nil {
			return
		}
		for i := range one.Assignments {
			x, y := one.Assignments[i], two.Assignments[i]
			for j := range x.Claims {
				if x.Claims[j].KID != y.Claims[j].KID || x.Claims[j].Amount != y.Claims[j].Amount || x.Claims[j].Due != y.Claims[j].Due {
					t.Fatalf("claim %d of assignment %d changed: %+v, %+v", j+1, i+1, x.Claims[j], y.Claims[j])
				}
			}
			for j := range x.Payments {
				if x.Payments[j].KID != y.Payments[j].KID || x.Payments[j].Amount != y.Payments[j].Amount {
					t.Fatalf("payment %d of assignment %d changed", j+1, i+1)
				}
			}
		}
		if three := rewrite(t, two); !reflect.DeepEqual(two, three) {
			t.Fatalf("no fixed point:\n%+v\n%+v", two, three)
		}
	})
}

// rewrite writes a parsed transmission and parses the result; nil when
// the writer refuses it (with an *Error, as it must).
func rewrite(t *testing.T, tr *Transmission) *Transmission {
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		var e *Error
		if !errors.As(err, &e) || b.Len() != 0 {
			t.Fatalf("WriteTo = %v with %d bytes", err, b.Len())
		}
		return nil
	}
	back, err := Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("a written file does not parse: %v\n%s", err, b.Bytes())
	}
	return back
}
