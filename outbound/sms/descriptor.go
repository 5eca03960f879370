package sms

import (
	"net/http"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Name is the channel's name.
const Name = "sms"

// Descriptor registers the channel: per document, to the buyer's mobile
// number, through a 46elks-shaped API whose delivery reports come back to
// the public listener.
var Descriptor = outbound.Descriptor{
	Name:    Name,
	Carries: []formats.Kind{formats.KindInvoice, formats.KindCreditNote, formats.KindReminder},
	Address: "mobile",
	Transports: []outbound.TransportSpec{{
		Name: "api",
		Required: []outbound.Key{
			outbound.KeyBaseURL,
			outbound.KeyUsername,
			outbound.KeyPasswordFile,
			{Name: "from", Help: "the sender the phone shows: 3 to 11 letters and digits starting with a letter, or an E.164 number"},
		},
		Optional: []outbound.Key{outbound.KeyCAFile},
		Reports:  "delivery reports",
		Build: func(s outbound.Setup) (outbound.Transport, error) {
			password, err := s.Secret("password_file")
			if err != nil {
				return nil, err
			}
			client, err := s.HTTPClient()
			if err != nil {
				return nil, err
			}
			return NewHTTP(Options{BaseURL: s.Settings.Get("base_url"), Username: s.Settings.Get("username"), Password: password, Client: client}), nil
		},
	}},
	Removed: map[string]string{
		"webhook_url": "removed: delivery reports now go to the public listener, and each report URL carries a key signed for its delivery; set [public] listen and base_url instead",
	},
	New: func(env outbound.Env) (outbound.Channel, error) {
		return New(Options{From: env.Settings.Get("from"), Callback: env.Callback}), nil
	},
}

// ReportHandler serves the gateway's delivery reports (see the package
// function ReportHandler) as outbound reports: a handset's confirmation,
// or a failure that sends the invoice on to its next channel.
func (*Channel) ReportHandler(apply func(outbound.Report) error) http.Handler {
	return ReportHandler(func(rep Report) error { return apply(rep.Outbound()) })
}

// Outbound is the report in the gateway's terms.
func (rep Report) Outbound() outbound.Report {
	res := outbound.Result{Key: rep.Key, Ref: rep.ID}
	switch rep.Status {
	case StatusDelivered:
		res.Outcome, res.Reason = outbound.Confirmed, "the handset confirmed delivery"
		if !rep.Delivered.IsZero() {
			res.Reason += " " + rep.Delivered.Format(time.RFC3339)
		}
	case StatusFailed:
		res.Outcome, res.Reason = outbound.Failed, "the SMS gateway reports the message was not delivered to the handset"
	default:
		res.Outcome, res.Reason = outbound.Pending, "the SMS gateway took the message"
	}
	return outbound.Report{Results: []outbound.Result{res}}
}
