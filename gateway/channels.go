package gateway

import (
	"fmt"
	"path/filepath"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/efaktura"
	"github.com/multikanal/multikanal/outbound/email"
	"github.com/multikanal/multikanal/outbound/kivra"
	"github.com/multikanal/multikanal/outbound/peppol"
	"github.com/multikanal/multikanal/outbound/print"
	"github.com/multikanal/multikanal/outbound/sms"
	"github.com/multikanal/multikanal/outbound/spool"
)

// Readers are the input formats, asked in this order to recognise a file.
// A new format is one line here.
var Readers = []formats.Reader{ubl.Format{}}

// Channels are the distribution channels. A new channel is one line here.
func Channels() []outbound.Channel {
	return []outbound.Channel{peppol.New(), efaktura.New(), kivra.New(), email.New(), sms.New(), print.New()}
}

// lane is a channel with the transport its configuration chose.
type lane struct {
	ch        outbound.Channel
	transport outbound.Transport
	doc       outbound.DocumentRenderer // per-document channels
	batch     outbound.BatchRenderer    // batch channels
	cfg       config.Channel
}

func (l *lane) name() string { return l.ch.Name() }

// buildLanes composes each channel with its configured transport.
func buildLanes(cfg *config.Config) (map[string]*lane, error) {
	lanes := map[string]*lane{}
	for _, ch := range Channels() {
		cc := cfg.ChannelConfig(ch.Name())
		if cc == nil {
			return nil, fmt.Errorf("channel %s has no configuration", ch.Name())
		}
		l := &lane{ch: ch, cfg: *cc}
		l.doc, _ = ch.(outbound.DocumentRenderer)
		l.batch, _ = ch.(outbound.BatchRenderer)
		if l.doc == nil && l.batch == nil {
			return nil, fmt.Errorf("channel %s renders neither documents nor batches", ch.Name())
		}
		switch cc.Transport {
		case "", "spool":
			sp, err := spool.New(filepath.Join(cfg.DataDir, "outbox", ch.Name()))
			if err != nil {
				return nil, err
			}
			l.transport = sp
		default:
			return nil, fmt.Errorf("channel.%s.transport: %q is not available in this build yet; use \"spool\"", ch.Name(), cc.Transport)
		}
		lanes[ch.Name()] = l
	}
	return lanes, nil
}
