package deliver

import (
	"testing"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/outbound/channels"
)

func TestNextScheduledCutoff(t *testing.T) {
	cfg := config.Default(t.TempDir(), channels.All())
	cfg.ChannelConfig("print").Cutoff = config.Cutoff{Times: []string{"06:00", "14:00"}}
	cfg.ChannelConfig("efaktura").Cutoff = config.Cutoff{Times: []string{"14:00"}}
	lanes := Lanes{}
	for _, name := range []string{"print", "efaktura", "email", "autogiro"} {
		lanes[name] = &Lane{name: name}
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.Local)
	next, channels := nextScheduledCutoff(cfg, lanes, now)
	if want := time.Date(2026, 11, 27, 14, 0, 0, 0, time.Local); !next.Equal(want) || !channels["print"] || !channels["efaktura"] || len(channels) != 2 {
		t.Errorf("next cut-off %v %v, want %v for print and efaktura", next, channels, want)
	}
	next, channels = nextScheduledCutoff(cfg, lanes, time.Date(2026, 11, 27, 15, 0, 0, 0, time.Local))
	if want := time.Date(2026, 11, 28, 6, 0, 0, 0, time.Local); !next.Equal(want) || !channels["print"] || len(channels) != 1 {
		t.Errorf("after 14:00: %v %v, want %v for print", next, channels, want)
	}
}
