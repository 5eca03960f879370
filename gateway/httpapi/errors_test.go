package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/multikanal/multikanal/gateway/deliver"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/upkeep"
)

// Every error the parts return has a kind, and the kind alone decides the
// status code: statusOf is the only mapping.
func TestStatusOfKinds(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("document F1-1 %w", store.ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("%w: document F1-1 is queued", deliver.ErrNotRetryable), http.StatusConflict},
		{fmt.Errorf("%w: say why", deliver.ErrBadAck), http.StatusBadRequest},
		{fmt.Errorf("%w: by and reason", deliver.ErrBadResend), http.StatusBadRequest},
		{fmt.Errorf("%w: x", upkeep.ErrBadKey), http.StatusBadRequest},
		{fmt.Errorf("compacting: %w", store.ErrNoSpace), http.StatusServiceUnavailable},
		{errors.New("the store is damaged"), http.StatusInternalServerError},
	} {
		if got := statusOf(c.err); got != c.want {
			t.Errorf("%v (%v): %d, want %d", c.err, errkind.Of(c.err), got, c.want)
		}
	}
}
