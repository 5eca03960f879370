package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// disputes records the by of each dispute it is asked for.
type disputes struct {
	parts
	by []string
}

func (d *disputes) Remind(string, formats.Date, bool) (*api.ReminderPlan, error) { return nil, nil }
func (d *disputes) Export(string, formats.Date, bool) ([]byte, int, error)       { return nil, 0, nil }
func (d *disputes) Page(string, uint64, int) (*api.EventPage, error)             { return &api.EventPage{}, nil }
func (d *disputes) Replay(string, uint64) error                                  { return nil }
func (d *disputes) Dispute(id, by, why string, clear bool) (*store.Doc, error) {
	d.by = append(d.by, by)
	return &store.Doc{ID: id}, nil
}

// A dispute is recorded as the credential vouches for it, beside the name
// the client gives, and with no name at all still as who sent it. On the
// old code a dispute without "by" was recorded as nobody.
func TestDisputeRecordsWhoDidIt(t *testing.T) {
	d := &disputes{}
	s, _, token := testServer(t, func(_ *config.Config, o *Options) { o.Dunning, o.Events = d, d })
	for _, body := range []string{`{"why": "wrong meter reading"}`, `{"by": "anna", "why": "wrong meter reading"}`} {
		if code, out := call(t, nil, "POST", base(s)+"/api/v1/docs/F0000001-0000000/dispute", bearer(token, "Content-Type", "application/json"), body); code != http.StatusOK {
			t.Fatalf("dispute %s: %d %s", body, code, out)
		}
	}
	if len(d.by) != 2 || !strings.HasPrefix(d.by[0], "bearer token from 127.0.0.1:") || !strings.HasPrefix(d.by[1], "anna (bearer token from 127.0.0.1:") {
		t.Errorf("recorded as %q", d.by)
	}
}
