package errkind

import (
	"errors"
	"fmt"
	"testing"
)

func TestKinds(t *testing.T) {
	base := errors.New("disk full")
	cases := []struct {
		name string
		err  error
		want Kind
		msg  string
	}{
		{"nil", nil, Internal, ""},
		{"unmarked", base, Internal, "disk full"},
		{"New", New(Conflict, "document %s is %s", "F1-1", "queued"), Conflict, "document F1-1 is queued"},
		{"Wrap", Wrap(Unavailable, base), Unavailable, "disk full"},
		{"a Kind wrapped with %w", fmt.Errorf("%w: no tenant %q", NotFound, "acme"), NotFound, `not found: no tenant "acme"`},
		{"a mark wrapped again", fmt.Errorf("erasing: %w", New(Invalid, "bad key %q", "x")), Invalid, `erasing: bad key "x"`},
		{"the outer mark wins", Wrap(Conflict, fmt.Errorf("%w: gone", NotFound)), Conflict, "not found: gone"},
	}
	for _, c := range cases {
		if got := Of(c.err); got != c.want {
			t.Errorf("%s: Of = %v, want %v", c.name, got, c.want)
		}
		if c.err == nil {
			continue
		}
		if c.err.Error() != c.msg {
			t.Errorf("%s: message %q, want %q", c.name, c.err.Error(), c.msg)
		}
		if c.want != Internal && !errors.Is(c.err, c.want) {
			t.Errorf("%s: errors.Is(err, %v) = false", c.name, c.want)
		}
		for _, other := range []Kind{NotFound, Invalid, Conflict, Unavailable} {
			if other != c.want && other != NotFound && errors.Is(c.err, other) {
				t.Errorf("%s: errors.Is(err, %v) = true", c.name, other)
			}
		}
	}
	if !errors.Is(Wrap(Internal, base), base) {
		t.Error("Wrap lost the chain")
	}
	if Wrap(Invalid, nil) != nil {
		t.Error("Wrap(nil) is not nil")
	}
}
