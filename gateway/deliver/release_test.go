package deliver

import (
	"context"
	"testing"

	"github.com/multikanal/multikanal/outbound"
)

type keepsBody struct{}

func (keepsBody) Send(context.Context, outbound.Message) (outbound.Sent, error) {
	return outbound.Sent{}, nil
}

type finishesBody struct{ keepsBody }

func (finishesBody) FinishesBody() {}

// A body goes back to its channel only from a transport that is done with
// it when Send returns; one that may still read it (net/http) keeps it.
func TestReleaseBodyOnlyForFinishers(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    outbound.Transport
		want int
	}{{"finisher", finishesBody{}, 1}, {"may keep the body", keepsBody{}, 0}} {
		released := 0
		releaseBody(tc.t, outbound.Message{Body: []byte("x"), Release: func() { released++ }})
		if released != tc.want {
			t.Errorf("%s: released %d times, want %d", tc.name, released, tc.want)
		}
	}
	releaseBody(finishesBody{}, outbound.Message{Body: []byte("x")}) // no Release: nothing to do
}
